r"""Exact minibatch optimal transport (Tong et al., 2023; Pooladian et al., 2023), registered as ``ot``.

Within a batch of $n$ prior draws and $n$ data points the coupling solves the assignment
problem $\min_\pi \sum_j C_{\pi(j) j}$ with $C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$ over permutations $\pi$
and returns ``(x0[pi], x1)``. With equal batch sizes and uniform weights the discrete OT problem
$\min \langle P, C \rangle$ over $P \ge 0$, $P \mathbf{1} = \mathbf{1}$, $P^\top \mathbf{1} = \mathbf{1}$ has a
permutation matrix among its optimal vertices (Birkhoff), so a vertex solution of that linear program *is* the
assignment.

Solvers (the ``solver`` parameter), all exact for the ``float64`` cost matrix:

- ``"multiscale"`` (default): POT's network simplex on a sparse set of candidate arcs, chosen
  with duals from the half-size problem and completed until a dual certificate on the dense
  matrix proves the permutation optimal (:mod:`flowkit.couplings.multiscale_ot`). Up to
  :data:`~flowkit.couplings.multiscale_ot.DENSE_BELOW` points it is the dense simplex. Above,
  measured 1.3–3.2x faster than the dense simplex at batch 2048 and 2.1–4.2x at 4096 on 2-D and
  64-D data (``benchmarks/exact_ot.py``; table in ``docs/couplings.md``).
- ``"network_simplex"``: POT's dense network simplex (:func:`ot.lp.emd`, Bonneel et al., 2011)
  on unit supplies, so the optimal vertex has entries exactly 0 or 1 and the permutation is read
  off it. The iteration cap is set far above what the solver needs; a solve that stops short of
  optimality raises :class:`flowkit.exceptions.SolverError`.
- ``"shortest_augmenting_path"``: :func:`scipy.optimize.linear_sum_assignment` (Crouse, 2016),
  as fast or faster for high-dimensional data at small batches.

The cost matrix is computed in torch on the batch's device; only the ``[n, n]`` matrix goes to
the host (pinned, ``non_blocking`` on CUDA), where the solver runs. :meth:`ExactOTCoupling.stage_cost`
and :meth:`ExactOTCoupling.solve` are the two halves, so that
:class:`flowkit.couplings.HostAssignmentPrefetcher` can solve on a worker thread while the
device trains.
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import numpy as np
import torch
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.cost import squared_distances
from flowkit.couplings.multiscale_ot import dense_assignment, multiscale_assignment
from flowkit.exceptions import NonFiniteError, ShapeError
from flowkit.shapes import Batch, checked
from flowkit.validation import field_validator, require_choice

__all__ = ["EXACT_OT_SOLVERS", "ExactOTCoupling", "StagedCost"]

EXACT_OT_SOLVERS = ("multiscale", "network_simplex", "shortest_augmenting_path")
"""The accepted values of ``ExactOTCoupling(solver=...)``."""


@attrs.frozen
class StagedCost:
    """A cost matrix on its way to the host: ``tensor`` is valid once :meth:`wait` returns.

    ``ready`` is the CUDA event recorded after the asynchronous copy into pinned memory, or
    ``None`` when the copy was synchronous (CPU and other devices).
    """

    tensor: Tensor
    ready: torch.cuda.Event | None = None

    def wait(self) -> Tensor:
        """Block the calling thread (only it) until the copy is done; return the host matrix."""
        if self.ready is not None:
            self.ready.synchronize()
        return self.tensor


def _permutation_of(column_of_row: np.ndarray) -> np.ndarray:
    """``perm[j]``: the row assigned to column ``j``, from ``column_of_row[i]``."""
    perm = np.empty(len(column_of_row), dtype=np.int64)
    perm[column_of_row] = np.arange(len(column_of_row))
    return perm


def _multiscale(cost: np.ndarray) -> np.ndarray:
    return _permutation_of(multiscale_assignment(cost))


def _network_simplex(cost: np.ndarray) -> np.ndarray:
    column_of_row, _ = dense_assignment(cost)
    return _permutation_of(column_of_row)


def _shortest_augmenting_path(cost: np.ndarray) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    _, cols = linear_sum_assignment(cost)
    return _permutation_of(cols)


_SOLVE = {
    "multiscale": _multiscale,
    "network_simplex": _network_simplex,
    "shortest_augmenting_path": _shortest_augmenting_path,
}


@attrs.frozen
class ExactOTCoupling(Coupling):
    """Re-pairs ``x0`` with ``x1`` by the permutation of least total squared distance.

    Parameters:
        solver: ``"multiscale"`` (the default), ``"network_simplex"`` (both POT) or
            ``"shortest_augmenting_path"`` (SciPy); all give an optimal permutation (see the
            module docstring).
    """

    capturable = False  # the assignment is solved on the host
    runs_on_host: ClassVar[bool] = True
    """The assignment is solved on the host CPU: a training step using it cannot be captured
    whole on the device; :class:`flowkit.couplings.HostAssignmentPrefetcher` overlaps it."""

    solver: str = attrs.field(default="multiscale", validator=field_validator(require_choice, choices=EXACT_OT_SOLVERS))

    def stage_cost(self, x0: Tensor, x1: Tensor) -> StagedCost:
        """Compute ``C`` on the batch's device and start its copy to the host (pinned, non-blocking on CUDA).

        Returns at once on CUDA; the caller's stream keeps running. ``x0`` and ``x1`` are read
        by kernels queued here, so they must not be modified in place before the copy is done.
        """
        with torch.no_grad():
            cost = squared_distances(x0, x1)
        if cost.device.type == "cuda":
            host = torch.empty(cost.shape, dtype=cost.dtype, pin_memory=True)
            host.copy_(cost, non_blocking=True)
            ready = torch.cuda.Event()
            ready.record(torch.cuda.current_stream(cost.device))
            return StagedCost(host, ready)
        return StagedCost(cost.to("cpu"))

    def solve(self, cost: Tensor) -> Tensor:
        """The optimal permutation (``[n]`` ``int64`` on the host) for a host cost matrix ``[n, n]``.

        ``perm[j]`` is the row of ``cost`` (the ``x0`` index) assigned to column ``j``. Runs in
        the calling thread and releases the GIL while the solver works.
        """
        if cost.ndim != 2 or cost.shape[0] != cost.shape[1]:
            raise ShapeError(f"exact OT needs a square cost matrix [n, n] (equal batch sizes), got {tuple(cost.shape)}")
        matrix = cost.detach().to(dtype=torch.float64).numpy()
        if not np.isfinite(matrix).all():
            raise NonFiniteError("exact OT: x0 or x1 contains NaN or infinite values (the cost matrix is not finite)")
        if matrix.shape[0] == 0:
            return torch.empty(0, dtype=torch.long)
        return torch.from_numpy(_SOLVE[self.solver](matrix))

    @checked
    def assignment(self, x0: Batch, x1: Batch) -> Tensor:
        """The optimal permutation ``pi`` (``[n]``, on ``x0``'s device): ``x0[pi[j]]`` is paired with ``x1[j]``."""
        return self.solve(self.stage_cost(x0, x1).wait()).to(x0.device)

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        """Return ``(x0[pi], x1)`` with ``pi`` from :meth:`assignment` (deterministic; ``generator`` unused)."""
        return x0[self.assignment(x0, x1)], x1
