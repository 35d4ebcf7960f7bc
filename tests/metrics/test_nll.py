"""The nll metric: nats and bits/dim against closed forms, dequantisation, batching, errors."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import EvaluationContext, registry
from flowkit.data import bin_centres, quantize
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError


def standard_normal_log_prob(x: torch.Tensor) -> torch.Tensor:
    d = x[0].numel()
    return -0.5 * x.flatten(1).square().sum(1) - 0.5 * d * math.log(2 * math.pi)


def nll(context: EvaluationContext, **params) -> dict[str, float]:
    return dict(registry.create("metric", "nll", **params)(context))


def test_gaussian_data_under_the_true_density_gives_its_entropy():
    """E[-log N(x; 0, I_2)] = log(2 pi e) nats; bits/dim = that / (2 ln 2)."""
    reference = torch.randn(50_000, 2, dtype=torch.float64)
    result = nll(EvaluationContext(samples=reference[:2], reference=reference, log_prob=standard_normal_log_prob))
    entropy = math.log(2 * math.pi * math.e)
    assert result["nll_nats"] == pytest.approx(entropy, abs=0.02)
    assert result["bits_per_dim"] == pytest.approx(result["nll_nats"] / (2 * math.log(2)), rel=1e-12)


def test_batches_and_max_points_evaluate_exactly_the_requested_points():
    reference = torch.randn(25, 1, 2, 2)
    seen = []

    def log_prob(x):
        seen.append(len(x))
        return standard_normal_log_prob(x)

    context = EvaluationContext(samples=reference, reference=reference, log_prob=log_prob)
    result = nll(context, batch_size=7, max_points=20)
    assert seen == [7, 7, 6]
    assert result["nll_nats"] == pytest.approx(-standard_normal_log_prob(reference[:20]).mean().item(), rel=1e-6)
    assert result["bits_per_dim"] == pytest.approx(result["nll_nats"] / (4 * math.log(2)), rel=1e-6)


def test_uniform_model_on_quantised_data_costs_log2_k_bits_per_dim():
    """p = 2^-D on [-1, 1]^D gives bpd = (D log 2 + D log(K/2)) / (D ln 2) = log2 K exactly."""
    num_bins, dims = 8, 3
    levels = torch.randint(num_bins, (40, dims))
    reference = bin_centres(levels, num_bins)

    def run(**params) -> tuple[dict[str, float], torch.Tensor]:
        inputs = []

        def uniform_log_prob(x):
            inputs.append(x)
            return torch.full((len(x),), -dims * math.log(2.0))

        context = EvaluationContext(
            samples=reference, reference=reference, log_prob=uniform_log_prob, num_bins=num_bins
        )
        return nll(context, **params), torch.cat(inputs)

    result, seen = run()
    assert result["bits_per_dim"] == pytest.approx(3.0)
    assert result["nll_nats"] == pytest.approx(dims * math.log(2.0))
    # the model saw dequantised points: off the bin centres, inside the right bins
    assert not torch.equal(seen, reference)
    assert torch.equal(quantize(seen, num_bins), levels)
    # the noise is seeded
    assert torch.equal(run()[1], seen)
    assert not torch.equal(run(seed=1)[1], seen)


def test_zero_density_reports_infinite_nll():
    reference = torch.zeros(4, 2)
    context = EvaluationContext(
        samples=reference, reference=reference, log_prob=lambda x: torch.full((len(x),), -math.inf)
    )
    assert nll(context)["nll_nats"] == math.inf


@pytest.mark.parametrize(
    ("log_prob", "error", "message"),
    [
        (None, InvalidParameterError, "needs EvaluationContext.log_prob"),
        (lambda x: torch.zeros(len(x), 1), ShapeError, r"one log-density per point, \[4\], got \[4, 1\]"),
        (lambda x: 0.0, ShapeError, "got float"),
        (lambda x: torch.full((len(x),), math.nan), NonFiniteError, "NaN"),
    ],
)
def test_bad_log_prob_raises_a_clear_error(log_prob, error, message):
    reference = torch.zeros(4, 2)
    with pytest.raises(error, match=message):
        nll(EvaluationContext(samples=reference, reference=reference, log_prob=log_prob))


def test_bad_parameters_are_rejected():
    for params in ({"batch_size": 0}, {"max_points": 0}, {"seed": -2}):
        with pytest.raises(InvalidParameterError, match=next(iter(params))):
            registry.create("metric", "nll", **params)


def test_standard_errors_match_the_closed_form_spread_of_gaussian_log_densities():
    # -log N(x; 0, I_2) = |x|^2 / 2 + log 2 pi with |x|^2 ~ chi2_2 (variance 4): per-point std 1 nat
    reference = torch.randn(40_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    result = nll(EvaluationContext(samples=reference[:2], reference=reference, log_prob=standard_normal_log_prob))
    assert result["nll_nats_stderr"] == pytest.approx(1.0 / math.sqrt(40_000), rel=0.03)
    assert result["bits_per_dim_stderr"] == pytest.approx(result["nll_nats_stderr"] / (2 * math.log(2)), rel=1e-9)
    one = nll(EvaluationContext(samples=reference[:1], reference=reference[:1], log_prob=standard_normal_log_prob))
    assert math.isnan(one["bits_per_dim_stderr"])
