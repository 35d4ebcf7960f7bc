"""Registers the built-in couplings (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_couplings(register: Register) -> None:
    """Register the built-in couplings."""
