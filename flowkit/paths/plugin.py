"""Registers the built-in paths (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register the built-in paths."""
