"""Built-in couplings: how prior draws $x_0$ and data $x_1$ are paired within a batch.

:class:`IndependentCoupling` (``independent``, the paper), :class:`ExactOTCoupling` (``ot``,
exact minibatch OT), :class:`SinkhornCoupling` (``sinkhorn``, entropic minibatch OT in torch),
:class:`UnbalancedOTCoupling` (``unbalanced-ot``) and :class:`PartialOTCoupling` (``partial-ot``),
the relaxed entropic plans, and :class:`ReflowCoupling` (pairs from a trained flow's map; the
registered ``reflow`` builds it from a teacher pipeline, :mod:`flowkit.pipeline.reflow`).
Every ``pair(x0, x1)`` keeps the row order of ``x1``. ``runs_on_host = True`` marks a coupling
whose work is a host solve (``ot``; :class:`HostAssignmentPrefetcher` overlaps it with training);
``independent`` and ``sinkhorn`` say ``False``: they run in torch on the batch's device.
"""

from flowkit.couplings.exact_ot import EXACT_OT_SOLVERS, ExactOTCoupling, StagedCost
from flowkit.couplings.host_prefetch import HostAssignmentPrefetcher
from flowkit.couplings.independent import IndependentCoupling
from flowkit.couplings.reflow import ReflowCoupling
from flowkit.couplings.relaxed_ot import PartialOTCoupling, UnbalancedOTCoupling, partial_log_plan, unbalanced_log_plan
from flowkit.couplings.sinkhorn import SinkhornCoupling, sample_sources, sinkhorn_log_plan

__all__ = [
    "EXACT_OT_SOLVERS",
    "ExactOTCoupling",
    "HostAssignmentPrefetcher",
    "IndependentCoupling",
    "PartialOTCoupling",
    "ReflowCoupling",
    "SinkhornCoupling",
    "StagedCost",
    "UnbalancedOTCoupling",
    "partial_log_plan",
    "sample_sources",
    "sinkhorn_log_plan",
    "unbalanced_log_plan",
]
