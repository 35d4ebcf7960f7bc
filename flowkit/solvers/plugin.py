"""Registers the built-in solvers (kind ``"solver"``): each module's ``flowkit_register_solvers``
(fixed-step and adaptive Runge-Kutta methods, SDE samplers)."""

from __future__ import annotations

from flowkit._builtin_plugins import register_family
from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the solvers that the modules of :mod:`flowkit.solvers` declare."""
    register_family("flowkit.solvers", "flowkit_register_solvers", register)
