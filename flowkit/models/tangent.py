"""Vector fields on a manifold: a network whose output is projected onto the tangent space.

``TangentVectorField(network, manifold)`` evaluates ``v(t, x) = proju(p, network(t, p))`` at
``p = projx(x)``. The field is tangent at every point of the manifold, and in the ambient
coordinates it depends on ``x`` only through ``projx(x)``: on the sphere it is constant along
rays, so its Euclidean divergence at ``|x| = 1`` equals the Riemannian divergence (the normal
part of the Jacobian vanishes) and the likelihood engine needs no change; on the flat torus it
is the periodic extension of the field on ``[-pi, pi)^d``, whose divergence is the Euclidean one.
``manifold-mlp`` is the MLP (:class:`flowkit.models.mlp.MLPVectorField`) wrapped this way.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn

from flowkit.core.manifold import Manifold, resolve_manifold
from flowkit.core.model import VectorFieldModel
from flowkit.exceptions import InvalidParameterError
from flowkit.models.mlp import MLPVectorField

__all__ = ["TangentVectorField", "manifold_mlp"]


class TangentVectorField(VectorFieldModel):
    """``network`` evaluated at ``projx(x)``, its output projected onto the tangent space there."""

    def __init__(self, network: nn.Module, manifold: Manifold | str) -> None:
        super().__init__()
        if not isinstance(network, nn.Module):
            raise InvalidParameterError(f"network must be a torch.nn.Module called as network(t, x [, y]), got {network!r}")
        self.network = network
        self.manifold = resolve_manifold(manifold)
        self.num_classes = getattr(network, "num_classes", None)

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``proju(p, network(t, p [, y]))`` with ``p = projx(x)``."""
        point = self.manifold.projx(x)
        velocity = self.network(t, point) if y is None else self.network(t, point, y)
        return self.manifold.proju(point, velocity)


def manifold_mlp(*, manifold: Manifold | str = "sphere", dim: int, **mlp_parameters: Any) -> TangentVectorField:
    """An :class:`~flowkit.models.mlp.MLPVectorField` (``dim``, ``width``, ``depth``, ...) made tangent to ``manifold``."""
    return TangentVectorField(MLPVectorField(dim=dim, **mlp_parameters), manifold)
