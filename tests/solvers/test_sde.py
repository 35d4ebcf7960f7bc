"""SDE samplers against closed forms: Gaussian data ``N(m, S^2)`` give a Gaussian marginal path.

For ``x_t = a x1 + s eps`` with ``x1 ~ N(m, diag S^2)`` the marginal is ``N(mu_t, diag sigma_t^2)``,
``mu_t = a m``, ``sigma_t^2 = a^2 S^2 + s^2``; its field is ``v = a' m + sigma_t'/sigma_t (x - mu_t)``
and its score ``-(x - mu_t) / sigma_t^2``. The SDE ``dx = (v + g^2/2 score) dt + g dW`` must keep
these marginals for any ``g``.
"""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, NonFiniteError

MEAN = torch.tensor([1.5, -0.5], dtype=torch.float64)
STD = torch.tensor([0.5, 1.2], dtype=torch.float64)


def _moments(path, t: torch.Tensor):
    """``(mu_t, sigma_t^2, d/dt sigma_t^2)`` per time (rows) and dimension (columns)."""
    t = t.to(torch.float64)[:, None]
    a, s, da, ds = path.a(t), path.s(t), path.da(t), path.ds(t)
    mean = a * MEAN
    var = a**2 * STD**2 + s**2
    dvar = 2 * a * da * STD**2 + 2 * s * ds
    return mean, var, dvar, da * MEAN


def exact_field(path):
    """The marginal velocity of the Gaussian data set along ``path``."""

    def field(t, x):
        mean, var, dvar, dmean = _moments(path, t)
        return (dmean + 0.5 * dvar / var * (x.to(torch.float64) - mean)).to(x.dtype)

    return field


def exact_score(path, t, x):
    mean, var, _, _ = _moments(path, t)
    return -(x - mean) / var


@pytest.mark.parametrize(
    "name, params",
    [("ot", {"sigma_min": 1e-3}), ("vp", {}), ("ve", {"sigma_min": 0.01, "sigma_max": 5.0}), ("cosine", {})],
)
def test_velocity_to_score_of_the_exact_field_is_the_exact_score(name, params):
    path = registry.create("path", name, **params)
    lo, hi = path.time_range
    t = torch.linspace(lo + 0.01, hi - 0.01, 7, dtype=torch.float64)
    x = torch.randn(7, 2, dtype=torch.float64) * 2
    score = path.velocity_to_score(velocity=exact_field(path)(t, x), x=x, t=t)
    torch.testing.assert_close(score, exact_score(path, t, x))


def _bound(name, path, **params):
    return registry.create("solver", name, **params).bind(path=path)


def _assert_gaussian(samples: torch.Tensor, mean: torch.Tensor, var: torch.Tensor, slack: float) -> None:
    """Sample mean and variance within 5 standard errors (plus ``slack`` relative, for the step bias)."""
    n = samples.shape[0]
    sample_mean, sample_var = samples.mean(0), samples.var(0)
    assert torch.all((sample_mean - mean).abs() < 5 * torch.sqrt(var / n) + slack * var.sqrt()), (sample_mean, mean)
    assert torch.all((sample_var - var).abs() < 5 * var * math.sqrt(2 / (n - 1)) + slack * var), (sample_var, var)


@pytest.mark.parametrize(
    "solver, path_name, params",
    [
        ("euler-maruyama", "ot", {"diffusion": 1.0}),
        ("euler-maruyama", "vp", {"diffusion": 1.0, "schedule": "std"}),
        ("sde-heun", "ot", {"diffusion": 1.5}),
    ],
)
def test_sde_keeps_the_marginals_at_intermediate_and_final_times(solver, path_name, params):
    path = registry.create("path", path_name)
    lo, hi = path.time_range
    n = 20_000
    x0 = path.prior.sample((n, 2), dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    middle = lo + 0.5 * (hi - lo)
    sde = _bound(solver, path, steps=100, seed=3, **params)
    solution = sde.solve(exact_field(path), x0, t0=lo, t1=hi, trajectory_times=[middle, hi])
    for time, samples in zip((middle, hi), solution.trajectory):
        mean, var, _, _ = _moments(path, torch.tensor([time]))
        _assert_gaussian(samples, mean[0], var[0], slack=0.01)
    # the ODE with the same field reaches the same marginal; the SDE paths are not the ODE's
    ode = registry.create("solver", "rk4", steps=50).solve(exact_field(path), x0, t0=lo, t1=hi).x
    _assert_gaussian(ode, *[m[0] for m in _moments(path, torch.tensor([hi]))[:2]], slack=0.01)
    assert (solution.x - ode).abs().mean() > 0.05


def test_zero_diffusion_is_euler_exactly():
    path = registry.create("path", "ot")
    x0 = torch.randn(64, 2, dtype=torch.float64)
    sde = _bound("euler-maruyama", path, steps=17, diffusion=0.0).solve(exact_field(path), x0)
    ode = registry.create("solver", "euler", steps=17).solve(exact_field(path), x0)
    assert torch.equal(sde.x, ode.x) and sde.nfe == ode.nfe == 17


def test_zero_diffusion_heun_is_the_heun_ode_solver_but_for_the_last_step():
    path = registry.create("path", "ot")
    x0 = torch.randn(64, 2, dtype=torch.float64)
    sde = _bound("sde-heun", path, steps=1, diffusion=0.0).solve(exact_field(path), x0, t1=0.5)
    ode = registry.create("solver", "heun", steps=1).solve(exact_field(path), x0, t1=0.5)
    torch.testing.assert_close(sde.x, ode.x)


@pytest.mark.parametrize("name, ode", [("euler-maruyama", "euler"), ("sde-heun", "heun")])
def test_backwards_is_the_probability_flow_ode_with_the_same_scheme(name, ode):
    path = registry.create("path", "ot")
    x1 = torch.randn(16, 2, dtype=torch.float64)
    sde = registry.create("solver", name, steps=6, diffusion=2.0).solve(exact_field(path), x1, t0=1.0, t1=0.0)
    reference = registry.create("solver", ode, steps=6).solve(exact_field(path), x1, t0=1.0, t1=0.0)
    torch.testing.assert_close(sde.x, reference.x)
    assert sde.nfe == reference.nfe


def test_strong_noise_changes_paths_but_the_seed_makes_them_reproducible():
    path = registry.create("path", "ot")
    x0 = torch.randn(32, 2)
    sde = _bound("euler-maruyama", path, steps=10, seed=5)
    first, again = sde.solve(exact_field(path), x0).x, sde.solve(exact_field(path), x0).x
    assert torch.equal(first, again)
    other = _bound("euler-maruyama", path, steps=10, seed=6).solve(exact_field(path), x0).x
    assert not torch.equal(first, other)


def test_learned_score_field_is_used_and_counted():
    path = registry.create("path", "ot")
    calls = []

    def score(t, x):
        calls.append(t.shape)
        return exact_score(path, t, x)

    x0 = torch.randn(8, 2, dtype=torch.float64)
    sde = registry.create("solver", "euler-maruyama", steps=5, score="model", seed=0).bind(path=path, score_field=score)
    converted = _bound("euler-maruyama", path, steps=5, seed=0).solve(exact_field(path), x0)
    learned = sde.solve(exact_field(path), x0)
    torch.testing.assert_close(learned.x, converted.x)
    assert len(calls) == 5 and learned.nfe == 10


@pytest.mark.parametrize("t1, velocity_calls", [(1.0, 4 * 2 + 1), (0.5, 5 * 2)])
def test_heun_counts_both_networks_and_its_last_step_into_the_end_is_euler_maruyama(t1, velocity_calls):
    path = registry.create("path", "ot")
    velocity, score = [], []

    def counted_velocity(t, x):
        velocity.append(t[0].item())
        return exact_field(path)(t, x)

    def counted_score(t, x):
        score.append(t[0].item())
        return exact_score(path, t, x)

    sde = registry.create("solver", "sde-heun", steps=5, score="model", seed=0).bind(
        path=path, score_field=counted_score
    )
    solution = sde.solve(counted_velocity, torch.randn(8, 2, dtype=torch.float64), t1=t1)
    assert len(velocity) == len(score) == velocity_calls and solution.nfe == 2 * velocity_calls
    assert max(velocity) == pytest.approx(t1 if t1 < 1.0 else 0.8)  # never evaluated at the singular end


def test_an_off_grid_trajectory_time_adds_one_step():
    path = registry.create("path", "ot")
    sde = _bound("euler-maruyama", path, steps=4, seed=0)
    solution = sde.solve(exact_field(path), torch.randn(8, 2, dtype=torch.float64), trajectory_times=[0.3, 1.0])
    assert solution.nfe == 5 and torch.equal(solution.trajectory[-1], solution.x)


def test_a_non_finite_sample_names_the_sampler_and_the_failing_step():
    path = registry.create("path", "ot")

    def field(t, x):  # NaN from t = 0.5 on
        return torch.where(t[:, None] >= 0.5, torch.full_like(x, float("nan")), exact_field(path)(t, x))

    with pytest.raises(
        NonFiniteError, match=r"EulerMaruyama\(diffusion=1.0, schedule='constant'\).*step 6 of 10, from t=0.5"
    ):
        _bound("euler-maruyama", path, steps=10, seed=0).solve(field, torch.randn(4, 2))


def test_errors_name_what_is_wrong():
    path = registry.create("path", "ot")
    field = exact_field(path)
    x0 = torch.randn(4, 2)
    with pytest.raises(InvalidParameterError, match="needs the pipeline's path"):
        registry.create("solver", "euler-maruyama").solve(field, x0)
    with pytest.raises(InvalidParameterError, match="needs a learned score field"):
        registry.create("solver", "euler-maruyama", score="model").bind(path=path).solve(field, x0)
    with pytest.raises(InvalidParameterError, match="diffusion must be"):
        registry.create("solver", "euler-maruyama", diffusion=-1.0)
    with pytest.raises(InvalidParameterError, match="schedule must be one of"):
        registry.create("solver", "euler-maruyama", schedule="linear")
