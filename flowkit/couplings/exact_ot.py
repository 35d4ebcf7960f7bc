r"""Exact minibatch optimal transport (Tong et al., 2023; Pooladian et al., 2023), registered as ``ot``.

Within a batch of $n$ prior draws and $n$ data points the coupling solves the assignment
problem $\min_\pi \sum_j C_{\pi(j) j}$ with $C_{ij} = \lVert x_0^{(i)} - x_1^{(j)} \rVert^2$ over permutations $\pi$
and returns ``(x0[pi], x1)``. With equal batch sizes and uniform weights the discrete OT problem
$\min \langle P, C \rangle$ over $P \ge 0$, $P \mathbf{1} = \mathbf{1}$, $P^\top \mathbf{1} = \mathbf{1}$ has a
permutation matrix among its optimal vertices (Birkhoff), so a vertex solution of that linear program *is* the
assignment.

Solvers (the ``solver`` parameter), both exact for the ``float64`` cost matrix:

- ``"network_simplex"`` (default): POT's network simplex (:func:`ot.lp.emd`, Bonneel et al.,
  2011) on unit supplies, so the optimal vertex has entries exactly 0 or 1 and the permutation
  is read off it. Measured fastest for low-dimensional data at every batch size and for all
  data at large batches (``benchmarks/exact_ot.py``). The iteration cap is set far above what
  the solver needs; a solve that stops short of optimality raises :class:`SolverError`.
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
from flowkit.exceptions import NonFiniteError, ShapeError, SolverError
from flowkit.shapes import Batch, checked
from flowkit.validation import field_validator, require_choice

__all__ = ["EXACT_OT_SOLVERS", "ExactOTCoupling", "StagedCost"]

EXACT_OT_SOLVERS = ("network_simplex", "shortest_augmenting_path")
"""The accepted values of ``ExactOTCoupling(solver=...)``."""

_NETWORK_SIMPLEX_MAX_ITER = 2**31 - 1
"""Iteration cap of the network simplex: far above what batches up to 4096 need (POT's default
of 1e5 is reached from batch 2048 on and stops short of the optimum); it only guards against a
runaway solve."""

_NETWORK_SIMPLEX_OPTIMAL = 1
"""POT's result code for an optimal solution."""


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


def _network_simplex(cost: np.ndarray) -> np.ndarray:
    from ot.lp import emd  # POT: imported on first use, it takes a while to import

    n = cost.shape[0]
    units = np.ones(n)  # unit supplies: the optimal vertex has entries exactly 0 and 1
    plan, log = emd(units, units, cost, numItermax=_NETWORK_SIMPLEX_MAX_ITER, log=True, center_dual=False)
    if log["result_code"] != _NETWORK_SIMPLEX_OPTIMAL:
        raise SolverError(f"exact OT: the network simplex did not reach the optimum ({log['warning']})")
    column_of_row = plan.argmax(axis=1)
    if plan.sum() != n or not np.array_equal(np.bincount(column_of_row, minlength=n), np.ones(n, dtype=np.int64)):
        raise SolverError("exact OT: the network simplex returned a plan that is not a permutation matrix")
    perm = np.empty(n, dtype=np.int64)
    perm[column_of_row] = np.arange(n)
    return perm


def _shortest_augmenting_path(cost: np.ndarray) -> np.ndarray:
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(cost)
    perm = np.empty(len(cols), dtype=np.int64)
    perm[cols] = rows
    return perm


_SOLVE = {"network_simplex": _network_simplex, "shortest_augmenting_path": _shortest_augmenting_path}


@attrs.frozen
class ExactOTCoupling(Coupling):
    """Re-pairs ``x0`` with ``x1`` by the permutation of least total squared distance.

    Parameters:
        solver: ``"network_simplex"`` (POT, the default) or ``"shortest_augmenting_path"``
            (SciPy); both give an optimal permutation (see the module docstring).
    """

    capturable = False  # the assignment is solved on the host
    runs_on_host: ClassVar[bool] = True
    """The assignment is solved on the host CPU: a training step using it cannot be captured
    whole on the device; :class:`flowkit.couplings.HostAssignmentPrefetcher` overlaps it."""

    solver: str = attrs.field(
        default="network_simplex", validator=field_validator(require_choice, choices=EXACT_OT_SOLVERS)
    )

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
