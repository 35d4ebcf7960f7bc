r"""Exact assignment by multiscale column generation on POT's sparse network simplex.

Solves $\min_\sigma \sum_i C_{i \sigma(i)}$ over permutations for a dense ``float64`` cost
matrix $C \in \mathbb{R}^{n \times n}$, touching only a few arcs per row with the simplex. The
dense network simplex prices all $n^2$ arcs at every pivot; here it runs on a sparse candidate
set, and the dense matrix is only read by vectorised checks.

1. **Coarse duals.** Solve the problem on every other row and column (recursively, down to
   :data:`DENSE_BELOW`, where the dense simplex is faster). Extend the coarse row potential
   $f^c$ to every column by the c-transform $g_j = \min_{i \in \text{coarse}} C_{ij} - f^c_i$,
   and back to every row by $f_i = \min_j C_{ij} - g_j$.
2. **Candidates.** For each row the $k$ columns of least reduced cost
   $R_{ij} = C_{ij} - f_i - g_j$, for each column the $k$ rows of least reduced cost, and the
   diagonal $(i, i)$, a perfect matching, so the sparse problem is always feasible.
3. **Sparse solve.** POT's network simplex on the candidate arcs returns an optimal
   permutation $\sigma$ of the sparse problem and duals $(u, v)$ with
   $u_i + v_{\sigma(i)} = C_{i \sigma(i)}$.
4. **Certificate.** If $R_{ij} = C_{ij} - u_i - v_j \ge -\tau$ for every arc of the *dense*
   matrix, $(u, v)$ is dual feasible and $\sigma$ is optimal: for any permutation $\pi$,
   $\sum_i C_{i \pi(i)} \ge \sum_i u_i + \sum_j v_j - n \tau = \sum_i C_{i \sigma(i)} - n \tau$.
   Otherwise add, for every row and column holding a negative reduced cost, its $k$ most
   negative arcs, and go back to 3. Arcs are only ever added. If no arc can be added, or the
   arcs or rounds pass a bound (:data:`MAX_ARCS_PER_ROW`, :data:`MAX_ROUNDS`; degenerate data
   with many repeated points do), the dense simplex solves this level instead.

$\tau$ (:data:`DUAL_TOLERANCE` times $\max |C|$) absorbs the rounding of the duals, which the
simplex accumulates along tree paths; the dense simplex prices with a tolerance of the same kind.
The idea of solving dense transport on a sparse, iteratively completed support with duals
from a coarser scale is Schmitzer's (2016, "A sparse multiscale algorithm for dense optimal
transport"); this is a plain form of it for assignment problems.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import numpy as np
import torch
from torch import Tensor

from flowkit.exceptions import SolverError

if TYPE_CHECKING:
    import scipy.sparse

__all__ = ["DENSE_BELOW", "DUAL_TOLERANCE", "dense_assignment", "multiscale_assignment"]

DENSE_BELOW = 768
"""Problems of at most this many rows go to POT's dense network simplex. Measured on 2 cores
(``benchmarks/exact_ot.py --sizes 512,768,1024,1536 --rounds 7``, checkerboard): with the dense
simplex below 512 points, the multiscale solver took 0.97x, 0.92x, 1.31x and 1.50x the dense
solver's speed at 512, 768, 1024 and 1536 points."""

DUAL_TOLERANCE = 1e-9
r"""$\tau / \max |C|$: a reduced cost above $-\tau$ counts as non-negative in the certificate."""

CANDIDATES_PER_ROW = 16
"""$k$ of the first candidate set: arcs of least reduced cost per row and per column."""

ARCS_PER_VIOLATION = 8
"""$k$ of each repair: the most negative arcs added for each row or column that violates."""

MAX_ARCS_PER_ROW = 64
"""Give up on the sparse problem, and let the dense simplex decide, once the candidate set holds
more arcs than this per row. The benchmark's batches end with 22 to 37 per row; degenerate data
(a few distinct points, repeated) keep adding arcs round after round, and would take 20x longer
than the dense simplex without this bound."""

MAX_ROUNDS = 16
"""Give up on the sparse problem after this many sparse solves at one level (the benchmark's
batches need 2 to 7)."""

BLOCK_ROWS = 256
"""Rows per block of the dense passes: a block of reduced costs stays in cache and no
``[n, n]`` temporary is allocated (allocating one costs more than the arithmetic)."""


_MAX_ITER = 2**31 - 1
"""Iteration cap of the simplex; it only guards against a runaway solve."""

_OPTIMAL = 1
"""POT's result code for an optimal solution."""


def _emd_with_duals(supplies: np.ndarray, cost: np.ndarray | scipy.sparse.coo_matrix) -> tuple[Any, dict]:
    """POT's network simplex with unit ``supplies`` on both sides: ``(plan, log)``, the plan dense or sparse as ``cost``."""
    from ot.lp import emd  # POT: imported on first use, it takes a while to import

    plan, log = emd(supplies, supplies, cost, numItermax=_MAX_ITER, log=True, center_dual=False)
    if log["result_code"] != _OPTIMAL:
        raise SolverError(f"exact OT: the network simplex did not reach the optimum ({log['warning']})")
    return plan, log


def dense_assignment(cost: np.ndarray) -> tuple[np.ndarray, Tensor]:
    """POT's dense network simplex on unit supplies: ``(column_of_row, row_potential)``."""
    n = cost.shape[0]
    plan, log = _emd_with_duals(np.ones(n), cost)
    column_of_row = np.asarray(plan).argmax(axis=1)
    if not np.array_equal(np.bincount(column_of_row, minlength=n), np.ones(n, dtype=np.int64)):
        raise SolverError("exact OT: the network simplex returned a plan that is not a permutation matrix")
    return column_of_row, torch.from_numpy(log["u"])


def _sparse_assignment(cost: Tensor, arcs: Tensor) -> tuple[np.ndarray, Tensor, Tensor]:
    """The sparse problem on ``arcs`` (flat indices ``i * n + j``): ``(column_of_row, u, v)``."""
    import scipy.sparse  # imported on first use: scipy's import is slow

    n = cost.shape[0]
    rows, cols = arcs // n, arcs % n
    sparse_cost = scipy.sparse.coo_matrix((cost[rows, cols].numpy(), (rows.numpy(), cols.numpy())), shape=(n, n))
    plan, log = _emd_with_duals(np.ones(n), sparse_cost)
    plan = plan.tocoo()
    used = plan.data > 0.5  # unit supplies: the flows of an optimal vertex are 0 or 1
    column_of_row = np.full(n, -1, dtype=np.int64)
    column_of_row[plan.row[used]] = plan.col[used]
    if used.sum() != n or (column_of_row < 0).any():
        raise SolverError("exact OT: the sparse network simplex returned a plan that is not a permutation matrix")
    return column_of_row, torch.from_numpy(log["u"]), torch.from_numpy(log["v"])


def _row_blocks(n: int) -> range:
    return range(0, n, BLOCK_ROWS)


def _merge_least(best: tuple[Tensor, Tensor] | None, values: Tensor, rows: Tensor, k: int) -> tuple[Tensor, Tensor]:
    """The ``k`` least ``values`` per column so far, with their rows, merging one block into ``best``."""
    if best is not None:
        values, rows = torch.cat([best[0], values]), torch.cat([best[1], rows])
    least, order = torch.topk(values, min(k, len(values)), dim=0, largest=False)
    return least, torch.gather(rows, 0, order)


def _first_candidates(cost: Tensor, coarse_row_potential: Tensor) -> Tensor:
    r"""Candidate arcs under the c-transform of the coarse potential (step 2 of the module docstring).

    The coarse rows are the even rows of ``cost``. One pass in row blocks computes
    $f_i = \min_j C_{ij} - g_j$, each row's least arcs, and each column's least arcs (merged
    block by block).
    """
    n = cost.shape[0]
    k = min(CANDIDATES_PER_ROW, n)
    column_potential = torch.full((n,), torch.inf, dtype=cost.dtype)
    for start in range(0, len(coarse_row_potential), BLOCK_ROWS):
        block = cost[2 * start : 2 * (start + BLOCK_ROWS) : 2] - coarse_row_potential[start : start + BLOCK_ROWS, None]
        torch.minimum(column_potential, block.amin(dim=0), out=column_potential)
    arcs, column_best = [], None
    for start in _row_blocks(n):
        reduced = cost[start : start + BLOCK_ROWS] - column_potential
        reduced -= reduced.amin(dim=1, keepdim=True)
        rows = torch.arange(start, start + len(reduced))
        arcs.append((rows[:, None] * n + torch.topk(reduced, k, dim=1, largest=False).indices).reshape(-1))
        least, order = torch.topk(reduced, min(k, len(reduced)), dim=0, largest=False)
        column_best = _merge_least(column_best, least, order + start, k)
    assert column_best is not None  # n > DENSE_BELOW >= 1
    every = torch.arange(n)
    return torch.cat([*arcs, (column_best[1] * n + every).reshape(-1), every * (n + 1)]).unique()


def _violations(cost: Tensor, u: Tensor, v: Tensor, tolerance: float) -> Tensor:
    r"""Flat indices of arcs to add: the ``ARCS_PER_VIOLATION`` most negative reduced costs
    $C_{ij} - u_i - v_j < -\tau$ of each row and of each column holding one (step 4). Empty
    when the duals are feasible, which certifies the sparse optimum."""
    n = cost.shape[0]
    k = min(ARCS_PER_VIOLATION, n)
    arcs = []
    column_min = torch.full((n,), torch.inf, dtype=cost.dtype)
    for start in _row_blocks(n):
        reduced = torch.sub(cost[start : start + BLOCK_ROWS], v).sub_(u[start : start + BLOCK_ROWS, None])
        torch.minimum(column_min, reduced.amin(dim=0), out=column_min)
        bad = torch.nonzero(reduced.amin(dim=1) < -tolerance).squeeze(1)
        if len(bad):
            cols = torch.topk(reduced[bad], k, dim=1, largest=False).indices
            arcs.append(((bad + start)[:, None] * n + cols).reshape(-1))
    bad = torch.nonzero(column_min < -tolerance).squeeze(1)
    if len(bad):
        reduced = torch.sub(cost[:, bad], u[:, None]).sub_(v[bad])
        rows = torch.topk(reduced, k, dim=0, largest=False).indices
        arcs.append((rows * n + bad).reshape(-1))
    return torch.cat(arcs) if arcs else torch.empty(0, dtype=torch.long)


@attrs.frozen
class _Level:
    """The solution of one level: ``column_of_row``, the row potential, and ``fell_back``: whether
    the dense simplex had to take over, at this level or below, above :data:`DENSE_BELOW`."""

    column_of_row: np.ndarray
    row_potential: Tensor
    fell_back: bool


def _dense_level(cost: Tensor) -> _Level:
    column_of_row, row_potential = dense_assignment(cost.numpy())
    return _Level(column_of_row, row_potential, fell_back=True)


def _solve(cost: Tensor) -> _Level:
    """The optimal assignment of ``cost`` ``[n, n]``, with the coarse levels solved first.

    A level whose coarse level needed the dense simplex past :data:`DENSE_BELOW` (degenerate
    data) goes to the dense simplex directly: its sparse rounds would fail the same way.
    """
    n = cost.shape[0]
    if n <= DENSE_BELOW:
        return _Level(*dense_assignment(cost.numpy()), fell_back=False)
    coarse = _solve(cost[::2, ::2].contiguous())
    if coarse.fell_back:
        return _dense_level(cost)
    arcs = _first_candidates(cost, coarse.row_potential)
    tolerance = DUAL_TOLERANCE * max(1.0, float(cost.abs().max()))
    for _ in range(MAX_ROUNDS):
        column_of_row, u, v = _sparse_assignment(cost, arcs)
        added = _violations(cost, u, v, tolerance)
        if len(added) == 0:
            return _Level(column_of_row, u, fell_back=False)
        grown = torch.cat([arcs, added]).unique()
        if len(grown) == len(arcs) or len(grown) > MAX_ARCS_PER_ROW * n:
            # No new arc: the certificate fails on arcs the simplex already priced (its duals are
            # not accurate to the tolerance). Too many arcs: degenerate data. Either way the dense
            # simplex decides, by its own optimality test.
            break
        arcs = grown
    return _dense_level(cost)


def multiscale_assignment(cost: np.ndarray) -> np.ndarray:
    r"""An optimal assignment of the dense ``float64`` ``cost`` ``[n, n]``: ``column_of_row[i]`` $= \sigma(i)$.

    Optimal within $n \tau$ in total cost (see the module docstring); on the benchmark's
    checkerboard and digits batches it equals the dense simplex's optimum to the last bit.
    """
    return _solve(torch.from_numpy(cost)).column_of_row
