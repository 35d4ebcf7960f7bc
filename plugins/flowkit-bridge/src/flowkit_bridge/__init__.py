"""flowkit-bridge: the Brownian-bridge conditional probability path as a flowkit plugin.

Installing this distribution registers the path ``bridge`` (entry point group ``flowkit``)::

    x_t = t x1 + (1 - t) x0 + sigma sqrt(t (1 - t)) eps,   eps ~ N(0, I),

the conditional path of Schrodinger-bridge Conditional Flow Matching (Tong et al., 2023),
conditioned on both endpoints ``(x0, x1)``. See :class:`BrownianBridgePath`.
"""

from flowkit_bridge.path import BrownianBridgePath

__all__ = ["BrownianBridgePath"]
