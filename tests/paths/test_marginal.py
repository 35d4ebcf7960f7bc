"""The marginal path of an empirical data set: density, field, continuity equation, chunking."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry

F64 = torch.float64


def _points_on_path(path, data, t, generator=None):
    """``x_t ~ p_t`` for the empirical distribution of ``data`` at times ``t``."""
    index = torch.randint(data.shape[0], (t.shape[0],), generator=generator)
    x0 = path.prior.sample((t.shape[0], *data.shape[1:]), dtype=data.dtype, generator=generator)
    return path.sample(x0=x0, x1=data[index], t=t).x_t


def _brute_force(path, x, t, data):
    """Direct formulas: log p_t via torch.distributions, u_t as the softmax-weighted conditional fields."""
    a, s, da, ds = (torch.as_tensor(c, dtype=F64).expand(t.shape)[:, None, None] for c in path.coefficients(t))
    means = a * data[None]  # [b, n, d]
    normal = torch.distributions.Normal(means, s.expand_as(means))
    log_components = normal.log_prob(x[:, None, :]).sum(dim=2)  # [b, n]
    log_prob = torch.logsumexp(log_components, dim=1) - math.log(data.shape[0])
    weights = torch.softmax(log_components, dim=1)[:, :, None]
    fields = ds / s * (x[:, None, :] - means) + da * data[None]
    return log_prob, (weights * fields).sum(dim=1)


def test_marginal_matches_brute_force(path, times):
    data = torch.randn(13, 3, dtype=F64)
    t = times(path, 8)
    x = _points_on_path(path, data, t)
    log_prob, field = _brute_force(path, x, t, data)
    torch.testing.assert_close(path.marginal_log_prob(x=x, t=t, data=data), log_prob, rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(path.marginal_vector_field(x=x, t=t, data=data), field, rtol=1e-9, atol=1e-9)


def test_chunking_does_not_change_the_result(path, times):
    data = torch.randn(10, 2, 2, dtype=F64)
    t = times(path, 5)
    x = _points_on_path(path, data, t)
    full_field = path.marginal_vector_field(x=x, t=t, data=data)
    full_log_prob = path.marginal_log_prob(x=x, t=t, data=data)
    for chunk_size in (1, 3, 7, 10, 50):
        torch.testing.assert_close(path.marginal_vector_field(x=x, t=t, data=data, chunk_size=chunk_size), full_field)
        torch.testing.assert_close(path.marginal_log_prob(x=x, t=t, data=data, chunk_size=chunk_size), full_log_prob)


def test_single_point_marginal_is_the_conditional(path, times):
    x1 = torch.randn(1, 4, dtype=F64)
    t = times(path, 6)
    x = torch.randn(6, 4, dtype=F64)
    torch.testing.assert_close(
        path.marginal_vector_field(x=x, t=t, data=x1),
        path.conditional_vector_field(x=x, x1=x1.expand(6, 4), t=t),
        rtol=1e-10,
        atol=1e-10,
    )
    torch.testing.assert_close(
        path.marginal_log_prob(x=x, t=t, data=x1), path.conditional_log_prob(x=x, x1=x1.expand(6, 4), t=t)
    )


def _continuity_residual(path, field_fn, x, t, data, h=1e-5):
    """``d/dt log p_t + u . grad log p_t + div u`` at ``(x, t)``: time derivative by central
    finite differences, space derivatives by autograd. Zero iff ``d/dt p_t + div(p_t u_t) = 0``."""
    dlogp_dt = (path.marginal_log_prob(x=x, t=t + h, data=data) - path.marginal_log_prob(x=x, t=t - h, data=data)) / (
        2 * h
    )
    xg = x.clone().requires_grad_(True)
    (grad_log_p,) = torch.autograd.grad(path.marginal_log_prob(x=xg, t=t, data=data).sum(), xg)
    u = field_fn(xg)
    divergence = sum(torch.autograd.grad(u[:, i].sum(), xg, retain_graph=True)[0][:, i] for i in range(x.shape[1]))
    transport = (u * grad_log_p).sum(dim=1)
    scale = dlogp_dt.abs() + transport.abs() + divergence.abs()
    return (dlogp_dt + transport + divergence).detach(), scale.detach()


def test_continuity_equation(path, times):
    data = torch.tensor([[-1.0, 0.5], [1.2, 0.8], [0.1, -1.3]], dtype=F64)
    t = times(path, 9)
    x = _points_on_path(path, data, t, generator=torch.Generator().manual_seed(1))
    residual, scale = _continuity_residual(
        path, lambda xg: path.marginal_vector_field(x=xg, t=t, data=data), x, t, data
    )
    assert bool((scale > 1e-3).all())  # the terms are not trivially zero
    assert residual.abs().max().item() < 1e-6 * (1 + scale.max().item())


def test_continuity_check_detects_a_wrong_field():
    """Negative control: the conditional field of one data point does not transport the mixture."""
    path = registry.create("path", "ot")
    data = torch.tensor([[-1.0, 0.5], [1.2, 0.8], [0.1, -1.3]], dtype=F64)
    t = torch.full((6,), 0.6, dtype=F64)
    x = _points_on_path(path, data, t, generator=torch.Generator().manual_seed(1))
    residual, scale = _continuity_residual(
        path, lambda xg: path.conditional_vector_field(x=xg, x1=data[:1].expand(6, 2), t=t), x, t, data
    )
    assert residual.abs().max().item() > 0.1


def test_marginal_score_matches_velocity_to_score(path, times):
    """The score of p_t (autograd of marginal_log_prob) equals velocity_to_score(marginal field)."""
    data = torch.randn(5, 3, dtype=F64)
    t = times(path, 6)
    x = _points_on_path(path, data, t).requires_grad_(True)
    (score,) = torch.autograd.grad(path.marginal_log_prob(x=x, t=t, data=data).sum(), x)
    x = x.detach()
    velocity = path.marginal_vector_field(x=x, t=t, data=data)
    torch.testing.assert_close(path.velocity_to_score(velocity=velocity, x=x, t=t), score, rtol=1e-8, atol=1e-8)


def test_far_points_stay_finite():
    """Log-space weights: points 1e3 standard deviations away still give finite, correct fields."""
    path = registry.create("path", "ot")
    data = torch.tensor([[0.0, 0.0], [3.0, 0.0]])
    x = torch.tensor([[1e3, 0.0], [-1e3, 5.0]])
    t = torch.tensor([0.999, 0.999])
    field = path.marginal_vector_field(x=x, t=t, data=data)
    assert bool(torch.isfinite(field).all())
    nearest = torch.stack([data[1], data[0]])
    torch.testing.assert_close(field, path.conditional_vector_field(x=x, x1=nearest, t=t))


@pytest.mark.parametrize("t_value", [0.5, 0.99, 0.999])
def test_float32_accuracy_with_offset_data(t_value):
    """float32 marginal fields stay within 1e-3 (relative) of float64 for data far from the origin."""
    path = registry.create("path", "ot")
    generator = torch.Generator().manual_seed(3)
    data = 20.0 + torch.randn(64, 8, dtype=F64, generator=generator)
    t = torch.full((32,), t_value, dtype=F64)
    x = _points_on_path(path, data, t, generator=generator)
    exact = path.marginal_vector_field(x=x, t=t, data=data)
    single = path.marginal_vector_field(x=x.float(), t=t.float(), data=data.float(), chunk_size=16).double()
    error = (single - exact).norm(dim=1) / exact.norm(dim=1)
    assert error.max().item() < 1e-3
