r"""The shared machinery of the flow-matching regression objectives (``cfm``, ``fm``).

One loss evaluation draws, in this order and all from ``generator`` on ``x1``'s device and
dtype: prior noise $x_0 \sim p_0$, the coupling's pairs $(x_0, x_1)$, and times $t$ from the time
distribution on the path's ``time_range``; then $x_t$ and the conditional target from
``path.sample``. The loss is

$$
L = \operatorname{mean}_b\, w(t_b) \operatorname{mean}_d
    \bigl(v(t_b, x_{t,b}\,[, y_b])_d - \mathrm{target}_{b,d}\bigr)^2,
$$

the squared error averaged over the $D$ event entries ($\mathbb{E} \lVert v - \mathrm{target} \rVert^2 / D$) and over
the batch, with $w = 1$ unless a ``weighting`` callable is given.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable

import torch
from torch import Tensor

from flowkit.core.capabilities import require_capabilities
from flowkit.core.coupling import Coupling
from flowkit.core.objective import Objective
from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.exceptions import ShapeError
from flowkit.objectives.time import make_time_distribution
from flowkit.shapes import Batch, Labels, Scalar, checked, shape_checks_enabled
from flowkit.validation import require_finite, require_instance

__all__ = ["RegressionObjective"]

Weighting = Callable[[Tensor], Tensor]


def _default_path() -> ProbabilityPath:
    from flowkit import registry

    return registry.create("path", "ot")


class RegressionObjective(Objective):
    """Regresses $v(t, x_t)$ onto a per-sample target; subclasses choose the target.

    Parameters:
        path: a :class:`flowkit.ProbabilityPath` (default: the registered ``ot`` path).
        coupling: a :class:`flowkit.Coupling` (default: the independent coupling).
        time_distribution: ``"uniform"`` (default) or ``"logit-normal"``.
        logit_normal_mean, logit_normal_std: the logit-normal parameters.
        weighting: ``None`` or a callable $w(t)$ mapping ``[batch]`` times to ``[batch]`` weights.
    """

    accepts_paired_sources = True

    def __init__(
        self,
        *,
        path: ProbabilityPath | None = None,
        coupling: Coupling | None = None,
        time_distribution: str = "uniform",
        logit_normal_mean: float = 0.0,
        logit_normal_std: float = 1.0,
        weighting: Weighting | None = None,
    ) -> None:
        if path is None:
            path = _default_path()
        require_instance(
            "path", path, ProbabilityPath, "a flowkit.ProbabilityPath (e.g. registry.create('path', 'ot'))"
        )
        require_capabilities(path, self.path_requirements, needed_by=f"objective {type(self).__name__}", role="path")
        if coupling is None:
            from flowkit.couplings import IndependentCoupling

            coupling = IndependentCoupling()
        require_instance("coupling", coupling, Coupling, "a flowkit.Coupling (e.g. registry.create('coupling', 'ot'))")
        require_instance("weighting", weighting, Callable, "a callable w(t) returning [batch] weights", optional=True)
        self.path = path
        self.coupling = coupling
        self.time_distribution = make_time_distribution(time_distribution, mean=logit_normal_mean, std=logit_normal_std)
        self.weighting = weighting
        self._prior = path.prior
        self._time_range = tuple(getattr(path, "time_range", (0.0, 1.0)))

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(path={self.path!r}, coupling={self.coupling!r}, "
            f"time_distribution={self.time_distribution!r}, weighting={self.weighting!r})"
        )

    def draw(self, x1: Tensor, generator: torch.Generator | None = None, *, x0: Tensor | None = None) -> PathSample:
        """Draw ``x0``, pair it with ``x1``, draw ``t`` and return ``path.sample(x0=, x1=, t=)``.

        A given ``x0`` is taken as already paired with ``x1``: neither the prior nor the coupling is drawn.
        """
        if x0 is None:
            x0 = self._prior.sample(x1.shape, device=x1.device, dtype=x1.dtype, generator=generator)
            x0, x1 = self.coupling.pair(x0, x1, generator=generator)
        t = self.time_distribution.sample(
            x1.shape[0], time_range=self._time_range, device=x1.device, dtype=x1.dtype, generator=generator
        )
        return self.path.sample(x0=x0, x1=x1, t=t, generator=generator)

    @abstractmethod
    def target(self, sample: PathSample) -> Tensor:
        """The regression target at ``sample.x_t`` (no gradient flows into it)."""

    @checked
    def loss(
        self,
        *,
        model: Callable[..., Tensor],
        x1: Batch,
        y: Labels | None = None,
        generator: torch.Generator | None = None,
        x0: Batch | None = None,
    ) -> Scalar:
        r"""$\operatorname{mean}_b\, w(t_b) \operatorname{mean}_d (v - \mathrm{target})^2$ on the data batch ``x1``.

        $v = v(t, x_t\,[, y])$ is the model's output, with the labels ``y`` when given.
        ``x0``: source points already paired with ``x1`` (see :meth:`draw`); drawn and paired here when ``None``.
        """
        flow, sample = self._flow_loss(model, x1, y, generator, x0=x0)
        return self._total_loss(flow, sample, model, y)

    def _total_loss(self, flow: Tensor, sample: PathSample, model: Callable[..., Tensor], y: Tensor | None) -> Tensor:
        """The loss given the regression term ``flow`` on ``sample``: ``flow``; objectives adding terms override it."""
        return flow

    def _flow_loss(
        self,
        model: Callable[..., Tensor],
        x1: Tensor,
        y: Tensor | None,
        generator: torch.Generator | None,
        *,
        x0: Tensor | None = None,
    ) -> tuple[Tensor, PathSample]:
        """The regression loss of :meth:`loss` and the path sample it was computed on."""
        if x1.dim() < 2:
            raise ShapeError(
                f"{type(self).__name__}.loss: x1 must be [batch, *dims] with at least one event dimension, "
                f"got shape {tuple(x1.shape)}"
            )
        if shape_checks_enabled():
            require_finite(f"{type(self).__name__}.loss", x1=x1)
        sample = self.draw(x1, generator, x0=x0)
        target = self.target(sample)
        v = model(sample.t, sample.x_t) if y is None else model(sample.t, sample.x_t, y)
        if v.shape != target.shape:
            raise ShapeError(
                f"{type(self).__name__}.loss: the model returned shape {tuple(v.shape)}, "
                f"expected the shape of x_t {tuple(target.shape)}"
            )
        if self.weighting is None:
            return torch.nn.functional.mse_loss(v, target), sample
        per_sample = (v - target).square().reshape(v.shape[0], -1).mean(dim=1)
        weights = self.weighting(sample.t)
        if shape_checks_enabled() and tuple(weights.shape) != (v.shape[0],):
            raise ShapeError(
                f"{type(self).__name__}.loss: weighting(t) returned shape {tuple(weights.shape)}, expected [{v.shape[0]}]"
            )
        return (weights * per_sample).mean(), sample
