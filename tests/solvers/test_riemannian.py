"""Projecting solvers: states stay on the manifold, convergence orders against an exact flow."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError
from flowkit.manifolds import FlatTorus, Sphere
from flowkit.models.tangent import manifold_mlp
from flowkit.paths.geodesic import GeodesicPath
from flowkit.solvers.riemannian import RiemannianEuler, RiemannianRK4

DTYPE = torch.float64
SKEW = torch.tensor([[0.0, -1.3, 0.4], [1.3, 0.0, -0.7], [-0.4, 0.7, 0.0]], dtype=DTYPE)


def rotation(t, x):
    """``v(x) = A x`` with ``A`` skew-symmetric: tangent to the sphere, flow ``exp(t A) x``."""
    return x @ SKEW.T


def test_registered():
    assert {"riemannian-euler", "riemannian-midpoint", "riemannian-rk4"} <= set(registry.names("solver"))


@pytest.mark.parametrize("name", ["riemannian-euler", "riemannian-midpoint", "riemannian-rk4"])
def test_many_steps_of_a_network_field_stay_on_the_sphere(name):
    torch.manual_seed(0)
    field = manifold_mlp(manifold="sphere", dim=3, width=32, depth=2)
    x0 = Sphere().prior.sample((256, 3), generator=torch.Generator().manual_seed(1))
    solver = registry.create("solver", name, steps=1000, manifold="sphere")
    with torch.no_grad():
        x = solver.solve(field, x0, t0=0.0, t1=1.0).x
    assert Sphere().distance_to_manifold(x).max() < 1e-5
    plain = registry.create("solver", name.removeprefix("riemannian-"), steps=1000)
    with torch.no_grad():
        drift = Sphere().distance_to_manifold(plain.solve(field, x0, t0=0.0, t1=1.0).x).max()
    assert drift > Sphere().distance_to_manifold(x).max()  # the projection is what keeps it there


@pytest.mark.parametrize(("solver_cls", "order"), [(RiemannianEuler, 1), (RiemannianRK4, 4)])
def test_convergence_order_against_the_exact_rotation(solver_cls, order):
    x0 = Sphere().prior.sample((16, 3), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    exact = x0 @ torch.linalg.matrix_exp(SKEW).T
    errors = []
    for steps in (16, 32):
        x = solver_cls(steps=steps, manifold="sphere").solve(rotation, x0, t0=0.0, t1=1.0).x
        assert Sphere().distance_to_manifold(x).max() < 1e-12
        errors.append(float(Sphere().dist(x, exact).max()))
    assert math.log2(errors[0] / errors[1]) == pytest.approx(order, abs=0.3)


def test_torus_wraps_after_each_step():
    torus = FlatTorus()
    x0 = torus.prior.sample((32, 2), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    c = torch.tensor([7.0, -9.5], dtype=DTYPE)
    x = RiemannianEuler(steps=50, manifold=torus).solve(lambda t, x: c.expand_as(x), x0, t0=0.0, t1=1.0).x
    assert torus.distance_to_manifold(x).max() == 0
    assert torus.dist(x, torus.projx(x0 + c)).max() < 1e-10


def test_binds_the_paths_manifold_and_runs_plain_while_unbound():
    unbound = RiemannianRK4(steps=4)
    bound = unbound.bind(path=GeodesicPath(manifold="flat-torus"))
    assert isinstance(bound.manifold, FlatTorus) and unbound.manifold is None
    explicit = RiemannianRK4(steps=4, manifold="sphere")
    assert explicit.bind(path=GeodesicPath(manifold="flat-torus")) is explicit
    x0 = torch.tensor([[3.0, 0.0]], dtype=DTYPE)
    one = lambda t, x: torch.ones_like(x)  # noqa: E731
    assert torch.allclose(unbound.solve(one, x0, t0=0.0, t1=1.0).x, x0 + 1)  # no projection: 4 > pi
    assert torch.allclose(bound.solve(one, x0, t0=0.0, t1=1.0).x, torch.tensor([[4.0 - 2 * math.pi, 1.0]], dtype=DTYPE))
    with pytest.raises(InvalidParameterError, match="path 'geodesic'"):
        unbound.bind(path=registry.create("path", "ot"))
