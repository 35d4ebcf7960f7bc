"""The metric interface: a measurement of a trained flow, from an evaluation context."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from typing import ClassVar

import attrs
from torch import Tensor

from flowkit.core.state_space import CONTINUOUS_STATE


@attrs.frozen
class EvaluationContext:
    r"""What a metric may look at.

    ``samples``: generated points; ``reference``: held-out data of the same shape;
    ``log_prob``: the model's log-density function (nats, ``[batch]``) or ``None``;
    ``num_bins``: discrete levels per dimension for dequantised bits/dim;
    ``nfe`` and ``sampling_seconds``: the cost of drawing ``samples``;
    ``num_dims``: the dimension bits/dim divides by (``None``: the number of coordinates of a
    point; a manifold's own dimension, e.g. 2 for points on the sphere in $\mathbb{R}^3$).
    """

    samples: Tensor
    reference: Tensor
    log_prob: Callable[[Tensor], Tensor] | None = None
    num_bins: int | None = None
    nfe: int | None = None
    sampling_seconds: float | None = None
    num_dims: int | None = None


class Metric(ABC):
    """Computes named float values from an :class:`EvaluationContext`.

    ``state_spaces`` names the kinds of samples it can measure (:mod:`flowkit.core.state_space`);
    a pipeline whose path moves other states leaves the metric out.
    """

    state_spaces: ClassVar[tuple[str, ...]] = (CONTINUOUS_STATE,)

    @abstractmethod
    def __call__(self, context: EvaluationContext) -> Mapping[str, float]:
        """Return ``{metric_name: value}``; lower-is-better unless the name says otherwise."""
