"""The 2D toy data sets: registration, determinism, shapes, labels, parameters, curve geometry."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.data import Circles, Moons, Spirals, SwissRoll
from flowkit.exceptions import InvalidParameterError

TOYS = ["checkerboard", "8gaussians", "2d-mixture", "moons", "circles", "spirals", "swissroll"]
CLASSES = {"8gaussians": 8, "2d-mixture": 4, "moons": 2, "circles": 2, "spirals": 2}
WITH_DENSITY = {"checkerboard", "8gaussians", "2d-mixture"}


def make(name: str, **params):
    return registry.create("dataset", name, **{"n_train": 2000, "n_test": 500, **params})


def test_all_toys_and_digits_are_registered():
    assert set(TOYS) | {"digits"} <= set(registry.names("dataset"))


@pytest.mark.parametrize("name", TOYS)
def test_splits_have_the_promised_shapes_labels_and_range(name):
    data = make(name)
    train, test = data.split("train"), data.split("test")
    assert data.event_shape == (2,)
    assert train.x.shape == (2000, 2) and test.x.shape == (500, 2)
    assert train.x.dtype == torch.get_default_dtype()
    assert torch.isfinite(train.x).all()
    assert data.num_classes == CLASSES.get(name)
    assert data.num_bins is None
    assert data.has_density == (name in WITH_DENSITY)
    if data.num_classes is None:
        assert train.y is None and test.y is None
    else:
        assert train.y.shape == (2000,) and train.y.dtype == torch.long
        assert set(train.y.unique().tolist()) == set(range(data.num_classes))
    # comparable to the usual toy benchmarks: almost everything within [-4.5, 4.5]^2
    inside = (train.x.abs() <= 4.5).all(dim=1).float().mean()
    assert inside > 0.99


@pytest.mark.parametrize("name", TOYS)
def test_splits_are_deterministic_by_seed_and_independent(name):
    a, b, c = make(name, seed=3), make(name, seed=3), make(name, seed=4)
    for split in ("train", "test"):
        assert torch.equal(a.split(split).x, b.split(split).x)
        assert not torch.equal(a.split(split).x, c.split(split).x)
    # train and test are different draws, not one draw cut in two
    assert not torch.equal(a.split("train").x[:500], a.split("test").x)
    assert not torch.equal(a.split("train").x[-500:], a.split("test").x)


@pytest.mark.parametrize("name", TOYS)
def test_sample_is_deterministic_given_a_generator(name):
    data = make(name)
    first = data.sample(64, generator=torch.Generator().manual_seed(5))
    second = data.sample(64, generator=torch.Generator().manual_seed(5))
    assert first.x.shape == (64, 2) and torch.equal(first.x, second.x)
    with pytest.raises(InvalidParameterError, match="n must be an integer >= 1"):
        data.sample(0)


def test_points_follow_the_default_dtype():
    torch.set_default_dtype(torch.float64)  # restored by the conftest fixture
    assert make("moons").split("train").x.dtype == torch.float64


def test_unknown_split_names_the_accepted_ones():
    with pytest.raises(InvalidParameterError, match="split must be one of 'train', 'test', got 'valid'"):
        make("moons").split("valid")


@pytest.mark.parametrize(
    ("name", "params", "message"),
    [
        ("moons", {"n_train": 0}, "n_train must be an integer >= 1"),
        ("moons", {"n_test": 2.5}, "n_test must be an integer"),
        ("circles", {"seed": -1}, "seed must be an integer >= 0"),
        ("spirals", {"noise": -0.1}, "noise must be a finite number >= 0"),
        ("swissroll", {"scale": 0.0}, "scale must be a finite number > 0"),
        ("checkerboard", {"cells": 3}, "cells must be even"),
        ("circles", {"factor": 1.5}, "factor must be a finite number in \\(0, 1\\) \\(inner radius / outer radius\\)"),
        ("8gaussians", {"std": float("nan")}, "std must be a finite number > 0"),
        ("2d-mixture", {"weights": [1.0, -1.0]}, "weights"),
        (
            "2d-mixture",
            {"weights": [0.5, 0.5], "means": [[0.0, 0.0]], "covariances": [[[1.0, 0.0], [0.0, 1.0]]]},
            "weights must be 1 positive numbers \\(one per component\\)",
        ),
        ("2d-mixture", {"weights": [1.0], "means": [[0.0, 0.0]]}, "means \\[K, d\\] and covariances \\[K, d, d\\]"),
        (
            "2d-mixture",
            {"weights": [1.0], "means": [[0.0, 0.0]], "covariances": [[[1.0, 2.0], [2.0, 1.0]]]},
            "positive definite",
        ),
        (
            "2d-mixture",
            {"weights": [1.0], "means": [[0.0, 0.0]], "covariances": [[[1.0, 0.5], [0.0, 1.0]]]},
            "symmetric",
        ),
    ],
)
def test_bad_parameters_are_rejected_by_name(name, params, message):
    with pytest.raises(InvalidParameterError, match=message):
        make(name, **params)


def test_eight_gaussians_components_sit_on_the_circle():
    data = make("8gaussians", n_train=8000, radius=3.0, std=0.2)
    train = data.split("train")
    for k in range(8):
        points = train.x[train.y == k]
        angle = k * math.pi / 4
        expected = torch.tensor([3.0 * math.cos(angle), 3.0 * math.sin(angle)])
        assert torch.allclose(points.mean(0), expected, atol=0.05)
        assert torch.allclose(points.std(0), torch.full((2,), 0.2), rtol=0.15)


def test_noise_is_isotropic_gaussian_with_the_given_std():
    # same seed, same curve draws: the difference is exactly noise * eps
    clean = Spirals(n_train=20_000, n_test=1, noise=0.0).split("train").x
    noisy = Spirals(n_train=20_000, n_test=1, noise=0.3).split("train").x
    residual = (noisy - clean).double()
    assert torch.allclose(residual.mean(0), torch.zeros(2, dtype=torch.float64), atol=0.01)
    cov = torch.cov(residual.T)
    assert torch.allclose(cov, 0.09 * torch.eye(2, dtype=torch.float64), atol=0.004)


def test_noiseless_moons_lie_on_their_half_circles():
    split = Moons(n_train=1000, n_test=1, noise=0.0, scale=2.0).split("train")
    unit = split.x.double() / 2.0 + torch.tensor([0.5, 0.25], dtype=torch.float64)
    upper, lower = unit[split.y == 0], unit[split.y == 1]
    assert torch.allclose(upper.norm(dim=1), torch.ones(len(upper), dtype=torch.float64), atol=1e-5)
    assert (upper[:, 1] >= -1e-6).all()
    shifted = lower - torch.tensor([1.0, 0.5], dtype=torch.float64)
    assert torch.allclose(shifted.norm(dim=1), torch.ones(len(lower), dtype=torch.float64), atol=1e-5)
    assert (shifted[:, 1] <= 1e-6).all()


def test_noiseless_circles_have_the_two_radii():
    split = Circles(n_train=1000, n_test=1, noise=0.0, scale=3.0, factor=0.25).split("train")
    radius = split.x.norm(dim=1)
    assert torch.allclose(radius[split.y == 0], torch.tensor(3.0), atol=1e-5)
    assert torch.allclose(radius[split.y == 1], torch.tensor(0.75), atol=1e-5)


def test_noiseless_spiral_arms_follow_the_archimedean_spiral():
    split = Spirals(n_train=1000, n_test=1, noise=0.0, scale=3.0, turns=2.0).split("train")
    x = split.x.double() * (1.0 - 2.0 * split.y.double())[:, None]  # fold arm 1 onto arm 0
    radius = x.norm(dim=1)
    theta = radius / 3.0 * (2 * math.pi * 2.0)
    expected = radius[:, None] * torch.stack([-torch.cos(theta), torch.sin(theta)], dim=1)
    assert radius.max() <= 3.0 + 1e-5
    assert torch.allclose(x, expected, atol=1e-4)


def test_noiseless_swissroll_follows_t_cos_t_t_sin_t():
    x = SwissRoll(n_train=1000, n_test=1, noise=0.0, scale=2.0).split("train").x.double()
    radius = x.norm(dim=1)
    t = radius / 2.0 * 4.5 * math.pi
    assert radius.min() >= 2.0 / 3.0 - 1e-5 and radius.max() <= 2.0 + 1e-5
    expected = radius[:, None] * torch.stack([torch.cos(t), torch.sin(t)], dim=1)
    assert torch.allclose(x, expected, atol=1e-4)
