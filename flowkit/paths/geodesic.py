r"""The geodesic path of Riemannian flow matching (Chen & Lipman, 2024), registered as ``geodesic``.

On a manifold $\mathcal{M}$ (:class:`flowkit.core.manifold.Manifold`) with the uniform prior $p_0$, the
conditional path from $x_0 \sim p_0$ to a data point $x_1$ runs along the geodesic

$$
x_t = \exp_{x_0}\bigl(\kappa(t) \log_{x_0}(x_1)\bigr),
$$

with the same schedulers as the mixture path (:mod:`flowkit.paths.kappa`: $\kappa(t) = t^n$
by default with $n = 1$, or $\sin^2(\pi t / 2)$), so $\kappa(0) = 0$ gives $x_0$ and
$\kappa(1) = 1$ gives $x_1$. Its conditional field is
$u_t = \frac{d}{dt} x_t = \kappa'(t) \frac{d}{d\kappa} \exp_{x_0}(\kappa \log_{x_0} x_1)$, a tangent vector at $x_t$
(closed forms per manifold: the slerp derivative on the sphere, the constant wrapped difference
on the flat torus). ``cfm`` regresses a model onto it like onto any other path's target.
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit.core.manifold import Manifold, UniformManifoldPrior, resolve_manifold
from flowkit.core.path import PathSample, ProbabilityPath
from flowkit.exceptions import ShapeError
from flowkit.paths.kappa import KappaScheduler, scheduler_from

__all__ = ["GeodesicPath"]


class GeodesicPath(ProbabilityPath):
    r"""Geodesic interpolation on ``manifold`` from its uniform prior to the data.

    Parameters:
        manifold: a registered manifold name (``"sphere"``, ``"flat-torus"``) or a
            :class:`flowkit.core.manifold.Manifold`.
        scheduler: a :class:`flowkit.paths.KappaScheduler` or a name of
            :data:`flowkit.paths.KAPPA_SCHEDULERS` (default ``"polynomial"``).
        exponent: $n$ of the polynomial scheduler $\kappa(t) = t^n$ (default 1, linear).
    """

    def __init__(
        self,
        *,
        manifold: Manifold | str = "sphere",
        scheduler: KappaScheduler | str = "polynomial",
        exponent: float = 1.0,
    ) -> None:
        self.manifold = resolve_manifold(manifold)
        self.scheduler = scheduler_from(scheduler, exponent)

    def __repr__(self) -> str:
        return f"GeodesicPath(manifold={self.manifold!r}, scheduler={self.scheduler!r})"

    @property
    def prior(self) -> UniformManifoldPrior:
        """The uniform distribution on the manifold."""
        return self.manifold.prior

    def sample(self, *, x0: Tensor, x1: Tensor, t: Tensor, generator: torch.Generator | None = None) -> PathSample:
        r"""$x_t$ on the geodesic from $x_0$ to $x_1$ and $u_t = \kappa'(t)\, dx_t / d\kappa$ (no extra noise)."""
        if x0.dim() != 2 or x0.shape != x1.shape or t.shape != x0.shape[:1]:
            raise ShapeError(
                f"GeodesicPath.sample: x0 and x1 must both be [batch, d] and t [batch], got x0 {list(x0.shape)}, "
                f"x1 {list(x1.shape)}, t {list(t.shape)}"
            )
        x0 = self.manifold.projx(x0)
        x1 = self.manifold.projx(x1)
        x_t, dx_dkappa = self.manifold.geodesic(x0, x1, self.scheduler.kappa(t))
        return PathSample(t=t, x0=x0, x1=x1, x_t=x_t, u_t=self.scheduler.dkappa(t).unsqueeze(1) * dx_dkappa)
