"""Exact densities of the toy data: normalisation, agreement with samples and with scipy."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from scipy.special import logsumexp

from flowkit import registry
from flowkit.data import Checkerboard, GaussianMixture
from flowkit.exceptions import ShapeError

DENSITIES = ["checkerboard", "8gaussians", "2d-mixture"]


def grid(half_width: float, step: float) -> tuple[torch.Tensor, float]:
    """Midpoints of a square grid over [-half_width, half_width]^2, and the cell area."""
    centres = torch.arange(-half_width + step / 2, half_width, step, dtype=torch.float64)
    xx, yy = torch.meshgrid(centres, centres, indexing="ij")
    return torch.stack([xx.flatten(), yy.flatten()], dim=1), step**2


@pytest.mark.parametrize("name", DENSITIES)
def test_density_integrates_to_one(name):
    data = registry.create("dataset", name, n_train=10, n_test=10)
    points, area = grid(9.0, 0.025)  # cell edges fall on the checkerboard edges
    total = data.log_prob(points).exp().sum() * area
    assert total == pytest.approx(1.0, abs=1e-4)


@pytest.mark.parametrize("name", DENSITIES)
def test_sample_histogram_matches_the_density(name):
    """Pearson chi-square of 40k samples against the density integrated over 0.5 x 0.5 bins."""
    data = registry.create("dataset", name, n_train=40_000, n_test=10)
    edges = torch.arange(-5.0, 5.01, 0.5, dtype=torch.float64)
    bins = len(edges) - 1
    fine, area = grid(5.0, 0.025)  # 20 x 20 sub-cells per bin
    mass = (data.log_prob(fine).exp() * area).reshape(bins, 20, bins, 20).sum(dim=(1, 3)).flatten()
    x = data.split("train").x.double()
    inside = ((x > -5.0) & (x < 5.0)).all(dim=1)
    index = torch.bucketize(x[inside], edges, right=True) - 1
    observed = torch.bincount(index[:, 0] * bins + index[:, 1], minlength=bins * bins).double()
    expected = mass * len(x)
    used = expected > 5
    assert observed[~used].sum() <= 0.01 * len(x)
    chi2 = ((observed[used] - expected[used]) ** 2 / expected[used]).sum().item()
    dof = int(used.sum()) - 1
    assert chi2 < dof + 6 * math.sqrt(2 * dof)


def test_checkerboard_density_is_uniform_on_black_squares():
    board = Checkerboard(n_train=1000, n_test=10)
    samples = board.split("train").x
    assert torch.allclose(board.log_prob(samples), torch.tensor(-math.log(32.0)))
    # FFJORD's board: the square [-4, -2) x [-4, -2) is black, its right neighbour white
    points = torch.tensor([[-3.0, -3.0], [-1.0, -3.0], [3.0, 3.0], [4.5, 0.0]], dtype=torch.float64)
    assert board.log_prob(points).tolist() == [-math.log(32.0), -math.inf, -math.log(32.0), -math.inf]


def test_mixture_log_prob_matches_scipy():
    mixture = registry.create("dataset", "2d-mixture", n_train=10, n_test=10)
    x = torch.randn(200, 2, dtype=torch.float64) * 2.5
    components = [
        np.log(w) + stats.multivariate_normal(mean, cov).logpdf(x.numpy())
        for w, mean, cov in zip(mixture.weights.numpy(), mixture.means.numpy(), mixture.covariances.numpy())
    ]
    expected = logsumexp(np.stack(components), axis=0)
    assert np.allclose(mixture.log_prob(x).numpy(), expected, rtol=1e-10, atol=1e-10)


def test_mixture_weights_are_normalised_and_higher_dimensions_work():
    mixture = GaussianMixture(
        n_train=50_000,
        n_test=10,
        weights=[2.0, 6.0],
        means=[[0.0, 0.0, 0.0], [3.0, 0.0, -3.0]],
        covariances=[torch.eye(3).tolist(), (0.5 * torch.eye(3)).tolist()],
    )
    assert mixture.event_shape == (3,) and mixture.num_classes == 2
    assert torch.allclose(mixture.weights, torch.tensor([0.25, 0.75], dtype=torch.float64))
    labels = mixture.split("train").y
    assert labels.double().mean().item() == pytest.approx(0.75, abs=0.01)


def test_log_prob_follows_the_input_dtype_and_rejects_wrong_shapes():
    data = registry.create("dataset", "8gaussians", n_train=10, n_test=10)
    assert data.log_prob(torch.zeros(4, 2, dtype=torch.float32)).dtype == torch.float32
    assert data.log_prob(torch.zeros(4, 2, dtype=torch.float64)).dtype == torch.float64
    with pytest.raises(ShapeError, match=r"shape \[batch, 2\]"):
        data.log_prob(torch.zeros(4, 3))
    with pytest.raises(ShapeError):
        data.log_prob(torch.zeros(4))


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "swissroll"])
def test_curves_say_they_have_no_density(name):
    data = registry.create("dataset", name, n_train=10, n_test=10)
    assert not data.has_density
    with pytest.raises(NotImplementedError, match="no closed-form density"):
        data.log_prob(torch.zeros(3, 2))
