"""Closed-form checks of the Brownian-bridge path: d/dt x_t = u_t, endpoints, marginal moments."""

from __future__ import annotations

import math

import pytest
import torch
from flowkit_bridge import BrownianBridgePath

from flowkit import InvalidParameterError, PathSample, ProbabilityPath, ShapeError


def _textbook_field(t, x, x0, x1):
    """u_t(x | x0, x1) = x1 - x0 + (1 - 2t) / (2 t (1 - t)) (x - t x1 - (1 - t) x0), t in (0, 1)."""
    tb = t[:, None]
    return x1 - x0 + (1 - 2 * tb) / (2 * tb * (1 - tb)) * (x - tb * x1 - (1 - tb) * x0)


def test_is_a_probability_path_with_standard_normal_prior():
    path = BrownianBridgePath(sigma=0.5)
    assert isinstance(path, ProbabilityPath)
    x0 = path.prior.sample((4, 3), dtype=torch.float64)
    assert x0.shape == (4, 3) and x0.dtype == torch.float64
    expected = torch.distributions.Normal(0.0, 1.0).log_prob(x0).sum(dim=1)
    torch.testing.assert_close(path.log_prob(x0), expected)
    torch.testing.assert_close(path.log_prob(torch.zeros(2, 3, 4)), torch.full((2,), -6 * math.log(2 * math.pi)))


def test_velocity_is_the_time_derivative_of_x_t_with_noise_fixed():
    path = BrownianBridgePath(sigma=0.7)
    x0, x1, eps = torch.randn(3, 16, 3, dtype=torch.float64)
    t = torch.linspace(0.02, 0.98, 16, dtype=torch.float64).requires_grad_()
    x_t = path.interpolate(t, x0, x1, eps)
    # sample i depends on t_i alone, so the gradient of a column sum is that column's d/dt
    dx_dt = torch.stack([torch.autograd.grad(x_t[:, d].sum(), t, retain_graph=True)[0] for d in range(3)], dim=1)
    x_t, t = x_t.detach(), t.detach()
    torch.testing.assert_close(path.velocity(t, x0, x1, eps), dx_dt)
    torch.testing.assert_close(_textbook_field(t, x_t, x0, x1), dx_dt)


def test_sampled_target_is_the_conditional_field_at_the_sampled_point():
    path = BrownianBridgePath(sigma=1.3)
    x0, x1 = torch.randn(2, 32, 2, 2, dtype=torch.float64)
    t = torch.rand(32, dtype=torch.float64) * 0.9 + 0.05
    sample = path.sample(x0=x0, x1=x1, t=t, generator=torch.Generator().manual_seed(3))
    assert isinstance(sample, PathSample)
    flat = lambda a: a.reshape(32, -1)  # noqa: E731
    torch.testing.assert_close(flat(sample.u_t), _textbook_field(t, flat(sample.x_t), flat(x0), flat(x1)))


def test_endpoints_are_exact_and_finite():
    path = BrownianBridgePath(sigma=2.0)
    x0, x1 = torch.randn(2, 3, 5)
    t = torch.tensor([0.0, 1.0, 0.5])
    sample = path.sample(x0=x0, x1=x1, t=t)
    assert torch.equal(sample.x_t[0], x0[0])
    assert torch.equal(sample.x_t[1], x1[1])
    torch.testing.assert_close(sample.u_t[:2], (x1 - x0)[:2])
    assert not torch.equal(sample.x_t[2], 0.5 * (x0[2] + x1[2]))  # noise is present inside (0, 1)
    assert path.std(t)[:2].eq(0).all() and path.std_derivative(t)[:2].eq(0).all()


@pytest.mark.parametrize("dtype", [torch.float16, torch.float32, torch.float64])
def test_no_nan_or_inf_at_times_next_to_the_endpoints(dtype):
    path = BrownianBridgePath(sigma=1.0)
    tiny = torch.finfo(dtype).smallest_normal * torch.finfo(dtype).eps  # the smallest subnormal
    t = torch.tensor([0.0, tiny, torch.finfo(dtype).eps, 0.5, 1 - torch.finfo(dtype).eps, 1.0], dtype=dtype)
    x0, x1 = torch.randn(2, 6, 4, dtype=dtype)
    sample = path.sample(x0=x0, x1=x1, t=t)
    assert sample.x_t.dtype == dtype and sample.u_t.dtype == dtype
    assert torch.isfinite(sample.x_t).all() and torch.isfinite(sample.u_t).all()


def test_marginal_at_fixed_time_has_the_bridge_mean_and_variance():
    sigma, t_value, n = 0.8, 0.3, 40_000
    path = BrownianBridgePath(sigma=sigma)
    x0 = torch.tensor([[-1.0, 2.0]], dtype=torch.float64).expand(n, 2)
    x1 = torch.tensor([[3.0, 0.5]], dtype=torch.float64).expand(n, 2)
    t = torch.full((n,), t_value, dtype=torch.float64)
    x_t = path.sample(x0=x0, x1=x1, t=t, generator=torch.Generator().manual_seed(0)).x_t
    mean = t_value * x1[0] + (1 - t_value) * x0[0]
    variance = sigma**2 * t_value * (1 - t_value)
    # five standard errors of the sample mean and of the sample variance of a Gaussian
    assert torch.all((x_t.mean(0) - mean).abs() < 5 * math.sqrt(variance / n))
    assert torch.all((x_t.var(0) - variance).abs() < 5 * variance * math.sqrt(2 / (n - 1)))


def test_sample_follows_the_input_dtype_and_the_generator():
    path = BrownianBridgePath(sigma=0.5)
    x0, x1 = torch.randn(2, 4, 3, dtype=torch.float64)
    t = torch.rand(4, dtype=torch.float64)
    first = path.sample(x0=x0, x1=x1, t=t, generator=torch.Generator().manual_seed(7))
    again = path.sample(x0=x0, x1=x1, t=t, generator=torch.Generator().manual_seed(7))
    assert first.x_t.dtype == torch.float64
    assert torch.equal(first.x_t, again.x_t) and torch.equal(first.u_t, again.u_t)


@pytest.mark.parametrize("bad_t", [[-0.1, 0.5], [0.5, 1.5], [float("nan"), 0.5]])
def test_times_outside_the_unit_interval_are_rejected(bad_t):
    path = BrownianBridgePath()
    x = torch.randn(2, 3)
    with pytest.raises(InvalidParameterError, match=r"t must lie in \[0, 1\]"):
        path.sample(x0=x, x1=x, t=torch.tensor(bad_t))


def test_mismatched_shapes_are_rejected():
    path = BrownianBridgePath()
    with pytest.raises(ShapeError, match="x1"):
        path.sample(x0=torch.randn(4, 3), x1=torch.randn(4, 2), t=torch.rand(4))
    with pytest.raises(ShapeError, match="t"):
        path.sample(x0=torch.randn(4, 3), x1=torch.randn(4, 3), t=torch.rand(5))
