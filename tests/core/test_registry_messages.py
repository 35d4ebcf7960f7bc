"""Registry error messages: the autoload hint, and parameter values shown short."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, UnknownComponentError
from flowkit.registry import AUTOLOAD_ENV, Registry
from flowkit.validation import short_repr


def test_unknown_name_mentions_disabled_autoload_only_when_it_is(monkeypatch):
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    with pytest.raises(UnknownComponentError) as off:
        Registry().get("path", "trig")
    assert f"Plugin autoloading is off ({AUTOLOAD_ENV}=1)" in str(off.value)
    assert f"unset {AUTOLOAD_ENV}" in str(off.value)
    monkeypatch.delenv(AUTOLOAD_ENV)
    with pytest.raises(UnknownComponentError) as on:
        Registry(autoload=True).get("path", "trig")
    assert "autoload" not in str(on.value)
    assert "'package.module:factory'" in str(on.value) and "flowkit.register(" in str(on.value)


def test_fm_factory_error_names_the_component_and_the_parameter():
    with pytest.raises(InvalidParameterError) as info:
        registry.create("objective", "fm", reference=torch.randn(5000, 2), chunk_size=0)
    assert str(info.value) == "objective 'fm': chunk_size must be None or an integer >= 1, got 0"


def test_a_factory_value_error_shows_tensor_parameters_as_shape_and_dtype():
    def strict(reference, chunk_size):
        raise ValueError("chunk_size must be a positive integer")

    own = Registry(autoload=False)
    own.register("objective", "strict", strict)
    with pytest.raises(InvalidParameterError) as info:
        own.create("objective", "strict", reference=torch.randn(5000, 2), chunk_size=0)
    message = str(info.value)
    assert "chunk_size must be a positive integer" in message
    assert "'reference': Tensor(shape=[5000, 2], dtype=float32, device=cpu)" in message
    assert len(message) < 400, len(message)


def test_short_repr():
    assert short_repr(np.zeros((3, 4), dtype=np.float32)) == "ndarray(shape=[3, 4], dtype=float32)"
    assert short_repr({"a": torch.zeros(2, dtype=torch.int64), "b": 1}) == (
        "{'a': Tensor(shape=[2], dtype=int64, device=cpu), 'b': 1}"
    )
    long = short_repr("x" * 500)
    assert len(long) == 80 and long.endswith("...")
    assert short_repr([1, 2]) == "[1, 2]"
