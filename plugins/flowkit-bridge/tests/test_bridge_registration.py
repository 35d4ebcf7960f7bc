"""The installed distribution registers ``bridge`` through its entry point; bad parameters are rejected."""

from __future__ import annotations

import math

import pytest
from flowkit_bridge import BrownianBridgePath

from flowkit import InvalidParameterError, registry


def test_bridge_is_registered_by_the_flowkit_bridge_distribution():
    spec = registry.get("path", "bridge")
    assert spec.provider.distribution == "flowkit-bridge"
    assert spec.parameters() == ["sigma"]
    assert spec.description


def test_bridge_is_creatable_by_name():
    path = registry.create("path", "bridge", sigma=0.25)
    assert isinstance(path, BrownianBridgePath)
    assert path.sigma == 0.25


@pytest.mark.parametrize("sigma", [0, 0.0, -1.0, math.nan, math.inf, "0.1", True, None])
def test_bad_sigma_is_rejected_with_a_message_naming_it(sigma):
    with pytest.raises(InvalidParameterError, match="sigma must be a finite number > 0"):
        registry.create("path", "bridge", sigma=sigma)


def test_unknown_parameter_is_rejected():
    with pytest.raises(InvalidParameterError, match="sigma_min"):
        registry.create("path", "bridge", sigma_min=0.1)


def test_trains_with_the_builtin_cfm_objective_and_ot_coupling():
    import torch

    bridge = registry.create("path", "bridge", sigma=0.5)
    objective = registry.create("objective", "cfm", path=bridge, coupling=registry.create("coupling", "ot"))
    model = torch.nn.Linear(3, 2)
    loss = objective.loss(
        model=lambda t, x: model(torch.cat([t[:, None], x], dim=1)),
        x1=torch.randn(16, 2),
        generator=torch.Generator().manual_seed(0),
    )
    loss.backward()
    assert loss.ndim == 0 and torch.isfinite(loss) and torch.isfinite(model.weight.grad).all()
