"""Token toys against their definitions, and the discrete-tv metric against exact values."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from flowkit import registry
from flowkit.core import EvaluationContext
from flowkit.discrete import DiscreteCheckerboard, MarkovText
from flowkit.discrete.metric import empirical_probabilities, expected_sampling_tv, total_variation
from flowkit.exceptions import InvalidParameterError, ShapeError


def test_checkerboard_probabilities_follow_the_board():
    data = DiscreteCheckerboard(n_train=4000, n_test=10, grid=8, cells=4)
    p = data.probabilities()
    for i, j in itertools.product(range(8), repeat=2):
        black = (i // 2 + j // 2) % 2 == 0
        assert float(p[i, j]) == pytest.approx(2 / 64 if black else 0.0)
    x = data.split("train").x
    assert x.dtype == torch.long and x.shape == (4000, 2) and data.vocab_size == 8
    assert bool(torch.isfinite(data.log_prob(x)).all())
    assert total_variation(p, empirical_probabilities(x, 8)) < 3 * expected_sampling_tv(p, 4000)
    with pytest.raises(InvalidParameterError, match="divide"):
        DiscreteCheckerboard(grid=10, cells=4)


def test_markov_text_probabilities_are_the_chain_products():
    data = MarkovText(n_train=6000, n_test=10, vocab_size=4, length=3, chain_seed=5)
    p = data.probabilities()
    assert float(p.sum()) == pytest.approx(1.0)
    for x in itertools.product(range(4), repeat=3):
        expected = data.initial[x[0]] * data.transition[x[0], x[1]] * data.transition[x[1], x[2]]
        assert float(p[x]) == pytest.approx(float(expected), abs=1e-15)
    x = data.split("train").x
    assert total_variation(p, empirical_probabilities(x, 4)) < 3 * expected_sampling_tv(p, 6000)
    torch.testing.assert_close(data.log_prob(x[:5]), torch.stack([p[tuple(r)] for r in x[:5].tolist()]).log())


def test_expected_sampling_tv_matches_simulation():
    p = torch.tensor([0.5, 0.3, 0.15, 0.05], dtype=torch.float64)
    generator = torch.Generator().manual_seed(0)
    draws = [
        total_variation(
            p, torch.bincount(torch.multinomial(p, 50, replacement=True, generator=generator), minlength=4) / 50.0
        )
        for _ in range(4000)
    ]
    assert sum(draws) / len(draws) == pytest.approx(expected_sampling_tv(p, 50), rel=0.03)
    assert expected_sampling_tv(torch.tensor([1.0, 0.0]), 10) == 0.0
    q = torch.tensor([0.3, 0.25, 0.2, 1 / 13, 0.1730769230769231], dtype=torch.float64)
    for n in (7, 13, 40):
        direct = sum(
            math.comb(n, k) * float(w) ** k * (1 - float(w)) ** (n - k) * abs(k / n - float(w))
            for w in q
            for k in range(n + 1)
        )
        assert expected_sampling_tv(q, n) == pytest.approx(0.5 * direct, rel=1e-10)


def test_metric_reports_joint_and_marginal_tv():
    data = DiscreteCheckerboard(n_train=10, n_test=10, grid=4, cells=2)
    metric = registry.create("metric", "discrete-tv")
    # all samples on one black cell: joint TV = 1 - 1/8; marginal of a row: 1/2 sum |delta_0 - 1/4| = 3/4
    samples = torch.zeros(100, 2, dtype=torch.long)
    values = metric.measure(EvaluationContext(samples=samples, reference=samples), data)
    assert values["tv"] == pytest.approx(1 - 1 / 8)
    assert values["tv-marginal"] == pytest.approx(0.75)
    masked = torch.full((100, 2), 4)
    assert metric.measure(EvaluationContext(samples=masked, reference=masked), data)["tv"] == pytest.approx(1.0)
    with pytest.raises(ShapeError, match="integer tokens"):
        metric.measure(EvaluationContext(samples=samples.float(), reference=samples), data)
    moons = registry.create("dataset", "moons", n_train=10, n_test=10)
    assert metric.measure(EvaluationContext(samples=samples, reference=samples), moons) == {}
    assert math.isfinite(values["tv-floor"])
