r"""Flow Matching onto the exact marginal field of a reference set, registered as ``fm``.

$L_{\mathrm{FM}} = \mathbb{E}_{t,\, x_t \sim p_t}\, w(t) \lVert v(t, x_t) - u_t(x_t) \rVert^2 / D$ where $u_t$ is the
marginal field of the empirical distribution $q = \frac{1}{n} \sum_i \delta(x_1^{(i)})$ of the ``reference`` points:
$u_t(x) = \sum_i w_i(x)\, u_t(x \mid x_1^{(i)})$, $w = \operatorname{softmax}_i \log p_t(x \mid x_1^{(i)})$
(:meth:`flowkit.paths.GaussianPath.marginal_vector_field`). This is the paper's FM objective
made computable for a finite data set: with $x_1$ drawn from the reference set and the
independent coupling, $x_t \sim p_t$ and the gradient equals the CFM gradient in expectation.
Each loss costs $O(\mathrm{batch} \cdot n \cdot D)$ for $n$ reference points.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol, cast

import torch
from torch import Tensor

from flowkit.core.capabilities import MARGINAL_FIELD
from flowkit.core.coupling import Coupling
from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.exceptions import InvalidParameterError, ParameterTypeError
from flowkit.objectives.regression import RegressionObjective
from flowkit.validation import require_int, short_repr

__all__ = ["FlowMatching"]


class _MarginalFieldPath(Protocol):
    """A path with :data:`~flowkit.core.capabilities.MARGINAL_FIELD` (``path_requirements`` checks it)."""

    def marginal_vector_field(self, *, x: Tensor, t: Tensor, data: Tensor, chunk_size: int | None = None) -> Tensor: ...


class FlowMatching(RegressionObjective):
    """Regresses onto the marginal field of ``reference`` (a Gaussian path is required).

    Parameters (beyond :class:`~flowkit.objectives.regression.RegressionObjective`'s):
        reference: ``[n, *dims]`` data points defining the empirical $q$ (the training set or a
            large reference batch); moved to each batch's device and dtype.
        chunk_size: reference points per chunk of the marginal computation (``None``: automatic).

    With a non-independent coupling the points $x_t$ follow the coupled path while the target
    stays the independent-coupling marginal field; use the ``independent`` coupling for the
    paper's objective.
    """

    path_requirements = (*RegressionObjective.path_requirements, MARGINAL_FIELD)

    def __init__(
        self,
        reference: Tensor,
        *,
        path: ProbabilityPath | None = None,
        coupling: Coupling | None = None,
        time_distribution: str = "uniform",
        logit_normal_mean: float = 0.0,
        logit_normal_std: float = 1.0,
        weighting: Callable[[Tensor], Tensor] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        super().__init__(
            path=path,
            coupling=coupling,
            time_distribution=time_distribution,
            logit_normal_mean=logit_normal_mean,
            logit_normal_std=logit_normal_std,
            weighting=weighting,
        )
        if not isinstance(reference, Tensor) or not reference.is_floating_point() or reference.dim() < 2:
            raise ParameterTypeError(
                f"reference must be a floating-point tensor [n, *dims], got {short_repr(reference)}"
            )
        if reference.shape[0] == 0:
            raise InvalidParameterError(f"reference must hold at least one data point, got {short_repr(reference)}")
        if not bool(torch.isfinite(reference).all()):
            raise InvalidParameterError("reference must be finite (it contains NaN or infinite values)")
        self.reference = reference
        self.chunk_size = require_int("chunk_size", chunk_size, minimum=1, optional=True)
        self._moved = reference

    def _reference_like(self, x: Tensor) -> Tensor:
        if self._moved.device != x.device or self._moved.dtype != x.dtype:
            self._moved = self.reference.to(device=x.device, dtype=x.dtype)
        return self._moved

    def target(self, sample: PathSample) -> Tensor:
        """``path.marginal_vector_field(x=x_t, t=t, data=reference)``, without gradient."""
        with torch.no_grad():
            return cast(_MarginalFieldPath, self.path).marginal_vector_field(
                x=sample.x_t, t=sample.t, data=self._reference_like(sample.x_t), chunk_size=self.chunk_size
            )
