"""The likelihood engine: exact log-densities of flows, and bits per dimension.

See :mod:`flowkit.likelihood.bits` for the bits/dim conversion.
"""

from flowkit.likelihood.bits import bits_per_dim

__all__ = ["bits_per_dim"]
