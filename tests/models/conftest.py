"""Fixtures shared by the model tests."""

from __future__ import annotations

import pytest
from model_builders import small_mlp, small_unet


@pytest.fixture(params=["mlp", "unet"])
def builder(request):
    """``(build(**overrides), event_shape)`` for each built-in network."""
    if request.param == "mlp":
        return small_mlp, (3,)
    return small_unet, (1, 8, 8)
