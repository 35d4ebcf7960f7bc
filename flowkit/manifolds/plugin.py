"""Registers Riemannian flow matching: the manifolds ``sphere`` and ``flat-torus`` and what works on them.

The path ``geodesic``, the solvers ``riemannian-euler`` / ``riemannian-midpoint`` /
``riemannian-rk4``, the model ``manifold-mlp`` and the data sets ``sphere-mixture`` /
``torus-mixture`` are registered here, beside the manifolds, so the feature has one plugin module.
"""

from __future__ import annotations

from flowkit.hookspecs import Register, hookimpl


@hookimpl
def flowkit_register_manifolds(register: Register) -> None:
    """Register the built-in manifolds."""
    from flowkit.manifolds import FlatTorus, Sphere

    register("sphere", Sphere, description="unit sphere S^(d-1) in R^d: slerp geodesics, uniform prior")
    register(
        "flat-torus",
        FlatTorus,
        description="flat torus of angles in [-pi, pi)^d: wrapped straight lines, uniform prior",
    )


@hookimpl
def flowkit_register_paths(register: Register) -> None:
    """Register the geodesic path."""
    from flowkit.paths.geodesic import GeodesicPath

    register(
        "geodesic",
        GeodesicPath,
        description="Riemannian geodesic path exp_x0(kappa(t) log_x0 x1), uniform prior (manifold=, scheduler=, exponent=)",
    )


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the projecting solvers."""
    from flowkit.solvers.riemannian import RiemannianEuler, RiemannianMidpoint, RiemannianRK4

    register(
        "riemannian-euler",
        RiemannianEuler,
        description="Euler on a manifold, projected after each step (steps=, time_grid=)",
    )
    register(
        "riemannian-midpoint",
        RiemannianMidpoint,
        description="explicit midpoint on a manifold, projected after each step (steps=, time_grid=)",
    )
    register(
        "riemannian-rk4",
        RiemannianRK4,
        description="classical Runge-Kutta on a manifold, projected after each step (steps=, time_grid=)",
    )


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register the tangent-projected MLP."""
    from flowkit.models.tangent import manifold_mlp

    register(
        "manifold-mlp",
        manifold_mlp,
        description="MLP whose output is projected onto the manifold's tangent space (manifold=, dim=, width=, depth=)",
    )


@hookimpl
def flowkit_register_datasets(register: Register) -> None:
    """Register the toy data on the sphere and the torus."""
    from flowkit.data.manifold_mixtures import TorusMixture, VonMisesFisherMixture

    register(
        "sphere-mixture",
        VonMisesFisherMixture,
        description="mixture of von Mises-Fisher distributions on S^(d-1), default S^2 (exact density)",
    )
    register(
        "torus-mixture",
        TorusMixture,
        description="mixture of wrapped-normal products on the flat torus, default T^2 (exact density)",
    )
