"""Registers the built-in metrics (placeholder: registers nothing yet)."""

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register the built-in metrics."""
