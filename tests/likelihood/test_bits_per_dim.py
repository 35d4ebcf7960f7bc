"""bits_per_dim against closed forms: uniform densities and piecewise-constant (histogram) models."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit.exceptions import InvalidParameterError
from flowkit.likelihood import bits_per_dim


@pytest.mark.parametrize("num_bins", [2, 17, 256])
def test_uniform_density_on_the_cube_costs_log2_bins(num_bins):
    dims = 5
    log_p = torch.full((3,), -dims * math.log(2.0), dtype=torch.float64)  # U[-1, 1]^D
    torch.testing.assert_close(bits_per_dim(log_p, dims, num_bins), torch.full_like(log_p, math.log2(num_bins)))


def test_histogram_density_gives_the_exact_discrete_code_length():
    """A density constant on each dequantisation cell: the bound is tight, bpd = -log2 P(k) / D."""
    generator = torch.Generator().manual_seed(1)
    num_bins, dims = 4, 2
    table = torch.rand(num_bins, num_bins, generator=generator, dtype=torch.float64)
    table = table / table.sum()  # P(k1, k2)
    k = torch.randint(num_bins, (64, dims), generator=generator)
    u = torch.rand(64, dims, generator=generator, dtype=torch.float64)
    x = 2 * (k + u) / num_bins - 1
    cell = (2.0 / num_bins) ** dims
    cell_index = ((x + 1) * num_bins / 2).floor().long()  # recovers k from x
    log_p = torch.log(table[cell_index[:, 0], cell_index[:, 1]] / cell)
    expected = -torch.log2(table[k[:, 0], k[:, 1]]) / dims
    torch.testing.assert_close(bits_per_dim(log_p, dims, num_bins), expected)


def test_continuous_bits_per_dim_is_nats_over_d_ln2():
    log_p = torch.tensor([-3.0, 0.5])
    torch.testing.assert_close(bits_per_dim(log_p, 3), -log_p / (3 * math.log(2)))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"num_dims": 0}, "num_dims"),
        ({"num_dims": 2.5}, "num_dims"),
        ({"num_dims": 2, "num_bins": 1}, "num_bins"),
        ({"num_dims": 2, "num_bins": 3.0}, "num_bins"),
    ],
)
def test_bad_arguments_are_named(kwargs, message):
    with pytest.raises(InvalidParameterError, match=message):
        bits_per_dim(torch.zeros(2), **kwargs)


def test_non_tensor_input_is_rejected():
    with pytest.raises(InvalidParameterError, match="torch.Tensor"):
        bits_per_dim([0.0], 2)  # type: ignore[arg-type]
