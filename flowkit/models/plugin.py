"""Registers the built-in models (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register the built-in models."""
