"""Bad input to paths and priors raises clear flowkit errors; checks switch off with shape_checks(False)."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry, shape_checks
from flowkit.exceptions import FlowkitError, InvalidParameterError, NonFiniteError, ShapeError
from flowkit.paths import IsotropicGaussian, SchedulePath


def _batch(n=4, d=2):
    return torch.randn(n, d), torch.randn(n, d), torch.rand(n)


@pytest.mark.parametrize("bad_t", [-0.1, 1.5, math.nan, math.inf])
def test_time_outside_range(path, bad_t):
    x0, x1, t = _batch()
    t[1] = bad_t
    with pytest.raises(InvalidParameterError, match=r"t must lie in \[0, "):
        path.sample(x0=x0, x1=x1, t=t)
    with pytest.raises(InvalidParameterError, match="t must lie in"):
        path.marginal_vector_field(x=x0, t=t, data=x1)


def test_vp_raises_beyond_t_max():
    path = registry.create("path", "vp")
    x0, x1, _ = _batch()
    with pytest.raises(InvalidParameterError, match=r"singular at t = 1"):
        path.sample(x0=x0, x1=x1, t=torch.ones(4))
    shifted = registry.create("path", "vp", t_max=0.999)
    with pytest.raises(InvalidParameterError, match=r"\[0, 0.999\]"):
        shifted.sample(x0=x0, x1=x1, t=torch.full((4,), 0.9995))


@pytest.mark.parametrize("name, params", [("ot", {"sigma_min": 0.0}), ("cosine", {})])
def test_field_at_point_mass_raises_but_sample_is_finite(name, params):
    path = registry.create("path", name, **params)
    x0, x1, _ = _batch()
    one = torch.ones(4)
    sample = path.sample(x0=x0, x1=x1, t=one)
    assert bool(torch.isfinite(sample.u_t).all())
    torch.testing.assert_close(sample.x_t, x1)
    for method in ("conditional_vector_field", "x1_to_velocity"):
        with pytest.raises(InvalidParameterError, match=r"s\(t\) > 0"):
            getattr(path, method)(x=x0, x1=x1, t=one)
    with pytest.raises(InvalidParameterError, match=r"s\(t\) > 0"):
        path.marginal_vector_field(x=x0, t=one, data=x1)
    with pytest.raises(InvalidParameterError, match=r"s\(t\) > 0"):
        path.marginal_log_prob(x=x0, t=one, data=x1)


@pytest.mark.parametrize("argument", ["x0", "x1"])
def test_non_finite_inputs(path, argument):
    x0, x1, t = _batch()
    tensors = {"x0": x0, "x1": x1}
    tensors[argument][2, 1] = math.nan
    with pytest.raises(NonFiniteError, match=argument):
        path.sample(x0=tensors["x0"], x1=tensors["x1"], t=t)


def test_non_finite_data_for_marginal():
    path = registry.create("path", "ot")
    x, data, t = _batch()
    data[0, 0] = math.inf
    with pytest.raises(NonFiniteError, match="data"):
        path.marginal_vector_field(x=x, t=t, data=data)


def test_shape_mismatches():
    path = registry.create("path", "ot")
    x0, x1, t = _batch()
    with pytest.raises(ShapeError, match="x1"):
        path.sample(x0=x0, x1=x1[:3], t=t)
    with pytest.raises(ShapeError, match="t"):
        path.sample(x0=x0, x1=x1, t=t[:3])
    with pytest.raises(ShapeError, match="x1"):
        path.conditional_vector_field(x=x0, x1=torch.randn(4, 3), t=t)
    with pytest.raises(ShapeError, match="data"):
        path.marginal_vector_field(x=x0, t=t, data=torch.randn(5, 3))
    with pytest.raises(ShapeError, match="t"):
        path.sample(x0=x0, x1=x1, t=torch.tensor(0.5))
    with pytest.raises(InvalidParameterError, match="at least one point"):
        path.marginal_vector_field(x=x0, t=t, data=torch.randn(0, 2))
    with pytest.raises(InvalidParameterError, match="chunk_size"):
        path.marginal_vector_field(x=x0, t=t, data=x1, chunk_size=0)


def test_errors_are_flowkit_and_builtin_types():
    assert issubclass(InvalidParameterError, ValueError) and issubclass(InvalidParameterError, FlowkitError)
    assert issubclass(NonFiniteError, FlowkitError) and issubclass(ShapeError, TypeError)


def test_checks_off_skip_value_validation():
    """In hot loops (shape_checks(False)) no value is read back; out-of-range t is then not caught."""
    path = registry.create("path", "ot")
    x0, x1, _ = _batch()
    with shape_checks(False):
        sample = path.sample(x0=x0, x1=x1, t=torch.full((4,), 2.0))
    torch.testing.assert_close(sample.x_t, 2.0 * x1 + (1 - 2 * (1 - 1e-4)) * x0)


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("ot", {"sigma_min": 1.0}, "sigma_min"),
        ("ot", {"sigma_min": -0.1}, "sigma_min"),
        ("vp", {"beta_min": 0.0}, "beta_min"),
        ("vp", {"beta_min": 1.0, "beta_max": 0.5}, "beta_max"),
        ("vp", {"t_max": 1.0}, "t_max"),
        ("ve", {"sigma_min": 1.0, "sigma_max": 0.5}, "sigma_max"),
        ("ve", {"sigma_min": 0.0}, "sigma_min"),
        ("ot", {"sigmamin": 0.1}, "sigma_min"),
        ("schedule", {"a": 1.0, "s": lambda t: 1 - t}, "callable"),
        ("schedule", {"a": lambda t: t, "s": lambda t: 1 - t, "time_range": (0.5, 0.2)}, "time_range"),
        ("schedule", {"a": lambda t: t, "s": lambda t: 1 - t, "prior_std": 0}, "prior_std"),
        ("schedule", {"a": lambda t: t, "s": lambda t: t - 0.5}, "s"),
        ("schedule", {"a": lambda t: t[:2], "s": lambda t: 1 - t}, "shaped like t"),
        ("schedule", {"a": lambda t: t, "s": lambda t: torch.log(t)}, "finite"),
    ],
)
def test_invalid_parameters(name, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        registry.create("path", name, **params)


def test_schedule_accepts_constants():
    path = SchedulePath(a=lambda t: 1.0, s=lambda t: 2.0 - t, prior_std=2.0)
    t = torch.rand(3)
    torch.testing.assert_close(path.da(t), torch.zeros(3))
    torch.testing.assert_close(path.ds(t), -torch.ones(3))


def test_prior_log_prob_and_sample():
    prior = IsotropicGaussian(std=3.0)
    x = torch.randn(5, 2, 3, dtype=torch.float64)
    expected = torch.distributions.Normal(0.0, 3.0).log_prob(x).sum(dim=(1, 2))
    torch.testing.assert_close(prior.log_prob(x), expected)
    draws = prior.sample((4000, 2), generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    assert draws.dtype == torch.float64 and draws.shape == (4000, 2)
    assert abs(draws.std().item() - 3.0) < 5 * 3.0 / math.sqrt(2 * 8000)  # 5 standard errors
    with pytest.raises(ValueError, match="std"):
        IsotropicGaussian(std=-1.0)
    with pytest.raises(ValueError, match=r"\[batch, \*dims\]"):
        prior.sample((5,))
