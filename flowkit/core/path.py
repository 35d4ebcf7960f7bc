r"""The probability-path interface: conditional paths $p_t(x \mid z)$ and their target fields.

A path connects its prior $p_0$ ($t = 0$) to the data ($t = 1$). Conditioned on a pair of
endpoints $z = (x_0, x_1)$ (most paths use only $x_1$; bridges use both) it gives a point
$x_t$ and the conditional vector field $u_t(x_t \mid z)$ that generates the conditional path,
which is the regression target of Conditional Flow Matching.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import attrs
import torch
from torch import Tensor

from flowkit.core.construction import RecordsArguments
from flowkit.core.prior import Prior


@attrs.frozen
class PathSample:
    r"""A draw from a conditional path: $x_t \sim p_t(x \mid x_0, x_1)$ and its target $u_t$.

    Shapes: ``t`` is ``[batch]``; ``x0``, ``x1``, ``x_t``, ``u_t`` are ``[batch, *dims]``.
    """

    t: Tensor
    x0: Tensor
    x1: Tensor
    x_t: Tensor
    u_t: Tensor


class ProbabilityPath(RecordsArguments, ABC):
    r"""A family of conditional probability paths with a common prior $p_0$.

    Subclasses implement :attr:`prior` and :meth:`sample`. Gaussian paths
    ($x_t = a(t)\, x_1 + s(t)\, \varepsilon$, $\varepsilon = x_0 / \sigma_0$) also provide the conditional and marginal
    fields; see :class:`flowkit.paths.GaussianPath`.

    :attr:`time_range` is the closed interval of times at which the path's target field is
    finite; objectives draw training times inside it (e.g. VP's field is singular at $t = 1$).
    """

    time_range: tuple[float, float] = (0.0, 1.0)

    @property
    @abstractmethod
    def prior(self) -> Prior:
        """The source distribution ``p0`` at t = 0."""

    @abstractmethod
    def sample(self, *, x0: Tensor, x1: Tensor, t: Tensor, generator: torch.Generator | None = None) -> PathSample:
        r"""Draw $x_t \sim p_t(x \mid x_0, x_1)$ at times ``t`` and return it with $u_t(x_t \mid x_0, x_1)$.

        ``x0`` is a draw from :attr:`prior`, ``x1`` a data batch, ``t`` has shape ``[batch]``.
        ``generator`` seeds any extra noise the path injects (deterministic paths ignore it).
        """

    def log_prob(self, x0: Tensor) -> Tensor:
        r"""$\log p_0(x_0)$ of the path's prior, so a path can be passed wherever a prior is."""
        return self.prior.log_prob(x0)
