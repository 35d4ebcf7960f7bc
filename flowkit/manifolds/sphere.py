r"""The unit sphere $S^{d-1} = \{x \in \mathbb{R}^d : \lVert x \rVert = 1\}$, registered as the manifold ``sphere``.

With $\langle x, y \rangle$ the Euclidean inner product and $\theta = d(x, y)$:

- $\operatorname{projx}(x) = x / \lVert x \rVert$, $\operatorname{proju}(x, u) = u - \langle x, u \rangle x$;
- $\exp_x(u) = \cos(\lVert u \rVert)\, x + \sin(\lVert u \rVert)\, u / \lVert u \rVert$;
- $\log_x(y) = \theta\, w / \lVert w \rVert$ with $w = y - \langle x, y \rangle x$
  (so $\lVert w \rVert = \sin \theta$);
- $d(x, y) = \operatorname{atan2}(\lVert w \rVert, \langle x, y \rangle)$ ($= \arccos \langle x, y \rangle$,
  accurate near $0$ and $\pi$);
- the geodesic $x(\kappa) = \cos(\kappa \theta)\, x_0 + \sin(\kappa \theta)\, v / \theta$, $v = \log_{x_0}(x_1)$
  (spherical linear interpolation), with
  $dx / d\kappa = -\theta \sin(\kappa \theta)\, x_0 + \cos(\kappa \theta)\, v$;
- uniform draws are normalised standard normals; $\operatorname{vol}(S^{d-1}) = 2 \pi^{d/2} / \Gamma(d/2)$.

$\log_x(y)$ is undefined for antipodal points (a set of measure zero); it returns a finite
vector there.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from flowkit.core.manifold import Manifold
from flowkit.core.prior import DrawRequest
from flowkit.exceptions import InvalidParameterError

__all__ = ["Sphere"]

_TINY = 1e-12


def _inner(x: Tensor, y: Tensor) -> Tensor:
    return (x * y).sum(-1, keepdim=True)


def _sin_over_angle(theta: Tensor) -> Tensor:
    """``sin(theta) / theta``, 1 at 0."""
    return torch.where(theta > 1e-6, torch.sin(theta) / theta.clamp_min(_TINY), 1.0 - theta.square() / 6)


class Sphere(Manifold):
    r"""The unit sphere in $\mathbb{R}^d$ (points ``[batch, d]``, $d \ge 2$)."""

    def __repr__(self) -> str:
        return "Sphere()"

    def projx(self, x: Tensor) -> Tensor:
        r"""$x / \lVert x \rVert$."""
        return x / x.norm(dim=-1, keepdim=True).clamp_min(_TINY)

    def proju(self, x: Tensor, u: Tensor) -> Tensor:
        r"""$u - \langle x, u \rangle x$."""
        return u - _inner(x, u) * x

    def expmap(self, x: Tensor, u: Tensor) -> Tensor:
        r"""$\cos(\lVert u \rVert)\, x + \sin(\lVert u \rVert)\, u / \lVert u \rVert$."""
        norm = u.norm(dim=-1, keepdim=True)
        return torch.cos(norm) * x + _sin_over_angle(norm) * u

    def _angle_and_direction(self, x: Tensor, y: Tensor) -> tuple[Tensor, Tensor]:
        w = y - _inner(x, y) * x
        sin_theta = w.norm(dim=-1, keepdim=True)
        return torch.atan2(sin_theta, _inner(x, y)), w

    def logmap(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$\theta\, w / \sin(\theta)$ with $w = y - \langle x, y \rangle x$."""
        theta, w = self._angle_and_direction(x, y)
        return w / _sin_over_angle(theta)

    def dist(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$\operatorname{atan2}(\lVert y - \langle x, y \rangle x \rVert, \langle x, y \rangle)$."""
        return self._angle_and_direction(x, y)[0].squeeze(-1)

    def geodesic(self, x0: Tensor, x1: Tensor, kappa: Tensor) -> tuple[Tensor, Tensor]:
        r"""Spherical linear interpolation and its closed-form derivative in $\kappa$."""
        theta, w = self._angle_and_direction(x0, x1)
        v = w / _sin_over_angle(theta)
        angle = kappa.reshape(-1, 1) * theta
        x = torch.cos(angle) * x0 + _sin_over_angle(angle) * kappa.reshape(-1, 1) * v
        return x, -theta * torch.sin(angle) * x0 + torch.cos(angle) * v

    def draw_uniform(self, request: DrawRequest) -> Tensor:
        """Normalised standard normal draws."""
        self._check_dim(request.shape[-1])
        return self.projx(request.randn())

    def intrinsic_dim(self, dim: int) -> int:
        r"""$S^{d-1}$ in $\mathbb{R}^d$ has dimension $d - 1$."""
        self._check_dim(dim)
        return dim - 1

    def log_volume(self, dim: int) -> float:
        r"""$\log(2 \pi^{d/2} / \Gamma(d/2))$ for $S^{d-1}$ in $\mathbb{R}^d$."""
        self._check_dim(dim)
        return math.log(2.0) + 0.5 * dim * math.log(math.pi) - math.lgamma(0.5 * dim)

    def distance_to_manifold(self, x: Tensor) -> Tensor:
        r"""$\bigl\lvert \lVert x \rVert - 1 \bigr\rvert$."""
        return (x.norm(dim=-1) - 1.0).abs()

    @staticmethod
    def _check_dim(dim: int) -> None:
        if dim < 2:
            raise InvalidParameterError(
                f"the sphere needs points with d >= 2 coordinates (S^(d-1) in R^d), got d = {dim}"
            )
