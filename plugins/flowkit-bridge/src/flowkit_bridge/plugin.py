"""The plugin module named by the ``flowkit`` entry point: registers the path ``bridge``."""

from __future__ import annotations

import flowkit
from flowkit_bridge.path import BrownianBridgePath


@flowkit.hookimpl
def flowkit_register_paths(register) -> None:
    """Register :class:`BrownianBridgePath` as ``bridge`` (parameter ``sigma``)."""
    register(
        "bridge",
        BrownianBridgePath,
        description="Brownian bridge between x0 and x1, noise sigma sqrt(t(1-t)) (Schrodinger-bridge CFM)",
    )
