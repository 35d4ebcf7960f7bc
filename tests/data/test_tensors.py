"""TensorData: user tensors as a data set, with validation and a seeded split."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowkit.data import TensorData
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError


def rows(n: int) -> torch.Tensor:
    """Points whose first coordinate is their row index, shaped like small images."""
    return torch.arange(n, dtype=torch.float32)[:, None, None].expand(n, 2, 3).clone()


def test_split_partitions_the_points_and_keeps_labels_with_them():
    x, y = rows(50), torch.arange(50) % 7
    data = TensorData(x, y, test_fraction=0.2, seed=3)
    train, test = data.split("train"), data.split("test")
    assert data.event_shape == (2, 3) and data.num_classes == 7 and data.num_bins is None
    assert len(train.x) == 40 and len(test.x) == 10
    index = torch.cat([train.x[:, 0, 0], test.x[:, 0, 0]]).long()
    assert sorted(index.tolist()) == list(range(50))
    assert torch.equal(train.y, train.x[:, 0, 0].long() % 7)
    assert torch.equal(test.y, test.x[:, 0, 0].long() % 7)


def test_split_is_deterministic_by_seed():
    x = rows(40)
    same = TensorData(x, seed=1).split("test").x, TensorData(x, seed=1).split("test").x
    assert torch.equal(*same)
    assert not torch.equal(TensorData(x, seed=2).split("test").x, same[0])


def test_numpy_arrays_dtype_and_options_are_kept():
    data = TensorData(np.zeros((10, 4)), np.arange(10) % 2, num_classes=3, num_bins=256)
    assert data.split("train").x.dtype == torch.float64
    assert data.num_classes == 3 and data.num_bins == 256
    assert len(data.split("test").x) == 1  # at least one test point


@pytest.mark.parametrize(
    ("x", "y", "params", "error", "message"),
    [
        (torch.zeros(10, 2, dtype=torch.long), None, {}, ShapeError, "floating-point"),
        (torch.zeros(10), None, {}, ShapeError, r"\[n, \*event_shape\]"),
        (torch.full((10, 2), float("nan")), None, {}, NonFiniteError, "NaN"),
        (torch.zeros(10, 2), torch.zeros(9, dtype=torch.long), {}, ShapeError, r"\[n\] = \[10\]"),
        (torch.zeros(10, 2), torch.zeros(10), {}, ShapeError, "integer class labels"),
        (torch.zeros(10, 2), torch.full((10,), -1), {}, InvalidParameterError, "labels must be >= 0"),
        (torch.zeros(10, 2), torch.full((10,), 3), {"num_classes": 3}, InvalidParameterError, "below num_classes=3"),
        (torch.zeros(10, 2), None, {"num_classes": 3}, InvalidParameterError, "y \\(the labels\\) is not"),
        (torch.zeros(10, 2), None, {"test_fraction": 1.0}, InvalidParameterError, "test_fraction"),
        (torch.zeros(10, 2), None, {"test_fraction": 0.0}, InvalidParameterError, "test_fraction"),
        ([[0.0, 1.0]], None, {}, InvalidParameterError, "torch.Tensor or numpy array"),
    ],
)
def test_bad_tensors_are_rejected_with_a_clear_error(x, y, params, error, message):
    with pytest.raises(error, match=message):
        TensorData(x, y, **params)


def test_non_finite_data_name_the_first_offending_index():
    x = torch.zeros(10, 2, 3)
    x[7, 0, 0] = float("inf")
    x[3, 1, 2] = float("nan")
    x[3, 0, 1] = float("-inf")
    with pytest.raises(NonFiniteError) as caught:
        TensorData(x)
    assert str(caught.value) == (
        "x must be finite, but x[3, 0, 1] = -inf (point 3) is the first of 3 NaN or infinite values, "
        "in 2 of 10 points; remove or repair those points"
    )
