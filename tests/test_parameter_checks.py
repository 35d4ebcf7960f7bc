"""flowkit.validation: the shared parameter checks accept exactly their ranges and say what is accepted."""

from __future__ import annotations

import math
from collections.abc import Callable

import attrs
import numpy as np
import pytest
import torch

from flowkit.exceptions import ConfigError, FlowkitError, InvalidParameterError, ParameterTypeError
from flowkit.validation import (
    field_validator,
    require_choice,
    require_float,
    require_instance,
    require_int,
    require_ints,
    require_keys,
    require_mapping,
)


@pytest.mark.parametrize(
    "bounds, inside, outside, accepted",
    [
        ({"minimum": 0.0, "below": 1.0}, [0.0, 0.5, np.float32(0.999)], [-1e-12, 1.0, 2], "a finite number in [0, 1)"),
        ({"above": 0.0, "maximum": 1.0}, [1e-300, 1, 1.0], [0.0, -1.0, 1.0 + 1e-12], "a finite number in (0, 1]"),
        ({"above": 0.0}, [1e-300, 1e300], [0.0, -2.0], "a finite number > 0"),
        ({"minimum": 2.5}, [2.5, 3], [2.4999], "a finite number >= 2.5"),
        ({"maximum": -1.0}, [-1.0, -5], [-0.5], "a finite number <= -1"),
        ({"below": 0.0}, [-1e-9], [0.0], "a finite number < 0"),
        ({}, [0.0, -1e300, 7], [math.inf, -math.inf, math.nan], "a finite number"),
    ],
)
def test_require_float_accepts_exactly_its_range(bounds, inside, outside, accepted):
    for value in inside:
        result = require_float("x", value, **bounds)
        assert type(result) is float and result == float(value)
    for value in outside:
        with pytest.raises(InvalidParameterError) as info:
            require_float("x", value, **bounds)
        assert str(info.value) == f"x must be {accepted}, got {value!r}"


@pytest.mark.parametrize("value", [True, "0.5", None, [0.5], torch.tensor(0.5), 1j])
def test_require_float_refuses_what_is_not_a_real_number(value):
    with pytest.raises(InvalidParameterError, match="x must be a finite number >= 0, got"):
        require_float("x", value, minimum=0.0)


def test_require_float_infinity_none_note_and_error_class():
    assert require_float("tau", math.inf, above=0.0, finite=False) == math.inf
    with pytest.raises(InvalidParameterError, match=r"tau must be a number > 0, got nan"):
        require_float("tau", math.nan, above=0.0, finite=False)
    assert require_float("eps", None, above=0.0, optional=True) is None
    with pytest.raises(InvalidParameterError, match=r"^eps must be a finite number > 0, got None$"):
        require_float("eps", None, above=0.0)
    with pytest.raises(ConfigError) as info:
        require_float("train.lr", -1, above=0.0, note="the base rate", error=ConfigError)
    assert str(info.value) == "train.lr must be a finite number > 0 (the base rate), got -1"


def test_require_int_accepts_integers_in_range_only():
    assert require_int("n", 3, minimum=1) == 3
    assert type(require_int("n", np.int64(4), minimum=1, maximum=4)) is int
    assert require_int("seed", None, minimum=0, optional=True) is None
    for value in (0, 5, 2.0, True, "3", None):
        with pytest.raises(InvalidParameterError) as info:
            require_int("n", value, minimum=1, maximum=4)
        assert str(info.value) == f"n must be an integer in [1, 4], got {value!r}"
    with pytest.raises(InvalidParameterError, match=r"^seed must be None or an integer >= 0, got -1$"):
        require_int("seed", -1, minimum=0, optional=True)


def test_require_ints_names_the_bad_entry():
    assert require_ints("mult", [1, 2, 2], minimum=1) == (1, 2, 2)
    assert require_ints("res", (), minimum=1) == ()
    with pytest.raises(InvalidParameterError, match=r"^mult\[1\] must be an integer >= 1, got 0$"):
        require_ints("mult", (1, 0), minimum=1)
    with pytest.raises(InvalidParameterError, match="mult must be a non-empty sequence of integers >= 1, got ()"):
        require_ints("mult", (), minimum=1, allow_empty=False)
    with pytest.raises(InvalidParameterError, match="mult must be a sequence of integers"):
        require_ints("mult", "12", minimum=1)


def test_require_choice_matches_type_and_value():
    assert require_choice("order", 3, (2, 3, 4)) == 3
    assert require_choice("form", "x1", {"x1": 0, "velocity": 1}) == "x1"
    for value in (True, 3.0, "3", [3]):
        with pytest.raises(InvalidParameterError) as info:
            require_choice("order", value, (1, 3))
        assert str(info.value) == f"order must be one of 1, 3, got {value!r}"
    with pytest.raises(ConfigError, match="'a', 'b', got Tensor"):
        require_choice("mode", torch.zeros(3), ("a", "b"), error=ConfigError)


def test_require_instance_raises_a_type_error_that_is_a_flowkit_error():
    assert require_instance("f", len, Callable, "a callable") is len
    assert require_instance("f", None, Callable, "a callable", optional=True) is None
    with pytest.raises(ParameterTypeError) as info:
        require_instance("f", 3, Callable, "a callable of t")
    assert str(info.value) == "f must be a callable of t, got 3"
    assert isinstance(info.value, TypeError) and isinstance(info.value, FlowkitError)


def test_require_mapping_and_keys():
    assert require_keys("[train]", {"steps": 1}, ("steps", "lr")) == {"steps": 1}
    with pytest.raises(ConfigError, match=r"^unknown key 'stepz' in \[train\]; accepted keys: steps, lr$"):
        require_keys("[train]", {"steps": 1, "stepz": 2}, ("steps", "lr"), error=ConfigError)
    with pytest.raises(InvalidParameterError, match=r"^train must be a table \(mapping\), got list: \[1, 2\]$"):
        require_mapping("train", [1, 2])


def test_field_validator_names_the_constructor_parameter():
    @attrs.frozen
    class Thing:
        _rate: float = attrs.field(alias="rate", validator=field_validator(require_float, above=0.0))

    assert Thing(rate=0.5)._rate == 0.5
    with pytest.raises(InvalidParameterError, match=r"^rate must be a finite number > 0, got 0$"):
        Thing(rate=0)
