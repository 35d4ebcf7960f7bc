"""Registers the built-in data (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_datasets(register: Register) -> None:
    """Register the built-in data."""
