"""Exact minibatch optimal transport (Tong et al., 2023; Pooladian et al., 2023), registered as ``ot``.

Within a batch of ``n`` prior draws and ``n`` data points the coupling solves the assignment
problem ``min_pi sum_j ||x0_pi(j) - x1_j||^2`` over permutations ``pi`` (with equal batch sizes
the optimal plan of the discrete OT problem with uniform weights is a permutation) using the
Hungarian-type solver :func:`scipy.optimize.linear_sum_assignment`, and returns
``(x0[pi], x1)``. The cost matrix is computed in torch; only the ``[n, n]`` matrix goes to the
host for the solver, which runs in ``O(n^3)``.
"""

from __future__ import annotations

import attrs
import torch
from scipy.optimize import linear_sum_assignment
from torch import Tensor

from flowkit.core.coupling import Coupling
from flowkit.couplings.cost import squared_distances
from flowkit.shapes import Batch, checked

__all__ = ["ExactOTCoupling"]


@attrs.frozen
class ExactOTCoupling(Coupling):
    """Re-pairs ``x0`` with ``x1`` by the permutation of least total squared distance."""

    capturable = False  # the assignment is solved on the host

    @checked
    def assignment(self, x0: Batch, x1: Batch) -> Tensor:
        """The optimal permutation ``pi`` (``[n]``, on ``x0``'s device): ``x0[pi[j]]`` is paired with ``x1[j]``."""
        with torch.no_grad():
            cost = squared_distances(x0, x1).to(device="cpu", dtype=torch.float64).numpy()
        rows, cols = linear_sum_assignment(cost)
        perm = torch.empty(len(cols), dtype=torch.long)
        perm[torch.from_numpy(cols)] = torch.from_numpy(rows)
        return perm.to(x0.device)

    @checked
    def pair(self, x0: Batch, x1: Batch, *, generator: torch.Generator | None = None) -> tuple[Batch, Batch]:
        """Return ``(x0[pi], x1)`` with ``pi`` from :meth:`assignment` (deterministic; ``generator`` unused)."""
        return x0[self.assignment(x0, x1)], x1
