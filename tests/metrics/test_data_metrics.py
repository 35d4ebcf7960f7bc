"""Metrics that read the data set: support fraction / data log-density and the noise floor."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import EvaluationContext, registry
from flowkit.data import Checkerboard, EightGaussians, TensorData
from flowkit.exceptions import InvalidParameterError
from flowkit.metrics import energy_distance, sliced_wasserstein2


def measure(name, samples, reference, dataset, **params):
    return registry.create("metric", name, **params).measure(
        EvaluationContext(samples=samples, reference=reference), dataset
    )


def test_support_fraction_tells_blurred_squares_from_the_checkerboard():
    data = Checkerboard(n_train=4000, n_test=4000, seed=0)
    truth = data.sample(4000, generator=torch.Generator().manual_seed(1)).x
    blurred = truth + 0.3 * torch.randn(truth.shape, generator=torch.Generator().manual_seed(2))
    reference = data.split("test").x
    good = measure("data-density", truth, reference, data)
    bad = measure("data-density", blurred, reference, data)
    assert good["support_fraction"] == 1.0 and good["support_fraction_reference"] == 1.0
    # brute force: a point is in the support when its square (column + row) is black and on the board
    index = torch.floor((blurred + 4.0) / 2.0)
    inside = ((index >= 0) & (index < 4)).all(1) & (index.sum(1) % 2 == 0)
    assert bad["support_fraction"] == pytest.approx(float(inside.double().mean()))
    assert bad["support_fraction"] < 0.85  # a margin of > 0.15 at sampling noise ~0.006
    # uniform density on the support: log p is -log(32) wherever finite, so no mean log-density is reported
    assert float(data.log_prob(truth).max()) == pytest.approx(-math.log(32.0)) == float(data.log_prob(truth).min())
    assert "data_log_density" not in good and "data_log_density_reference" not in bad


def test_data_log_density_matches_the_gaussian_closed_form():
    # well-separated components (radius 10, std 0.354: neighbours 7.7 apart): log p(x) = log(1/8) + log N(x; mu_k, s^2 I) near mu_k,
    # and samples blurred by N(0, b^2 I) have E|x - mu_k|^2 = 2 (s^2 + b^2), so
    # E log p = -log 8 - log(2 pi s^2) - (s^2 + b^2) / s^2.
    data = EightGaussians(n_train=4000, n_test=4000, seed=0, radius=10.0)
    s, b, n = data.std, 0.3, 20000
    truth = data.sample(n, generator=torch.Generator().manual_seed(1)).x.double()
    blurred = truth + b * torch.randn(truth.shape, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    reference = data.split("test").x.double()
    base = -math.log(8) - math.log(2 * math.pi * s**2)
    good = measure("data-density", truth, reference, data)
    bad = measure("data-density", blurred, reference, data)
    assert good["data_log_density"] == pytest.approx(base - 1.0, abs=0.03)  # MC std of the mean ~0.007
    assert bad["data_log_density"] == pytest.approx(base - 1.0 - b**2 / s**2, abs=0.05)
    assert good["support_fraction"] == pytest.approx(0.99, abs=0.01)  # the 99%-mass region, by construction
    # the 99% region is |x - mu|^2 <= -2 ln(0.01) s^2, and |x - mu|^2 / (s^2 + b^2) ~ chi2_2 for blurred samples
    assert bad["support_fraction"] == pytest.approx(1 - 0.01 ** (s**2 / (s**2 + b**2)), abs=0.006)


def test_data_without_a_density_gives_no_values_and_a_context_alone_is_refused():
    data = registry.create("dataset", "moons", n_train=100, n_test=50)
    x = data.split("test").x
    assert measure("data-density", x, x, data) == {}
    with pytest.raises(InvalidParameterError, match="needs the data set"):
        registry.create("metric", "data-density")(EvaluationContext(samples=x, reference=x))


def test_noise_floor_is_the_statistic_between_independent_data_draws():
    data = Checkerboard(n_train=500, n_test=300, seed=0)
    reference = data.split("test").x
    values = measure("noise-floor", reference, reference, data, repeats=3, num_projections=16, seed=4)
    draws = [data.sample(300, generator=torch.Generator().manual_seed(4 * 1000 + r)).x for r in range(3)]
    energies = [float(energy_distance(d, reference)) for d in draws]
    sliced = [float(sliced_wasserstein2(d, reference, 16, torch.Generator().manual_seed(4))) for d in draws]
    assert values["energy_distance_floor"] == pytest.approx(math.sqrt(sum(e * e for e in energies) / 3))
    assert values["sliced_w2_floor"] == pytest.approx(sum(sliced) / 3)


def test_noise_floor_shrinks_with_the_sample_size_and_falls_back_to_training_slices():
    # the U-statistic's null spread falls like 1/n: 8x the points, a much lower RMS floor
    data = Checkerboard(n_train=10, n_test=4000, seed=0)
    ref = data.split("test").x
    small = measure("noise-floor", ref[:250], ref[:250], data, repeats=8)["energy_distance_floor"]
    large = measure("noise-floor", ref[:2000], ref[:2000], data, repeats=8)["energy_distance_floor"]
    assert large < small / 3
    x = torch.randn(100, 2, generator=torch.Generator().manual_seed(0))
    tensors = TensorData(x, test_fraction=0.2)  # no sampler: disjoint slices of the 80 training points
    reference = tensors.split("test").x
    values = measure("noise-floor", reference, reference, tensors, repeats=5)
    train = tensors.split("train").x
    energies = [float(energy_distance(train[r * 20 : (r + 1) * 20], reference)) for r in range(4)]
    assert values["energy_distance_floor"] == pytest.approx(math.sqrt(sum(e * e for e in energies) / 4))
    assert measure("noise-floor", x, x, tensors) == {}  # 100 points: the training split has fewer


def test_pipeline_evaluate_passes_its_data_set():
    from flowkit.pipeline import Pipeline

    pipeline = Pipeline({"data": {"name": "checkerboard", "n_train": 512, "n_test": 256}, "train": {"steps": 1}})
    values = pipeline.evaluate(metrics=["data-density", "noise-floor"], solver={"name": "euler", "steps": 2})
    assert set(values) >= {"support_fraction", "energy_distance_floor", "sliced_w2_floor"}
    assert 0.0 <= values["support_fraction"] <= 1.0 and values["support_fraction_reference"] == 1.0


def test_a_metric_that_declares_no_state_spaces_measures_continuous_samples():
    from flowkit import registry as components
    from flowkit.pipeline import Pipeline

    def mean_norm(context):
        return {"mean_norm": float(context.samples.norm(dim=1).mean())}

    with components.scoped():
        components.register("metric", "mean-norm", lambda: mean_norm)
        pipeline = Pipeline({"data": {"name": "moons", "n_train": 256, "n_test": 64}, "train": {"steps": 1}})
        values = pipeline.evaluate(metrics=["mean-norm"], solver={"name": "euler", "steps": 2})
    assert values["mean_norm"] > 0
