"""Registers the built-in objectives (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_objectives(register: Register) -> None:
    """Register the built-in objectives."""
