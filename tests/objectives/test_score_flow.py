"""Score + flow matching: the score target's regression minimiser is the analytic marginal score.

For data ``x1 ~ N(m, diag S^2)`` paired independently with ``x0 ~ N(0, I)``, ``x_t`` is Gaussian at
each ``t`` with mean ``mu_t`` and variance ``sigma_t^2`` (per dimension), so the marginal score
``-(x - mu_t) / sigma_t^2`` is affine in ``x``: regressing the conditional target ``-eps / std_t``
on ``x_t`` by least squares must give slope ``-1 / sigma_t^2`` and intercept ``mu_t / sigma_t^2``.
"""

from __future__ import annotations

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError
from flowkit.models import ScoreFlowModel

MEAN = torch.tensor([1.0, -2.0], dtype=torch.float64)
STD = torch.tensor([0.5, 1.5], dtype=torch.float64)


def _fit_affine(x: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-dimension least squares ``target_d ~ slope_d x_d + intercept_d``."""
    xc, tc = x - x.mean(0), target - target.mean(0)
    slope = (xc * tc).sum(0) / xc.square().sum(0)
    return slope, target.mean(0) - slope * x.mean(0)


def _ot_moments(t: float):
    return t * MEAN, t**2 * STD**2 + (1 - t) ** 2


def _bridge_moments(sigma: float):
    return lambda t: (t * MEAN, t**2 * STD**2 + (1 - t) ** 2 + sigma**2 * t * (1 - t))


def _paths():
    cases = [pytest.param(lambda: registry.create("path", "ot", sigma_min=0.0), _ot_moments, id="ot")]
    try:
        import flowkit_bridge  # noqa: F401
    except ImportError:
        return cases
    cases.append(pytest.param(lambda: registry.create("path", "bridge", sigma=0.7), _bridge_moments(0.7), id="bridge"))
    return cases


@pytest.mark.parametrize("make_path, moments", _paths())
@pytest.mark.parametrize("t_value", [0.3, 0.8])
def test_score_target_regresses_to_the_analytic_marginal_score(make_path, moments, t_value):
    path = make_path()
    n = 200_000
    generator = torch.Generator().manual_seed(11)
    x1 = MEAN + STD * torch.randn(n, 2, dtype=torch.float64, generator=generator)
    x0 = torch.randn(n, 2, dtype=torch.float64, generator=generator)
    t = torch.full((n,), t_value, dtype=torch.float64)
    sample = path.sample(x0=x0, x1=x1, t=t, generator=generator)
    std, eps = path.conditional_noise(sample)
    assert std.shape == (n,) and eps.shape == (n, 2)
    torch.testing.assert_close(eps.std(0), torch.ones(2, dtype=torch.float64), atol=0.01, rtol=0)
    slope, intercept = _fit_affine(sample.x_t, -eps / std[:, None])
    mean, var = moments(t_value)
    torch.testing.assert_close(slope, -1 / var, rtol=0.02, atol=0)
    torch.testing.assert_close(intercept, mean / var, rtol=0, atol=0.02 * float((1 / var).max()))


def _score_flow_model():
    torch.manual_seed(0)
    return registry.create("model", "score-flow-mlp", dim=2, width=16, depth=2).double()


def test_loss_trains_both_heads_and_adds_the_weighted_score_term():
    path = registry.create("path", "ot")
    objective = registry.create("objective", "sf2m", path=path, coupling=registry.create("coupling", "independent"))
    model = _score_flow_model()
    assert isinstance(model, ScoreFlowModel)
    x1 = torch.randn(64, 2, dtype=torch.float64)
    loss = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(0))
    loss.backward()
    for head in (model.velocity, model.score_network):
        assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in head.parameters())
    # the same draws by hand: flow term of cfm plus ||s(t) score + eps||^2
    cfm = registry.create("objective", "cfm", path=path, coupling=registry.create("coupling", "independent"))
    flow = cfm.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(0))
    sample = cfm.draw(x1, torch.Generator().manual_seed(0))
    std, eps = path.conditional_noise(sample)
    score_term = (std[:, None] * model.score(sample.t, sample.x_t) + eps).square().mean()
    doubled = registry.create("objective", "sf2m", path=path, score_weight=2.0)
    torch.testing.assert_close(loss, flow + score_term)
    torch.testing.assert_close(
        doubled.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(0)), flow + 2 * score_term
    )


def test_errors_name_the_missing_score_head_and_path_capability():
    objective = registry.create("objective", "sf2m", path=registry.create("path", "ot"))
    plain = registry.create("model", "mlp", dim=2)
    with pytest.raises(InvalidParameterError, match="score-flow-mlp"):
        objective.loss(model=plain, x1=torch.randn(8, 2))
    with pytest.raises(InvalidParameterError, match="score_weight"):
        registry.create("objective", "sf2m", score_weight=0.0)

    class NoNoisePath(type(registry.create("path", "ot"))):
        conditional_noise = None

    with pytest.raises(InvalidParameterError, match="conditional_noise"):
        registry.create("objective", "sf2m", path=NoNoisePath())


@pytest.mark.slow
def test_a_trained_score_head_matches_the_analytic_score():
    from flowkit.pipeline import Pipeline

    mean, std = MEAN.float(), STD.float()
    data = mean + std * torch.randn(4096, 2, generator=torch.Generator().manual_seed(0))
    config = {
        "path": {"name": "ot", "sigma_min": 0.0},
        "objective": "sf2m",
        "model": {"name": "score-flow-mlp", "width": 32, "depth": 2},
        "device": "cpu",
        "train": {"steps": 250, "batch_size": 256, "lr": 3e-3, "warmup_steps": 20, "ema_decay": 0.99},
    }
    pipeline = Pipeline(config, data=data)
    pipeline.fit(progress=False)
    generator = torch.Generator().manual_seed(1)
    for t in (0.3, 0.6):
        var = t**2 * std**2 + (1 - t) ** 2
        x = t * mean + var.sqrt() * torch.randn(2000, 2, generator=generator)
        exact = -(x - t * mean) / var
        with torch.no_grad():
            learned = pipeline.ema_model.score(torch.full((2000,), t), x)
        relative = (learned - exact).square().sum(1).mean() / exact.square().sum(1).mean()
        assert relative < 0.05, (t, float(relative))
