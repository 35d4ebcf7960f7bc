"""Entropic minibatch optimal transport by log-domain Sinkhorn, registered as ``sinkhorn``.

For ``C_ij = ||x0_i - x1_j||^2`` and uniform marginals ``1/n`` (rows) and ``1/m`` (columns) the
entropic plan ``P = argmin <P, C> - eps H(P)`` is ``P_ij = exp((f_i + g_j - C_ij) / eps)``, with
potentials from the Sinkhorn updates, carried out in log space::

    f_i = -eps log n - eps logsumexp_j((g_j - C_ij) / eps)
    g_j = -eps log m - eps logsumexp_i((f_i - C_ij) / eps)

``eps = reg * mean(C)``: ``reg`` is relative to the batch's mean cost, so it does not depend on
the data scale. Iteration stops when the row marginals are within ``tol`` (L1) of uniform, or
after ``max_iter`` updates. As ``reg -> 0`` the plan tends to an exact OT plan. Pairs are drawn
from the plan column by column, ``x0`` index ``i ~ P[:, j] / sum_i P[:, j]`` for each ``x1_j``,
so ``x1`` keeps its order and ``x0`` rows may repeat. Everything runs in torch on the batch's
device.
"""

from __future__ import annotations

import math

import attrs
import torch
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.cost import squared_distances
from flowkit.shapes import Batch, checked

__all__ = ["SinkhornCoupling", "sinkhorn_log_plan"]

_CHECK_EVERY = 10


def sinkhorn_log_plan(cost: Tensor, eps: float | Tensor, *, max_iter: int, tol: float) -> Tensor:
    """``log P`` (``[n, m]``) of the entropic OT plan with uniform marginals for ``cost``, in log space."""
    n, m = cost.shape
    kernel = -cost / eps
    log_a, log_b = -math.log(n), -math.log(m)
    g = cost.new_zeros(m)
    f = cost.new_zeros(n)
    for iteration in range(1, max_iter + 1):
        f = log_a - torch.logsumexp(kernel + g[None, :], dim=1)
        g = log_b - torch.logsumexp(kernel + f[:, None], dim=0)
        if iteration % _CHECK_EVERY == 0 or iteration == max_iter:
            rows = torch.logsumexp(kernel + f[:, None] + g[None, :], dim=1).exp()
            if float((rows - 1.0 / n).abs().sum()) < tol:
                break
    return kernel + f[:, None] + g[None, :]


def _check_reg(instance, attribute, value: float) -> None:
    if not (math.isfinite(value) and value > 0):
        raise ValueError(f"reg must be a finite number > 0 (relative to the mean cost), got {value!r}")


def _check_max_iter(instance, attribute, value: int) -> None:
    if value < 1:
        raise ValueError(f"max_iter must be a positive integer, got {value!r}")


def _check_tol(instance, attribute, value: float) -> None:
    if not value > 0:
        raise ValueError(f"tol must be > 0, got {value!r}")


@attrs.frozen
class SinkhornCoupling(Coupling):
    """Draws pairs from the entropic OT plan of the batch (see the module docstring).

    Parameters:
        reg: entropic regularisation relative to the mean squared distance of the batch.
        max_iter: the most Sinkhorn updates per batch.
        tol: L1 tolerance on the row marginals.
    """

    reg: float = attrs.field(default=0.05, converter=float, validator=_check_reg)
    max_iter: int = attrs.field(default=1000, converter=int, validator=_check_max_iter)
    tol: float = attrs.field(default=1e-4, converter=float, validator=_check_tol)

    def _log_plan(self, x0: Tensor, x1: Tensor) -> Tensor:
        cost = squared_distances(x0, x1)
        eps = self.reg * cost.mean().clamp_min(torch.finfo(cost.dtype).tiny)
        return sinkhorn_log_plan(cost, eps, max_iter=self.max_iter, tol=self.tol)

    @checked
    def plan(self, x0: Batch, x1: Batch) -> Tensor:
        """The entropic OT plan ``P`` (``[n, m]``, entries summing to 1) between the two batches."""
        with torch.no_grad():
            return self._log_plan(x0, x1).exp()

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        """Return ``(x0[i], x1)`` with ``i_j ~ P[:, j]`` drawn independently per column (from ``generator``)."""
        with torch.no_grad():
            conditional = torch.softmax(self._log_plan(x0, x1).T, dim=1)
            index = torch.multinomial(conditional, 1, generator=generator).squeeze(1)
        return x0[index], x1
