"""Bin centres, uniform dequantisation and quantisation on [-1, 1]."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from flowkit.data import bin_centres, dequantize, quantize
from flowkit.exceptions import InvalidParameterError, ShapeError


def test_bin_centres_tile_the_interval():
    centres = bin_centres(torch.arange(17), 17)
    assert torch.allclose(centres, torch.linspace(-1 + 1 / 17, 1 - 1 / 17, 17))
    assert centres.dtype == torch.get_default_dtype()


@given(num_bins=st.integers(2, 300), seed=st.integers(0, 2**31))
def test_dequantised_points_stay_in_their_bin(num_bins, seed):
    generator = torch.Generator().manual_seed(seed)
    levels = torch.randint(num_bins, (64, 3), generator=generator)
    x = bin_centres(levels, num_bins).double()
    noisy = dequantize(x, num_bins, generator=generator)
    assert torch.equal(quantize(x, num_bins), levels)
    assert torch.equal(quantize(noisy, num_bins), levels)
    assert ((noisy - x).abs() <= 1.0 / num_bins).all()


def test_dequantisation_noise_is_uniform_over_the_bin():
    x = torch.zeros(200_000, dtype=torch.float64) + bin_centres(torch.tensor(3), 8).double()
    noise = dequantize(x, 8, generator=torch.Generator().manual_seed(0)) - x
    width = 2.0 / 8
    assert noise.min() >= -width / 2 and noise.max() < width / 2
    assert noise.mean().item() == pytest.approx(0.0, abs=1e-3)
    assert noise.var().item() == pytest.approx(width**2 / 12, rel=0.01)  # variance of U(-w/2, w/2)


def test_dequantize_follows_dtype_and_generator():
    x = torch.zeros(5, 2, dtype=torch.float64)
    a = dequantize(x, 4, generator=torch.Generator().manual_seed(1))
    b = dequantize(x, 4, generator=torch.Generator().manual_seed(1))
    assert a.dtype == torch.float64 and torch.equal(a, b)


def test_quantize_clamps_values_outside_the_interval():
    assert quantize(torch.tensor([-3.0, -1.0, 0.999, 1.0, 7.0]), 4).tolist() == [0, 0, 3, 3, 3]


def test_bad_inputs_are_rejected():
    with pytest.raises(InvalidParameterError, match="levels must lie in 0..16"):
        bin_centres(torch.tensor([0, 17]), 17)
    with pytest.raises(InvalidParameterError, match="num_bins must be an integer >= 2"):
        dequantize(torch.zeros(3), 1)
    with pytest.raises(ShapeError):
        dequantize(torch.zeros(3, dtype=torch.long), 4)
