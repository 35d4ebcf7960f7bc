"""Registers the built-in metrics (kind ``"metric"``): each module's ``flowkit_register_metrics``."""

from __future__ import annotations

from flowkit._builtin_plugins import register_family
from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_metrics(register: Register) -> None:
    """Register the metrics that the modules of :mod:`flowkit.metrics` declare."""
    register_family("flowkit.metrics", "flowkit_register_metrics", register)
