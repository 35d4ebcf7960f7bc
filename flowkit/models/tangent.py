r"""Vector fields on a manifold: a network whose output is projected onto the tangent space.

``TangentVectorField(network, manifold)`` evaluates, at $p = \operatorname{projx}(x)$,

$$
v(t, x) = T_p\bigl(\mathrm{network}(t, e(p))\bigr),
$$

with $e$ = ``manifold.embed`` the features the network sees and $T_p$ =
``manifold.tangent_from_embedding`` the tangent projection of its output: on the sphere $e$ is
the identity and $T_p = \operatorname{proju}(p, \cdot)$; on the flat torus $e(p) = (\cos p, \sin p)$ and $T_p$
maps $(a, b)$ to $-\sin(p)\, a + \cos(p)\, b$. The field is tangent at every point, and it depends
on $x$ only through $\operatorname{projx}(x)$: on the sphere it is constant along rays, so its Euclidean
divergence at $\lVert x \rVert = 1$ equals the Riemannian divergence (the normal part of the Jacobian
vanishes) and the likelihood engine needs no change; on the torus it is smooth and periodic in
the angles, whose Euclidean divergence is the Riemannian one (the metric is flat).
``manifold-mlp`` is the MLP (:class:`flowkit.models.mlp.MLPVectorField`) wrapped this way, built
for ``manifold.embedding_dim(dim)`` features.
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
    """``network`` evaluated on the embedding of ``projx(x)``, its output projected onto the tangent space there."""

    def __init__(self, network: nn.Module, manifold: Manifold | str) -> None:
        super().__init__()
        if not isinstance(network, nn.Module):
            raise InvalidParameterError(
                f"network must be a torch.nn.Module called as network(t, x [, y]), got {network!r}"
            )
        self.network = network
        self.manifold = resolve_manifold(manifold)
        self.num_classes = getattr(network, "num_classes", None)

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        r"""$T_p\bigl(\mathrm{network}(t, e(p)\, [, y])\bigr)$ with $p = \operatorname{projx}(x)$ (module docstring)."""
        point = self.manifold.projx(x)
        features = self.manifold.embed(point)
        output = self.network(t, features) if y is None else self.network(t, features, y)
        return self.manifold.tangent_from_embedding(point, output)


def manifold_mlp(*, manifold: Manifold | str = "sphere", dim: int, **mlp_parameters: Any) -> TangentVectorField:
    """An :class:`~flowkit.models.mlp.MLPVectorField` (``width``, ``depth``, ...) on the embedding of ``manifold``, made tangent.

    ``dim`` is the number of coordinates of a point (filled in from the data by a pipeline).
    """
    manifold = resolve_manifold(manifold)
    return TangentVectorField(MLPVectorField(dim=manifold.embedding_dim(dim), **mlp_parameters), manifold)
