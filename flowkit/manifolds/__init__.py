"""Built-in manifolds for Riemannian flow matching: ``sphere`` and ``flat-torus``.

See :class:`flowkit.core.manifold.Manifold` for the interface; a manifold is looked up as
``registry.create("manifold", "sphere")``.
"""

from flowkit.manifolds.sphere import Sphere
from flowkit.manifolds.torus import FlatTorus, wrap_angle

__all__ = ["FlatTorus", "Sphere", "wrap_angle"]
