"""The installed distribution registers ``ab2``, ``ab3``, ``ab4``; bad parameters are rejected."""

from __future__ import annotations

import pytest
from flowkit_multistep import AdamsBashforth

from flowkit import InvalidParameterError, registry


@pytest.mark.parametrize("order", [2, 3, 4])
def test_registered_by_the_flowkit_multistep_distribution_and_creatable(order):
    spec = registry.get("solver", f"ab{order}")
    assert spec.provider.distribution == "flowkit-multistep"
    assert spec.parameters() == ["steps"]
    solver = registry.create("solver", f"ab{order}", steps=7)
    assert isinstance(solver, AdamsBashforth) and solver.order == order and solver.steps == 7


@pytest.mark.parametrize("steps", [0, -3, 2.5, "10", True, None])
def test_bad_steps_are_rejected_with_a_message_naming_them(steps):
    with pytest.raises(InvalidParameterError, match="steps must be an integer >= 1"):
        registry.create("solver", "ab3", steps=steps)


def test_bad_order_is_rejected():
    with pytest.raises(InvalidParameterError, match="order must be one of 2, 3, 4"):
        AdamsBashforth(5)
