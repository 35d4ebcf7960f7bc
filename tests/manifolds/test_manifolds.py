"""The sphere and the flat torus against closed forms: exp/log round trips, distances, geodesics."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.core.manifold import Manifold, UniformManifoldPrior, resolve_manifold
from flowkit.exceptions import InvalidParameterError, ShapeError, UnknownComponentError
from flowkit.manifolds import FlatTorus, Sphere, wrap_angle

DTYPE = torch.float64


def _sphere_points(n: int, d: int, seed: int) -> torch.Tensor:
    return Sphere().prior.sample((n, d), dtype=DTYPE, generator=torch.Generator().manual_seed(seed))


def _torus_points(n: int, d: int, seed: int) -> torch.Tensor:
    return FlatTorus().prior.sample((n, d), dtype=DTYPE, generator=torch.Generator().manual_seed(seed))


def test_registered_by_name():
    assert {"sphere", "flat-torus"} <= set(registry.names("manifold"))
    assert isinstance(resolve_manifold("sphere"), Sphere)
    assert isinstance(resolve_manifold("flat-torus"), FlatTorus)
    torus = FlatTorus()
    assert resolve_manifold(torus) is torus
    with pytest.raises(UnknownComponentError, match="sphere"):
        resolve_manifold("spere")
    with pytest.raises(InvalidParameterError, match="manifold must be"):
        resolve_manifold(3)


@pytest.mark.parametrize("d", [2, 3, 5])
def test_sphere_exp_log_round_trip_and_distance(d):
    x, y = _sphere_points(200, d, 0), _sphere_points(200, d, 1)
    sphere = Sphere()
    v = sphere.logmap(x, y)
    assert torch.allclose((v * x).sum(1), torch.zeros(200, dtype=DTYPE), atol=1e-12)  # tangent at x
    assert torch.allclose(v.norm(dim=1), torch.arccos((x * y).sum(1)), atol=1e-10)  # |log_x y| = d(x, y)
    assert torch.allclose(sphere.expmap(x, v), y, atol=1e-10)
    assert torch.allclose(sphere.dist(x, y), torch.arccos((x * y).sum(1).clamp(-1, 1)), atol=1e-10)
    assert torch.allclose(sphere.dist(x, x), torch.zeros(200, dtype=DTYPE), atol=1e-12)
    # log_x(exp_x(u)) = u for tangent u shorter than pi
    u = sphere.proju(x, torch.randn(200, d, dtype=DTYPE, generator=torch.Generator().manual_seed(2)))
    u = u * (
        2.5 * torch.rand(200, 1, dtype=DTYPE, generator=torch.Generator().manual_seed(3)) / u.norm(dim=1, keepdim=True)
    )
    assert torch.allclose(sphere.logmap(x, sphere.expmap(x, u)), u, atol=1e-10)


def test_sphere_known_geodesic_on_a_great_circle():
    sphere = Sphere()
    x0 = torch.tensor([[1.0, 0.0, 0.0]], dtype=DTYPE)
    x1 = torch.tensor([[0.0, 1.0, 0.0]], dtype=DTYPE)
    kappa = torch.tensor([0.3], dtype=DTYPE)
    x, dx = sphere.geodesic(x0, x1, kappa)
    angle = 0.3 * math.pi / 2
    assert torch.allclose(x, torch.tensor([[math.cos(angle), math.sin(angle), 0.0]], dtype=DTYPE))
    assert torch.allclose(dx, (math.pi / 2) * torch.tensor([[-math.sin(angle), math.cos(angle), 0.0]], dtype=DTYPE))


@pytest.mark.parametrize("manifold", [Sphere(), FlatTorus()], ids=repr)
def test_closed_form_geodesic_derivative_matches_autodiff_through_expmap(manifold):
    points = _sphere_points if isinstance(manifold, Sphere) else _torus_points
    x0, x1 = points(50, 4, 5), points(50, 4, 6)
    kappa = torch.rand(50, dtype=DTYPE, generator=torch.Generator().manual_seed(7))
    x, dx = manifold.geodesic(x0, x1, kappa)
    x_generic, dx_generic = Manifold.geodesic(manifold, x0, x1, kappa)
    assert torch.allclose(x, x_generic, atol=1e-12) and torch.allclose(dx, dx_generic, atol=1e-10)
    ends = (
        manifold.geodesic(x0, x1, torch.zeros(50, dtype=DTYPE))[0],
        manifold.geodesic(x0, x1, torch.ones(50, dtype=DTYPE))[0],
    )
    assert torch.allclose(ends[0], x0, atol=1e-12) and manifold.dist(ends[1], x1).max() < 1e-10


def test_sphere_projections_and_uniform_prior():
    sphere = Sphere()
    z = torch.randn(100, 3, dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    x = sphere.projx(z)
    assert torch.allclose(x.norm(dim=1), torch.ones(100, dtype=DTYPE))
    assert sphere.distance_to_manifold(x).max() < 1e-12 and sphere.distance_to_manifold(2 * x).min() > 0.99
    u = sphere.proju(x, z)
    assert torch.allclose((u * x).sum(1), torch.zeros(100, dtype=DTYPE), atol=1e-12)
    assert torch.allclose(sphere.proju(x, u), u)  # a projection
    prior = sphere.prior
    assert isinstance(prior, UniformManifoldPrior)
    assert torch.allclose(prior.log_prob(x), torch.full((100,), -math.log(4 * math.pi), dtype=DTYPE))  # area 4 pi
    assert sphere.log_volume(2) == pytest.approx(math.log(2 * math.pi))  # circumference
    assert sphere.log_volume(4) == pytest.approx(math.log(2 * math.pi**2))
    draws = prior.sample((20_000, 3), dtype=DTYPE, generator=torch.Generator().manual_seed(1))
    assert sphere.distance_to_manifold(draws).max() < 1e-12
    assert draws.mean(0).abs().max() < 0.03 and (draws.square().mean(0) - 1 / 3).abs().max() < 0.01
    with pytest.raises(InvalidParameterError, match="d >= 2"):
        sphere.prior.sample((3, 1))
    with pytest.raises(ShapeError, match=r"\[batch, d\]"):
        prior.sample((3, 2, 2))


@pytest.mark.parametrize("d", [1, 3])
def test_torus_wrapped_differences(d):
    torus = FlatTorus()
    x, y = _torus_points(300, d, 0), _torus_points(300, d, 1)
    v = torus.logmap(x, y)
    brute = torch.stack([(y - x + 2 * math.pi * k) for k in (-1, 0, 1)])  # every lift of y - x within reach
    shortest = brute.gather(0, brute.abs().argmin(0, keepdim=True)).squeeze(0)
    assert torch.allclose(v, shortest, atol=1e-12)
    assert torch.allclose(torus.dist(x, y), shortest.norm(dim=1), atol=1e-12)
    assert torch.allclose(torus.logmap(x, torus.expmap(x, v)), v, atol=1e-12)
    assert torch.allclose(torus.expmap(x, v), y, atol=1e-12)
    assert torch.equal(torus.proju(x, v), v)
    assert torus.distance_to_manifold(torus.projx(x + 10.0)).max() == 0
    assert torch.allclose(torus.projx(x + 2 * math.pi * 3), x, atol=1e-12)
    assert torch.allclose(torus.prior.log_prob(x), torch.full((300,), -d * math.log(2 * math.pi), dtype=DTYPE))


def test_wrap_angle_range():
    a = torch.linspace(-20, 20, 1001, dtype=DTYPE)
    w = wrap_angle(a)
    assert (w >= -math.pi).all() and (w < math.pi).all()
    assert torch.allclose(torch.cos(w), torch.cos(a)) and torch.allclose(torch.sin(w), torch.sin(a))


@pytest.mark.parametrize("manifold", [Sphere(), FlatTorus()], ids=repr)
def test_tangent_from_embedding_is_the_adjoint_of_the_embeddings_differential(manifold):
    points = _sphere_points if isinstance(manifold, Sphere) else _torus_points
    x = points(40, 3, 0)
    u = manifold.proju(x, torch.randn(40, 3, dtype=DTYPE, generator=torch.Generator().manual_seed(1)))
    w = torch.randn(40, manifold.embedding_dim(3), dtype=DTYPE, generator=torch.Generator().manual_seed(2))
    _, pushed = torch.func.jvp(manifold.embed, (x,), (u,))  # de(x) u
    assert manifold.embed(x).shape == (40, manifold.embedding_dim(3))
    assert torch.allclose((pushed * w).sum(1), (u * manifold.tangent_from_embedding(x, w)).sum(1), atol=1e-12)
    assert torch.allclose(
        manifold.proju(x, manifold.tangent_from_embedding(x, w)), manifold.tangent_from_embedding(x, w)
    )
