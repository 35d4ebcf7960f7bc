"""Runtime shape checks: wrong shapes fail with a message naming the argument."""

from __future__ import annotations

import pytest
import torch

from flowkit.exceptions import ShapeError
from flowkit.shapes import Batch, PerSample, Time, checked, shape_checks, shape_checks_enabled


@checked
def _field(t: Time, x: Batch) -> Batch:
    return x * t.view(-1, *([1] * (x.dim() - 1)))


@checked
def _bad_output(x: Batch) -> PerSample:
    return x


def test_matching_shapes_pass_for_any_event_shape():
    for dims in [(2,), (1, 8, 8), (3, 4, 5, 6)]:
        assert _field(torch.rand(5), torch.rand(5, *dims)).shape == (5, *dims)


def test_batch_mismatch_names_argument_and_sizes():
    with pytest.raises(ShapeError) as info:
        _field(torch.rand(3), torch.rand(4, 2))
    message = str(info.value)
    assert "_field" in message
    assert "parameter 'x'" in message
    assert "f32[4,2]" in message and "batch=3" in message
    assert isinstance(info.value, TypeError)


def test_wrong_rank_of_t_is_rejected():
    with pytest.raises(ShapeError, match="parameter 't'"):
        _field(torch.rand(4, 1), torch.rand(4, 2))


def test_integer_tensor_is_rejected_where_float_is_required():
    with pytest.raises(ShapeError, match="parameter 'x'"):
        _field(torch.rand(2), torch.ones(2, 3, dtype=torch.long))


def test_return_value_is_checked():
    with pytest.raises(ShapeError, match="return"):
        _bad_output(torch.rand(4, 2))


def test_checks_can_be_turned_off_locally():
    assert shape_checks_enabled()
    with shape_checks(False):
        assert _bad_output(torch.rand(4, 2)).shape == (4, 2)
        assert not shape_checks_enabled()
    assert shape_checks_enabled()
