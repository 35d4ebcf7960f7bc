"""Sliced Wasserstein-2: exact 1D values, shifted Gaussians, symmetry, seeding, blocking."""

from __future__ import annotations

import math

import pytest
import torch

import flowkit.metrics.sliced as sliced_module
from flowkit import EvaluationContext, registry
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.metrics import sliced_wasserstein2


def metric(samples, reference, **params) -> float:
    sw = registry.create("metric", "sliced-w2", **params)
    return sw(EvaluationContext(samples=samples, reference=reference))["sliced_w2"]


def test_unequal_sizes_by_hand():
    # quantiles of {0, 1} vs {0, 1, 2}: on (1/3, 1/2) 0 vs 1, on (2/3, 1) 1 vs 2 -> W2^2 = 1/6 + 1/3
    x = torch.tensor([[1.0], [0.0]])
    y = torch.tensor([[2.0], [0.0], [1.0]])
    assert metric(x, y) == pytest.approx(math.sqrt(0.5))
    assert metric(y, x) == pytest.approx(math.sqrt(0.5))


def test_equal_sizes_is_the_mean_squared_difference_of_sorted_points():
    x, y = torch.randn(50, 1, dtype=torch.float64), torch.randn(50, 1, dtype=torch.float64) * 2 + 1
    expected = (x.flatten().sort().values - y.flatten().sort().values).square().mean().sqrt()
    assert sliced_wasserstein2(x, y, num_projections=3) == pytest.approx(expected.item(), rel=1e-12)


def test_one_dimensional_shifted_gaussians():
    """W2(N(0, 1), N(delta, 1)) = |delta|; in 1D every direction is +-1."""
    x, y = torch.randn(4000, 1), torch.randn(4000, 1)
    assert metric(x, y + 1.5) == pytest.approx(1.5, abs=0.05)
    assert metric(x, y) < 0.05


def test_two_dimensional_shift_gives_delta_over_sqrt_d():
    """SW2(N(0, I_2), N(delta e_1, I_2))^2 = delta^2 E[theta_1^2] = delta^2 / 2."""
    x, y = torch.randn(4000, 2), torch.randn(4000, 2) + torch.tensor([2.0, 0.0])
    assert metric(x, y, num_projections=512) == pytest.approx(2.0 / math.sqrt(2.0), abs=0.06)


def test_identical_sets_have_zero_distance_and_order_does_not_matter():
    x = torch.randn(100, 3)
    assert metric(x, x) == 0.0
    assert metric(x, x[torch.randperm(100)]) == 0.0


def test_seeded_directions_make_it_deterministic(monkeypatch):
    x, y = torch.randn(300, 4), torch.randn(200, 4) + 0.3
    first = metric(x, y, seed=7)
    assert metric(x, y, seed=7) == first
    assert metric(x, y, seed=8) != first
    monkeypatch.setattr(sliced_module, "BLOCK_ELEMENTS", 1000)  # one direction per block
    assert metric(x, y, seed=7) == pytest.approx(first, rel=1e-6)


def test_images_are_flattened():
    x, y = torch.randn(20, 1, 2, 2), torch.randn(30, 1, 2, 2)
    assert metric(x, y) == pytest.approx(metric(x.flatten(1), y.flatten(1)), rel=1e-6)


def test_bad_parameters_and_inputs():
    with pytest.raises(InvalidParameterError, match="num_projections"):
        registry.create("metric", "sliced-w2", num_projections=0)
    with pytest.raises(InvalidParameterError, match="seed"):
        registry.create("metric", "sliced-w2", seed=-1)
    with pytest.raises(ShapeError, match="different event shapes"):
        metric(torch.zeros(5, 2), torch.zeros(5, 3))
    with pytest.raises(ShapeError, match="n >= 1"):
        metric(torch.zeros(0, 2), torch.zeros(5, 2))
