r"""The flat torus $T^d = \mathbb{R}^d / 2 \pi \mathbb{Z}^d$ in angle coordinates, registered as ``flat-torus``.

Points are angles in $[-\pi, \pi)$ per coordinate; the metric is the Euclidean one in the angles,
so with $\operatorname{wrap}(a) = ((a + \pi) \bmod 2 \pi) - \pi$:

- $\operatorname{projx}(x) = \operatorname{wrap}(x)$, $\operatorname{proju}(x, u) = u$ (every vector is tangent);
- $\exp_x(u) = \operatorname{wrap}(x + u)$, $\log_x(y) = \operatorname{wrap}(y - x)$,
  $d(x, y) = \lVert \operatorname{wrap}(y - x) \rVert$;
- the geodesic $x(\kappa) = \operatorname{wrap}(x_0 + \kappa \operatorname{wrap}(x_1 - x_0))$,
  $dx / d\kappa = \operatorname{wrap}(x_1 - x_0)$;
- uniform draws are uniform angles; $\operatorname{vol}(T^d) = (2 \pi)^d$.

The divergence of a field in angle coordinates is its Riemannian divergence (the metric is flat).
A network sees the torus through the embedding $e(x) = (\cos x, \sin x)$ in $\mathbb{R}^{2d}$ (so its
field is smooth and periodic); an ambient vector $w = (a, b)$ of the embedding is the angle
velocity $-\sin(x)\, a + \cos(x)\, b$ (the adjoint of $de$: each circle's unit tangent
$(-\sin, \cos)$ dotted with $w$).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from flowkit.core.manifold import Manifold
from flowkit.core.prior import DrawRequest

__all__ = ["FlatTorus", "wrap_angle"]


def wrap_angle(a: Tensor) -> Tensor:
    r"""$((a + \pi) \bmod 2 \pi) - \pi$, in $[-\pi, \pi)$."""
    return torch.remainder(a + math.pi, 2 * math.pi) - math.pi


class FlatTorus(Manifold):
    r"""The flat torus of angles in $[-\pi, \pi)^d$ (points ``[batch, d]``)."""

    def __repr__(self) -> str:
        return "FlatTorus()"

    def projx(self, x: Tensor) -> Tensor:
        """``wrap(x)``."""
        return wrap_angle(x)

    def proju(self, x: Tensor, u: Tensor) -> Tensor:
        r"""$u$: the tangent space is all of $\mathbb{R}^d$."""
        return u

    def expmap(self, x: Tensor, u: Tensor) -> Tensor:
        r"""$\operatorname{wrap}(x + u)$."""
        return wrap_angle(x + u)

    def logmap(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$\operatorname{wrap}(y - x)$."""
        return wrap_angle(y - x)

    def dist(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$\lVert \operatorname{wrap}(y - x) \rVert$."""
        return wrap_angle(y - x).norm(dim=-1)

    def geodesic(self, x0: Tensor, x1: Tensor, kappa: Tensor) -> tuple[Tensor, Tensor]:
        r"""$\operatorname{wrap}(x_0 + \kappa v)$ and $v = \operatorname{wrap}(x_1 - x_0)$."""
        v = wrap_angle(x1 - x0)
        return wrap_angle(x0 + kappa.reshape(-1, 1) * v), v

    def embedding_dim(self, dim: int) -> int:
        """``2 d``: a cosine and a sine per angle."""
        return 2 * dim

    def embed(self, x: Tensor) -> Tensor:
        """``(cos x, sin x)``."""
        return torch.cat([torch.cos(x), torch.sin(x)], dim=-1)

    def tangent_from_embedding(self, x: Tensor, w: Tensor) -> Tensor:
        r"""$-\sin(x)\, a + \cos(x)\, b$ for $w = (a, b)$."""
        a, b = w.chunk(2, dim=-1)
        return torch.cos(x) * b - torch.sin(x) * a

    def draw_uniform(self, request: DrawRequest) -> Tensor:
        """Uniform angles in ``[-pi, pi)``."""
        return request.rand() * (2 * math.pi) - math.pi

    def log_volume(self, dim: int) -> float:
        r"""$d \log(2 \pi)$."""
        return dim * math.log(2 * math.pi)

    def distance_to_manifold(self, x: Tensor) -> Tensor:
        """The largest distance of a coordinate outside ``[-pi, pi)`` (0 inside)."""
        return torch.maximum(-math.pi - x, x - math.pi).clamp_min(0.0).amax(dim=-1)
