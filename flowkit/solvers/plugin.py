"""Registers the built-in solvers (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the built-in solvers."""
