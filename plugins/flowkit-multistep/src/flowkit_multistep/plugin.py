"""The plugin module named by the ``flowkit`` entry point: registers the solvers ``ab2``, ``ab3``, ``ab4``."""

from __future__ import annotations

import flowkit
from flowkit_multistep.adams_bashforth import AdamsBashforth2, AdamsBashforth3, AdamsBashforth4


@flowkit.hookimpl
def flowkit_register_solvers(register) -> None:
    """Register the Adams-Bashforth solvers of orders 2, 3 and 4 (parameter ``steps``)."""
    register("ab2", AdamsBashforth2, description="Adams-Bashforth order 2, fixed steps, Heun start")
    register("ab3", AdamsBashforth3, description="Adams-Bashforth order 3, fixed steps, Kutta-3 start")
    register("ab4", AdamsBashforth4, description="Adams-Bashforth order 4, fixed steps, RK4 start")
