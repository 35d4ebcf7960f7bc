"""flowkit-multistep: Adams-Bashforth ODE solvers of orders 2, 3 and 4 as a flowkit plugin.

Installing this distribution registers the solvers ``ab2``, ``ab3`` and ``ab4`` (entry point
group ``flowkit``). A k-step Adams-Bashforth method makes one field evaluation per step after a
start of k - 1 Runge-Kutta steps of order k; see :mod:`flowkit_multistep.adams_bashforth`.
"""

from flowkit_multistep.adams_bashforth import (
    ADAMS_BASHFORTH_COEFFICIENTS,
    AdamsBashforth,
    AdamsBashforth2,
    AdamsBashforth3,
    AdamsBashforth4,
)
from flowkit_multistep.runge_kutta import RUNGE_KUTTA_STARTERS

__all__ = [
    "ADAMS_BASHFORTH_COEFFICIENTS",
    "RUNGE_KUTTA_STARTERS",
    "AdamsBashforth",
    "AdamsBashforth2",
    "AdamsBashforth3",
    "AdamsBashforth4",
]
