"""The hand-written CFM baseline: it follows flowkit's recipe but shares none of its code."""

from __future__ import annotations

import math
import statistics

import pytest
import torch

from flowkit import registry, shape_checks
from flowkit.bench.baseline import _learning_rate, train_cfm_by_hand
from flowkit.pipeline import TrainConfig
from flowkit.pipeline.schedule import learning_rate


@pytest.mark.parametrize("schedule", ["cosine", "linear", "constant"])
def test_learning_rate_matches_flowkits_schedule(schedule):
    config = TrainConfig(steps=50, lr=3e-3, warmup_steps=7, lr_schedule=schedule, min_lr_ratio=0.1)
    for step in range(config.steps):
        expected = learning_rate(
            step,
            lr=config.lr,
            steps=config.steps,
            warmup_steps=config.warmup_steps,
            schedule=schedule,
            min_lr_ratio=0.1,
        )
        assert _learning_rate(step, config) == pytest.approx(expected, rel=1e-12)


def test_baseline_loss_estimates_flowkits_cfm_loss_on_the_ot_path():
    """With a learning rate too small to move the weights, the baseline's mean loss over many
    batches and flowkit's ``cfm`` objective on the ``ot`` path estimate the same expectation."""
    torch.manual_seed(0)
    model = registry.create("model", "mlp", dim=2, width=32, depth=2)
    x = registry.create("dataset", "moons", n_train=4096, n_test=16).split("train").x
    steps, sigma_min = 60, 0.05
    config = TrainConfig(steps=steps, batch_size=256, lr=1e-30, warmup_steps=0, ema_decay=0.0, log_every=1)
    history, average = train_cfm_by_hand(model, x, None, config=config, sigma_min=sigma_min, num_bins=None, seed=0)
    assert average is model and len(history) == steps
    baseline = [record["loss"] for record in history]
    path = registry.create("path", "ot", sigma_min=sigma_min)
    objective = registry.create("objective", "cfm", path=path, coupling=registry.create("coupling", "independent"))
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad(), shape_checks(False):
        flowkit = [
            float(
                objective.loss(
                    model=model, x1=x[torch.randint(len(x), (256,), generator=generator)], generator=generator
                )
            )
            for _ in range(steps)
        ]
    spread = math.sqrt((statistics.variance(baseline) + statistics.variance(flowkit)) / steps)
    assert abs(statistics.fmean(baseline) - statistics.fmean(flowkit)) < 4 * spread


def test_baseline_reduces_the_loss_and_keeps_an_ema_copy():
    torch.manual_seed(0)
    model = registry.create("model", "mlp", dim=2, width=32, depth=2)
    x = registry.create("dataset", "moons", n_train=2048, n_test=16).split("train").x
    config = TrainConfig(steps=150, batch_size=128, lr=3e-3, warmup_steps=10, ema_decay=0.9, log_every=50)
    history, average = train_cfm_by_hand(model, x, None, config=config, sigma_min=1e-4, num_bins=None, seed=0)
    assert [r["step"] for r in history] == [50, 100, 150]
    assert history[-1]["loss"] < history[0]["loss"]
    assert average is not model and not average.training
    assert all(not p.requires_grad for p in average.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(average.parameters(), model.parameters()))
