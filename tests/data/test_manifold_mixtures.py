"""Toy data on the sphere and the torus: samplers and exact densities checked independently."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.data.manifold_mixtures import TorusMixture, VonMisesFisherMixture, von_mises_fisher_log_normalizer
from flowkit.exceptions import InvalidParameterError
from flowkit.manifolds import FlatTorus, Sphere

DTYPE = torch.float64


@pytest.mark.parametrize("kappa", [0.5, 10.0, 200.0])
def test_von_mises_fisher_normalizer_on_s2_closed_form(kappa):
    # C_3(kappa) = kappa / (4 pi sinh kappa), written stably as log kappa - log(2 pi) - kappa - log(1 - e^{-2 kappa})
    expected = math.log(kappa) - math.log(2 * math.pi) - kappa - math.log1p(-math.exp(-2 * kappa))
    assert von_mises_fisher_log_normalizer(3, kappa) == pytest.approx(expected, rel=1e-12)
    # on the circle: 1 / (2 pi I_0(kappa))
    assert von_mises_fisher_log_normalizer(2, 0.5) == pytest.approx(
        -math.log(2 * math.pi * float(torch.special.i0(torch.tensor(0.5, dtype=DTYPE))))
    )


def test_sphere_mixture_samples_and_density():
    data = registry.create("dataset", "sphere-mixture", n_train=20_000, n_test=10)
    x, y = data.split("train").x.to(DTYPE), data.split("train").y
    assert x.shape == (20_000, 3) and Sphere().distance_to_manifold(x).max() < 1e-6
    for k in range(data.num_classes):  # mean resultant length A_3(kappa) = coth kappa - 1/kappa
        kappa = float(data.concentrations[k])
        cosine = (x[y == k] @ data.means[k]).mean()
        assert float(cosine) == pytest.approx(1 / math.tanh(kappa) - 1 / kappa, abs=0.01)
    assert torch.bincount(y, minlength=4).div(20_000).sub(data.weights.float()).abs().max() < 0.015
    # the density integrates to 1 over the sphere: E_uniform[p] * 4 pi
    u = Sphere().prior.sample((400_000, 3), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    assert float(data.log_prob(u).exp().mean() * 4 * math.pi) == pytest.approx(1.0, abs=0.02)
    assert data.has_density


def test_sphere_mixture_in_higher_dimension_integrates_to_one():
    data = VonMisesFisherMixture(
        n_train=10, n_test=10, means=[[1, 0, 0, 0, 0], [0, 0, 0, 1, 1]], concentrations=[3.0, 6.0], weights=[1, 2]
    )
    u = Sphere().prior.sample((400_000, 5), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    assert float(data.log_prob(u).exp().mean() * math.exp(Sphere().log_volume(5))) == pytest.approx(1.0, abs=0.02)


def test_torus_mixture_samples_and_density():
    data = registry.create("dataset", "torus-mixture", n_train=20_000, n_test=10)
    x = data.split("train").x.to(DTYPE)
    assert x.shape == (20_000, 2) and FlatTorus().distance_to_manifold(x).max() == 0
    # the density integrates to 1 on [-pi, pi)^2, by a midpoint rule
    grid = (torch.arange(400, dtype=DTYPE) + 0.5) / 400 * 2 * math.pi - math.pi
    points = torch.cartesian_prod(grid, grid)
    assert float(data.log_prob(points).exp().sum() * (2 * math.pi / 400) ** 2) == pytest.approx(1.0, abs=1e-6)
    # samples follow it: the histogram of a 2D grid of cells against the density's cell masses
    cells = 8
    index = ((x + math.pi) / (2 * math.pi) * cells).long().clamp(max=cells - 1)
    counts = torch.bincount(index[:, 0] * cells + index[:, 1], minlength=cells**2).to(DTYPE) / len(x)
    cell_of = ((points + math.pi) / (2 * math.pi) * cells).long()
    mass = torch.zeros(cells**2, dtype=DTYPE).index_add_(
        0, cell_of[:, 0] * cells + cell_of[:, 1], data.log_prob(points).exp()
    )
    mass *= (2 * math.pi / 400) ** 2
    assert (counts - mass).abs().max() < 0.01


def test_bad_parameters():
    with pytest.raises(InvalidParameterError, match="concentrations"):
        VonMisesFisherMixture(n_train=5, n_test=5, concentrations=[1.0, -1.0, 1.0, 1.0])
    with pytest.raises(InvalidParameterError, match="stds"):
        TorusMixture(n_train=5, n_test=5, stds=[0.1, 3.0, 0.2])
    with pytest.raises(InvalidParameterError, match="weights"):
        TorusMixture(n_train=5, n_test=5, weights=[1.0, 1.0])
