"""Each path against its own definition: d/dt x_t = u_t, analytic vs autograd derivatives, endpoints."""

from __future__ import annotations

import math

import pytest
import torch
from path_cases import builtin_gaussian_path_names

from flowkit import registry
from flowkit.paths import SchedulePath, time_derivative

F64 = torch.float64


def _dxt_dt(path, x0, x1, t):
    """d/dt x_t by reverse-mode autograd through ``path.sample`` with x0, x1 fixed (one pass per coordinate)."""
    t = t.clone().requires_grad_(True)
    x_t = path.sample(x0=x0, x1=x1, t=t).x_t.reshape(x0.shape[0], -1)
    columns = [torch.autograd.grad(x_t[:, i].sum(), t, retain_graph=True)[0] for i in range(x_t.shape[1])]
    return torch.stack(columns, dim=1).reshape(x0.shape)


def test_time_derivative_of_sample_is_the_target(path, times):
    x0 = torch.randn(7, 3, dtype=F64) * path.prior_std
    x1 = torch.randn(7, 3, dtype=F64)
    t = times(path, 7)
    sample = path.sample(x0=x0, x1=x1, t=t)
    torch.testing.assert_close(_dxt_dt(path, x0, x1, t), sample.u_t, rtol=1e-10, atol=1e-10)


def test_target_equals_conditional_field_at_x_t(path, times):
    x0 = torch.randn(7, 2, 2, dtype=F64) * path.prior_std
    x1 = torch.randn(7, 2, 2, dtype=F64)
    t = times(path, 7)
    sample = path.sample(x0=x0, x1=x1, t=t)
    field = path.conditional_vector_field(x=sample.x_t, x1=x1, t=t)
    torch.testing.assert_close(field, sample.u_t, rtol=1e-9, atol=1e-9)


def test_analytic_derivatives_equal_autograd(path, times):
    t = times(path, 11)
    torch.testing.assert_close(path.da(t), time_derivative(path.a, t), rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(path.ds(t), time_derivative(path.s, t), rtol=1e-12, atol=1e-12)
    a, s, da, ds = (torch.as_tensor(c, dtype=F64).expand(t.shape) for c in path.coefficients(t))
    torch.testing.assert_close(a, path.a(t))
    torch.testing.assert_close(s, path.s(t))
    torch.testing.assert_close(da, path.da(t))
    torch.testing.assert_close(ds, path.ds(t))


@pytest.mark.parametrize("name", sorted(set(builtin_gaussian_path_names()) - {"schedule"}))
def test_builtin_equals_schedule_path_with_autograd_derivatives(name, times):
    builtin = registry.create("path", name)
    generic = SchedulePath(a=builtin.a, s=builtin.s, prior_std=builtin.prior_std, time_range=builtin.time_range)
    t = times(builtin, 6)
    x0 = torch.randn(6, 4, dtype=F64) * builtin.prior_std
    x1 = torch.randn(6, 4, dtype=F64)
    data = torch.randn(9, 4, dtype=F64)
    ours, theirs = builtin.sample(x0=x0, x1=x1, t=t), generic.sample(x0=x0, x1=x1, t=t)
    torch.testing.assert_close(ours.x_t, theirs.x_t)
    torch.testing.assert_close(ours.u_t, theirs.u_t, rtol=1e-10, atol=1e-10)
    x = ours.x_t
    torch.testing.assert_close(
        builtin.conditional_vector_field(x=x, x1=x1, t=t),
        generic.conditional_vector_field(x=x, x1=x1, t=t),
        rtol=1e-10,
        atol=1e-10,
    )
    torch.testing.assert_close(
        builtin.marginal_vector_field(x=x, t=t, data=data),
        generic.marginal_vector_field(x=x, t=t, data=data),
        rtol=1e-10,
        atol=1e-10,
    )


def test_ot_closed_forms():
    path = registry.create("path", "ot", sigma_min=0.01)
    x0, x1, t = torch.randn(5, 2, dtype=F64), torch.randn(5, 2, dtype=F64), torch.rand(5, dtype=F64)
    sample = path.sample(x0=x0, x1=x1, t=t)
    torch.testing.assert_close(sample.x_t, t[:, None] * x1 + (1 - 0.99 * t[:, None]) * x0)
    torch.testing.assert_close(sample.u_t, x1 - 0.99 * x0)
    # the paper's form of the field: (x1 - (1 - sigma_min) x) / (1 - (1 - sigma_min) t)
    x = torch.randn(5, 2, dtype=F64)
    expected = (x1 - 0.99 * x) / (1 - 0.99 * t[:, None])
    torch.testing.assert_close(path.conditional_vector_field(x=x, x1=x1, t=t), expected)


def test_vp_closed_forms(vp_constants):
    path = registry.create("path", "vp")
    t = torch.linspace(0, path.t_max, 9, dtype=F64)
    a, s = path.a(t), path.s(t)
    torch.testing.assert_close(a * a + s * s, torch.ones_like(t))
    r = 1 - t
    torch.testing.assert_close(a, torch.exp(-(0.1 * r + 19.9 * r * r / 2) / 2))
    assert path.a(torch.zeros(1, dtype=F64)).item() == pytest.approx(vp_constants[1], rel=1e-12)


def test_ve_closed_forms():
    path = registry.create("path", "ve", sigma_min=0.01, sigma_max=50.0)
    t = torch.linspace(0, 1, 5, dtype=F64)
    torch.testing.assert_close(path.s(t), 0.01 * 5000.0 ** (1 - t))
    torch.testing.assert_close(path.a(t), torch.ones_like(t))
    assert path.prior.std == 50.0
    # the path noise is the standardised prior draw: x_t = x1 + s(t) x0 / sigma_max
    x0, x1 = 50.0 * torch.randn(5, 3, dtype=F64), torch.randn(5, 3, dtype=F64)
    torch.testing.assert_close(path.sample(x0=x0, x1=x1, t=t).x_t, x1 + (path.s(t) / 50.0)[:, None] * x0)


def test_cosine_closed_forms():
    path = registry.create("path", "cosine")
    t = torch.linspace(0, 1, 7, dtype=F64)
    torch.testing.assert_close(path.a(t), torch.sin(math.pi * t / 2))
    torch.testing.assert_close(path.s(t), torch.cos(math.pi * t / 2), rtol=0, atol=1e-15)
    assert path.s(torch.ones(1)).item() == 0.0  # exactly, in float32 too


@pytest.mark.parametrize(
    "name, params, a0, a1, s1",
    [
        ("ot", {"sigma_min": 1e-4}, 0.0, 1.0, 1e-4),
        ("ot", {"sigma_min": 0.0}, 0.0, 1.0, 0.0),
        ("cosine", {}, 0.0, 1.0, 0.0),
        ("ve", {"sigma_min": 0.01, "sigma_max": 50.0}, 1.0, 1.0, 0.01),
    ],
)
def test_endpoints(name, params, a0, a1, s1):
    """t = 0: N(a(0) x1, prior_std^2 I); t = 1: N(x1, sigma_min^2 I)."""
    path = registry.create("path", name, **params)
    zero, one = torch.zeros(1, dtype=F64), torch.ones(1, dtype=F64)
    assert path.a(zero).item() == pytest.approx(a0, abs=1e-15)
    assert path.s(zero).item() == pytest.approx(path.prior_std, rel=1e-15)
    assert path.a(one).item() == pytest.approx(a1, abs=1e-15)
    assert path.s(one).item() == pytest.approx(s1, abs=1e-15)
    x0 = torch.randn(4, 2, dtype=F64) * path.prior_std
    x1 = torch.randn(4, 2, dtype=F64)
    at_one = path.sample(x0=x0, x1=x1, t=one.expand(4)).x_t
    torch.testing.assert_close(at_one, x1 + s1 * x0 / path.prior_std)
    if a0 == 0.0:  # OT and cosine start exactly at the prior draw
        torch.testing.assert_close(path.sample(x0=x0, x1=x1, t=zero.expand(4)).x_t, x0)


def test_vp_endpoints(vp_constants):
    path = registry.create("path", "vp")
    integral, a0 = vp_constants
    zero = torch.zeros(1, dtype=F64)
    assert path.s(zero).item() == pytest.approx(math.sqrt(1 - math.exp(-integral)), rel=1e-14)
    # t = 0: N(a0 x1, (1 - a0^2) I) vs the prior N(0, I): KL = (a0^2 |x1|^2 + d (-a0^2 - log(1 - a0^2))) / 2
    assert a0 < 0.007
    # t_max = 1 - 1e-5: s(t_max)^2 = 1 - exp(-T(1e-5)) ~ T(1e-5) ~ 1e-6, a(t_max) ~ 1
    t_max = torch.tensor([path.t_max], dtype=F64)
    r = 1e-5
    expected_var = -math.expm1(-(0.1 * r + 19.9 * r * r / 2))
    assert path.s(t_max).item() == pytest.approx(math.sqrt(expected_var), rel=1e-6)
    assert path.a(t_max).item() == pytest.approx(1.0, abs=1e-6)


def test_t0_marginal_of_ot_is_the_prior():
    path = registry.create("path", "ot")
    x = torch.randn(6, 3, dtype=F64)
    data = torch.randn(10, 3, dtype=F64)
    got = path.marginal_log_prob(x=x, t=torch.zeros(6, dtype=F64), data=data)
    torch.testing.assert_close(got, path.prior.log_prob(x))
    torch.testing.assert_close(got, path.log_prob(x))


def test_sample_follows_input_dtype():
    path = registry.create("path", "vp")
    for dtype in (torch.float32, torch.float64):
        x0, x1, t = torch.randn(3, 2, dtype=dtype), torch.randn(3, 2, dtype=dtype), torch.rand(3, dtype=dtype)
        sample = path.sample(x0=x0, x1=x1, t=t)
        assert sample.x_t.dtype == dtype and sample.u_t.dtype == dtype
