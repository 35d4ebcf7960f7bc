r"""The manifold interface of Riemannian flow matching, and the uniform prior on a manifold.

A :class:`Manifold` is embedded in (or charted by) $\mathbb{R}^d$: points and tangent vectors are
``[batch, d]`` tensors. It gives the exponential and logarithm maps $\exp_x(u)$, $\log_x(y)$,
the projections onto the manifold (``projx``) and onto the tangent space at $x$ (``proju``),
the geodesic distance, and the uniform distribution (sampling and its constant log-density
$-\log \operatorname{vol}(\mathcal{M})$ with respect to the Riemannian volume).

The geodesic from $x_0$ to $x_1$ at parameter $\kappa$ is $\exp_{x_0}(\kappa \log_{x_0}(x_1))$;
:meth:`Manifold.geodesic` returns the point and its derivative in $\kappa$. The default
derivative is a forward-mode derivative through ``expmap``; manifolds override it with a
closed form.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import torch
from torch import Tensor

from flowkit.core.construction import RecordsArguments
from flowkit.core.prior import DrawRequest, Prior
from flowkit.exceptions import InvalidParameterError, ShapeError

__all__ = ["Manifold", "UniformManifoldPrior", "resolve_manifold"]


class Manifold(RecordsArguments, ABC):
    """A Riemannian manifold whose points and tangent vectors are ``[batch, d]`` tensors."""

    @abstractmethod
    def expmap(self, x: Tensor, u: Tensor) -> Tensor:
        r"""$\exp_x(u)$: the end at time 1 of the geodesic leaving $x$ with velocity $u$."""

    @abstractmethod
    def logmap(self, x: Tensor, y: Tensor) -> Tensor:
        r"""$\log_x(y)$: the tangent vector at $x$ with $\exp_x(\log_x(y)) = y$ (shortest geodesic)."""

    @abstractmethod
    def projx(self, x: Tensor) -> Tensor:
        """The closest point of the manifold to ``x`` (the identity on the manifold)."""

    @abstractmethod
    def proju(self, x: Tensor, u: Tensor) -> Tensor:
        """The orthogonal projection of ``u`` onto the tangent space at ``x``."""

    @abstractmethod
    def dist(self, x: Tensor, y: Tensor) -> Tensor:
        """The geodesic distance ``d(x, y)``, shape ``[batch]``."""

    @abstractmethod
    def draw_uniform(self, request: DrawRequest) -> Tensor:
        """Draws from the uniform distribution (normalised Riemannian volume), ``[batch, d]``."""

    @abstractmethod
    def log_volume(self, dim: int) -> float:
        r"""$\log \operatorname{vol}(\mathcal{M})$ of the manifold whose points have ``dim`` coordinates."""

    @abstractmethod
    def distance_to_manifold(self, x: Tensor) -> Tensor:
        """How far each point of ``x`` is from the manifold (0 on it), ``[batch]``."""

    def intrinsic_dim(self, dim: int) -> int:
        """The manifold's own dimension for points with ``dim`` coordinates (default ``dim``); the
        per-dimension unit of bits/dim."""
        return dim

    def embedding_dim(self, dim: int) -> int:
        """The number of features :meth:`embed` gives for points with ``dim`` coordinates (default ``dim``)."""
        return dim

    def embed(self, x: Tensor) -> Tensor:
        """The features a network sees at ``x``: a smooth embedding of the manifold (default ``x`` itself)."""
        return x

    def tangent_from_embedding(self, x: Tensor, w: Tensor) -> Tensor:
        """The tangent vector at ``x`` of an ambient vector ``w`` of the embedding (default ``proju(x, w)``).

        It is the adjoint of the embedding's differential: the orthogonal projection of ``w`` onto
        the embedded tangent space, written in the manifold's own coordinates.
        """
        return self.proju(x, w)

    def geodesic(self, x0: Tensor, x1: Tensor, kappa: Tensor) -> tuple[Tensor, Tensor]:
        r"""$x = \exp_{x_0}(\kappa \log_{x_0}(x_1))$ and $dx / d\kappa$; ``kappa`` is ``[batch]``.

        The default derivative is forward-mode autodiff through :meth:`expmap`.
        """
        velocity = self.logmap(x0, x1)
        k = kappa.reshape(-1, *([1] * (x0.dim() - 1)))
        # torch.func.jvp returns (output, tangent) without has_aux; its stub types the result as 2- or 3-tuple
        return torch.func.jvp(lambda s: self.expmap(x0, s * velocity), (k,), (torch.ones_like(k),))  # type: ignore[return-value]

    @property
    def prior(self) -> UniformManifoldPrior:
        """The uniform distribution on the manifold, as a :class:`flowkit.Prior`."""
        return UniformManifoldPrior(self)


class UniformManifoldPrior(Prior):
    r"""The uniform distribution on ``manifold``: $\log p_0(x) = -\log \operatorname{vol}(\mathcal{M})$ on it."""

    def __init__(self, manifold: Manifold) -> None:
        self.manifold = manifold

    def __repr__(self) -> str:
        return f"UniformManifoldPrior({self.manifold!r})"

    def draw(self, request: DrawRequest) -> Tensor:
        """Uniform draws of the full shape ``[batch, d]``."""
        if len(request.shape) != 2:
            raise ShapeError(f"a manifold prior draws points of shape [batch, d], got shape {list(request.shape)}")
        return self.manifold.draw_uniform(request)

    def log_prob(self, x0: Tensor) -> Tensor:
        r"""$-\log \operatorname{vol}(\mathcal{M})$ per point, ``[batch]`` (points are taken to lie on the manifold)."""
        if x0.dim() != 2:
            raise ShapeError(f"a manifold prior scores points of shape [batch, d], got shape {list(x0.shape)}")
        return x0.new_full(x0.shape[:1], -self.manifold.log_volume(x0.shape[1]))


def resolve_manifold(manifold: Manifold | str) -> Manifold:
    """``manifold`` itself, or the registered manifold of that name (``"sphere"``, ``"flat-torus"``)."""
    if isinstance(manifold, Manifold):
        return manifold
    if isinstance(manifold, str):
        from flowkit import registry

        return registry.create("manifold", manifold)
    raise InvalidParameterError(
        f"manifold must be a registered manifold name (e.g. 'sphere', 'flat-torus') or a "
        f"flowkit.core.manifold.Manifold, got {manifold!r}"
    )
