"""Energy distance: hand-computed values, the Gaussian closed form, unbiasedness, errors."""

from __future__ import annotations

import math

import pytest
import torch

import flowkit.metrics.energy as energy_module
from flowkit import EvaluationContext, registry
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError
from flowkit.metrics import energy_distance


def metric(samples, reference) -> float:
    return registry.create("metric", "energy-distance")(EvaluationContext(samples=samples, reference=reference))[
        "energy_distance"
    ]


def test_tiny_examples_computed_by_hand():
    # 1D: cross |0-3|, |0-5|, |1-3|, |1-5| -> mean 3.5; within x: 1; within y: 2  =>  7 - 1 - 2 = 4
    x, y = torch.tensor([[0.0], [1.0]]), torch.tensor([[3.0], [5.0]])
    assert metric(x, y) == pytest.approx(4.0)
    # 2D: cross distances 4, 3, 3, 4 -> 3.5; within x: |(3, 4)| = 5; within y: |(3, -4)| = 5  =>  -3
    x = torch.tensor([[0.0, 0.0], [3.0, 4.0]])
    y = torch.tensor([[0.0, 4.0], [3.0, 0.0]])
    assert metric(x, y) == pytest.approx(-3.0)  # the unbiased statistic can be negative
    # images are flattened: the same points as [2, 1, 1, 2] tensors give the same value
    assert metric(x.reshape(2, 1, 1, 2), y.reshape(2, 1, 1, 2)) == pytest.approx(-3.0)


def gaussian_energy_distance(delta: float) -> float:
    """E(N(0, 1), N(delta, 1)) = 2 E|Z| - 2 E|X - X'|, Z ~ N(delta, 2), X - X' ~ N(0, 2)."""
    s = math.sqrt(2.0)
    phi = 0.5 * (1 + math.erf(-delta / (s * math.sqrt(2))))
    mean_abs = s * math.sqrt(2 / math.pi) * math.exp(-(delta**2) / (2 * s**2)) + delta * (1 - 2 * phi)
    return 2 * mean_abs - 2 * (2 / math.sqrt(math.pi))


def test_matches_the_closed_form_for_shifted_gaussians_and_grows_with_the_shift():
    """The mean of 100 unbiased estimates from 200 + 200 points is within ~4 standard errors."""
    x = torch.randn(100, 200, 1, dtype=torch.float64)
    y = torch.randn(100, 200, 1, dtype=torch.float64)
    deltas = (0.0, 0.5, 1.0, 2.0)
    values = [sum(energy_distance(a, b + delta).item() for a, b in zip(x, y)) / 100 for delta in deltas]
    for delta, value in zip(deltas, values):
        assert value == pytest.approx(gaussian_energy_distance(delta), abs=0.06)
    assert abs(values[0]) < 0.01
    assert values == sorted(values)
    # the metric gives the same statistic as the function
    assert metric(x[0], y[0] + 1.0) == pytest.approx(energy_distance(x[0], y[0] + 1.0).item(), rel=1e-12)


def test_same_distribution_in_two_dimensions_is_near_zero():
    assert abs(metric(torch.randn(2000, 2), torch.randn(2000, 2))) < 0.005


def test_u_statistic_is_unbiased():
    """Averaged over many tiny samples of one distribution the statistic is ~0 (a V-statistic
    would be biased upwards by (E|X-X'| + E|Y-Y'|) / n ~ 0.45 here)."""
    values = torch.stack([energy_distance(torch.randn(5, 1), torch.randn(5, 1)) for _ in range(400)])
    assert abs(values.mean().item()) < 4 * values.std().item() / math.sqrt(400)
    assert abs(values.mean().item()) < 0.08


def test_blockwise_sum_equals_the_direct_sum(monkeypatch):
    x, y = torch.randn(37, 3, dtype=torch.float64), torch.randn(29, 3, dtype=torch.float64) + 1
    direct = energy_distance(x, y)
    monkeypatch.setattr(energy_module, "BLOCK_ELEMENTS", 50)  # one or two rows per block
    assert torch.allclose(energy_distance(x, y), direct, rtol=1e-12)
    pairwise = (x[:, None] - y[None]).norm(dim=-1).mean()
    within_x = (x[:, None] - x[None]).norm(dim=-1).sum() / (37 * 36)
    within_y = (y[:, None] - y[None]).norm(dim=-1).sum() / (29 * 28)
    assert torch.allclose(direct, 2 * pairwise - within_x - within_y, rtol=1e-12)


def test_result_follows_the_inputs_dtype():
    assert (
        energy_distance(torch.randn(4, 2, dtype=torch.float64), torch.randn(3, 2, dtype=torch.float64)).dtype
        == torch.float64
    )
    assert energy_distance(torch.randn(4, 2), torch.randn(3, 2, dtype=torch.float64)).dtype == torch.float64


@pytest.mark.parametrize(
    ("samples", "reference", "error", "message"),
    [
        (torch.zeros(5, 2), torch.zeros(5, 3), ShapeError, "different event shapes"),
        (torch.zeros(5, 1, 8, 8), torch.zeros(5, 64), ShapeError, "different event shapes"),
        (torch.zeros(1, 2), torch.zeros(5, 2), ShapeError, "n >= 2"),
        (torch.full((5, 2), float("inf")), torch.zeros(5, 2), NonFiniteError, "samples"),
        (torch.zeros(5, 2, dtype=torch.long), torch.zeros(5, 2), ShapeError, "floating-point"),
    ],
)
def test_bad_inputs_raise_clear_errors(samples, reference, error, message):
    with pytest.raises(error, match=message):
        metric(samples, reference)


def test_function_checks_that_event_shapes_agree():
    with pytest.raises(ShapeError, match="parameter 'y'"):
        energy_distance(torch.zeros(5, 2), torch.zeros(6, 3))


def test_called_without_a_context():
    with pytest.raises(InvalidParameterError, match="EvaluationContext"):
        registry.create("metric", "energy-distance")(torch.zeros(3, 2))
