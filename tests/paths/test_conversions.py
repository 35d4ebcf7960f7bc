"""Conversions between velocity, x1-prediction, epsilon-prediction and score."""

from __future__ import annotations

import pytest
import torch

from flowkit import registry

F64 = torch.float64


def _draw(path, times, n=6, shape=(3,)):
    x0 = torch.randn(n, *shape, dtype=F64) * path.prior_std
    x1 = torch.randn(n, *shape, dtype=F64)
    t = times(path, n)
    return x0, x1, t, path.sample(x0=x0, x1=x1, t=t)


def test_conditional_target_converts_to_its_endpoints(path, times):
    """At x_t with target u_t: x1-prediction = x1, epsilon = x0 / prior_std, score = grad log N(x_t; a x1, s^2)."""
    x0, x1, t, sample = _draw(path, times)
    x, v = sample.x_t, sample.u_t
    torch.testing.assert_close(path.velocity_to_x1(velocity=v, x=x, t=t), x1, rtol=1e-9, atol=1e-9)
    torch.testing.assert_close(
        path.velocity_to_epsilon(velocity=v, x=x, t=t), x0 / path.prior_std, rtol=1e-9, atol=1e-9
    )
    xg = x.clone().requires_grad_(True)
    (score,) = torch.autograd.grad(path.conditional_log_prob(x=xg, x1=x1, t=t).sum(), xg)
    torch.testing.assert_close(path.velocity_to_score(velocity=v, x=x, t=t), score, rtol=1e-8, atol=1e-8)


def test_round_trips(path, times):
    _, _, t, sample = _draw(path, times, shape=(2, 2))
    x = sample.x_t
    v = torch.randn_like(x)
    x1_hat = path.velocity_to_x1(velocity=v, x=x, t=t)
    eps_hat = path.velocity_to_epsilon(velocity=v, x=x, t=t)
    score = path.velocity_to_score(velocity=v, x=x, t=t)
    torch.testing.assert_close(path.x1_to_velocity(x1=x1_hat, x=x, t=t), v)
    torch.testing.assert_close(path.epsilon_to_velocity(epsilon=eps_hat, x=x, t=t), v)
    torch.testing.assert_close(path.score_to_velocity(score=score, x=x, t=t), v)
    # x = a x1_hat + s eps_hat for any velocity: the predictions decompose x
    a, s = path.a(t)[:, None, None], path.s(t)[:, None, None]
    torch.testing.assert_close(a * x1_hat + s * eps_hat, x)
    torch.testing.assert_close(score, -eps_hat / s)


def test_ot_formulas():
    """For OT (k = 1): x1 = x + (1 - t) v at sigma_min = 0, the rectified-flow identity."""
    path = registry.create("path", "ot", sigma_min=0.0)
    x, v, t = torch.randn(4, 2, dtype=F64), torch.randn(4, 2, dtype=F64), torch.rand(4, dtype=F64)
    torch.testing.assert_close(path.velocity_to_x1(velocity=v, x=x, t=t), x + (1 - t[:, None]) * v)
    torch.testing.assert_close(path.velocity_to_epsilon(velocity=v, x=x, t=t), x - t[:, None] * v)


@pytest.mark.parametrize("method, argument", [("epsilon_to_velocity", "epsilon"), ("score_to_velocity", "score")])
def test_prediction_without_information_at_t0_raises(method, argument):
    """a(0) = 0 for OT: x_0 carries no information about x1, so eps/score cannot give a velocity."""
    path = registry.create("path", "ot")
    x = torch.randn(3, 2)
    with pytest.raises(ValueError, match=r"a\(t\) != 0"):
        getattr(path, method)(**{argument: x, "x": x, "t": torch.zeros(3)})
