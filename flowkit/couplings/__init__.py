"""Built-in couplings: how prior draws ``x0`` and data ``x1`` are paired within a batch.

:class:`IndependentCoupling` (``independent``, the paper), :class:`ExactOTCoupling` (``ot``,
exact minibatch OT) and :class:`SinkhornCoupling` (``sinkhorn``, entropic minibatch OT in torch).
Every ``pair(x0, x1)`` keeps the row order of ``x1``. ``runs_on_host`` says where a coupling's
work runs: ``ot`` solves on the host CPU (:class:`HostAssignmentPrefetcher` overlaps it with
training), ``independent`` and ``sinkhorn`` stay on the batch's device.
"""

from flowkit.couplings.exact_ot import EXACT_OT_SOLVERS, ExactOTCoupling, StagedCost
from flowkit.couplings.host_prefetch import HostAssignmentPrefetcher
from flowkit.couplings.independent import IndependentCoupling
from flowkit.couplings.sinkhorn import SinkhornCoupling, sample_sources, sinkhorn_log_plan

__all__ = [
    "EXACT_OT_SOLVERS",
    "ExactOTCoupling",
    "HostAssignmentPrefetcher",
    "IndependentCoupling",
    "SinkhornCoupling",
    "StagedCost",
    "sample_sources",
    "sinkhorn_log_plan",
]
