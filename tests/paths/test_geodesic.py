"""The geodesic path: endpoints, d/dt x_t = u_t by finite differences, tangent targets, cfm."""

from __future__ import annotations

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.paths.geodesic import GeodesicPath

DTYPE = torch.float64
MANIFOLDS = ["sphere", "flat-torus"]


def _endpoints(path: GeodesicPath, n: int = 64, d: int = 3):
    x0 = path.prior.sample((n, d), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    x1 = path.prior.sample((n, d), dtype=DTYPE, generator=torch.Generator().manual_seed(1))
    return x0, x1


@pytest.mark.parametrize("manifold", MANIFOLDS)
@pytest.mark.parametrize("schedule", [{"exponent": 1.0}, {"exponent": 2.5}, {"scheduler": "cosine"}])
def test_endpoints_and_time_derivative(manifold, schedule):
    path = registry.create("path", "geodesic", manifold=manifold, **schedule)
    x0, x1 = _endpoints(path)
    n = x0.shape[0]
    start = path.sample(x0=x0, x1=x1, t=torch.zeros(n, dtype=DTYPE))
    end = path.sample(x0=x0, x1=x1, t=torch.ones(n, dtype=DTYPE))
    assert torch.allclose(start.x_t, x0, atol=1e-12)
    assert path.manifold.dist(end.x_t, x1).max() < 1e-10
    t = 0.05 + 0.9 * torch.rand(n, dtype=DTYPE, generator=torch.Generator().manual_seed(2))
    h = 1e-6
    sample = path.sample(x0=x0, x1=x1, t=t)
    ahead, behind = path.sample(x0=x0, x1=x1, t=t + h).x_t, path.sample(x0=x0, x1=x1, t=t - h).x_t
    central = (path.manifold.logmap(sample.x_t, ahead) - path.manifold.logmap(sample.x_t, behind)) / (
        2 * h
    )  # in the chart log_{x_t}
    assert torch.allclose(sample.u_t, central, atol=1e-6)
    assert path.manifold.distance_to_manifold(sample.x_t).max() < 1e-12
    assert torch.allclose(path.manifold.proju(sample.x_t, sample.u_t), sample.u_t, atol=1e-12)  # tangent


def test_sphere_speed_is_kappa_prime_times_distance():
    path = GeodesicPath(manifold="sphere", exponent=2.0)
    x0, x1 = _endpoints(path)
    t = torch.full((x0.shape[0],), 0.5, dtype=DTYPE)
    speed = path.sample(x0=x0, x1=x1, t=t).u_t.norm(dim=1)
    assert torch.allclose(speed, 2 * 0.5 * path.manifold.dist(x0, x1), atol=1e-10)


def test_cfm_regresses_onto_the_tangent_target():
    path = registry.create("path", "geodesic", manifold="sphere")
    objective = registry.create("objective", "cfm", path=path)
    x1 = path.prior.sample((32, 3), generator=torch.Generator().manual_seed(0))
    sample = objective.draw(x1, torch.Generator().manual_seed(1))
    assert path.manifold.distance_to_manifold(sample.x0).max() < 1e-6  # x0 from the uniform prior
    assert torch.equal(objective.target(sample), sample.u_t)
    perfect = {}

    def oracle(t, x):
        perfect["x"] = x
        return sample.u_t

    loss = objective.loss(model=oracle, x1=x1, generator=torch.Generator().manual_seed(1))
    assert torch.equal(perfect["x"], sample.x_t) and float(loss) == 0.0


def test_bad_arguments():
    with pytest.raises(InvalidParameterError, match="exponent"):
        GeodesicPath(exponent=0.0)
    with pytest.raises(InvalidParameterError, match="applies to the 'polynomial' scheduler only"):
        GeodesicPath(scheduler="cosine", exponent=2.0)
    with pytest.raises(InvalidParameterError, match="scheduler must be one of 'polynomial', 'cosine'"):
        GeodesicPath(scheduler="linearish")
    path = GeodesicPath(manifold="flat-torus")
    with pytest.raises(ShapeError, match=r"\[batch, d\]"):
        path.sample(x0=torch.zeros(4, 2), x1=torch.zeros(4, 3), t=torch.zeros(4))
