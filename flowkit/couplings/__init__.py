"""Built-in couplings: how prior draws ``x0`` and data ``x1`` are paired within a batch.

:class:`IndependentCoupling` (``independent``, the paper), :class:`ExactOTCoupling` (``ot``,
exact minibatch OT) and :class:`SinkhornCoupling` (``sinkhorn``, entropic minibatch OT in torch).
Every ``pair(x0, x1)`` keeps the row order of ``x1``.
"""

from flowkit.couplings.exact_ot import ExactOTCoupling
from flowkit.couplings.independent import IndependentCoupling
from flowkit.couplings.sinkhorn import SinkhornCoupling, sample_sources, sinkhorn_log_plan

__all__ = ["ExactOTCoupling", "IndependentCoupling", "SinkhornCoupling", "sample_sources", "sinkhorn_log_plan"]
