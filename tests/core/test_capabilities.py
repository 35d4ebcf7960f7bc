"""Declared capabilities: an objective's needs from its path are checked when a pipeline is built."""

from __future__ import annotations

import pytest
import torch

import flowkit
from flowkit import Pipeline, registry
from flowkit.core import MARGINAL_FIELD, PathSample, ProbabilityPath, require_capabilities
from flowkit.exceptions import CapabilityError, InvalidParameterError

CONFIG = {
    "model": {"name": "mlp", "width": 8, "depth": 1},
    "data": {"name": "moons", "n_train": 64, "n_test": 16},
    "device": "cpu",
}


class StraightPath(ProbabilityPath):
    """x_t = t x1 + (1 - t) x0 with a standard normal prior; no marginal field."""

    @property
    def prior(self):
        return flowkit.StandardNormal()

    def sample(self, *, x0, x1, t, generator=None):
        tb = t[:, None]
        return PathSample(t=t, x0=x0, x1=x1, x_t=tb * x1 + (1 - tb) * x0, u_t=x1 - x0)


class WrongMarginal(StraightPath):
    def marginal_vector_field(self, x, t):
        return x


class BadTimeRange(StraightPath):
    time_range = (0.5, 0.2)


def test_fm_with_a_path_without_marginal_field_fails_when_the_pipeline_is_built():
    with registry.scoped():
        flowkit.register("path", "straight-test", StraightPath)
        Pipeline({**CONFIG, "path": "straight-test", "objective": "cfm"})  # cfm needs no marginal field
        with pytest.raises(CapabilityError) as info:
            Pipeline({**CONFIG, "path": "straight-test", "objective": "fm"})
    message = str(info.value)
    assert "objective 'fm' needs from its path 'straight-test'" in message
    assert "marginal_vector_field(x=, t=, data=, chunk_size=)" in message
    assert "StraightPath has no method marginal_vector_field" in message
    assert "Gaussian paths" in message
    assert isinstance(info.value, InvalidParameterError) and len(message) < 600


def test_a_method_with_the_wrong_keywords_and_a_bad_time_range_are_named():
    with pytest.raises(CapabilityError, match="does not accept the keywords x, t, data, chunk_size"):
        require_capabilities(WrongMarginal(), [MARGINAL_FIELD], needed_by="objective 'fm'", role="path")
    with pytest.raises(CapabilityError, match=r"time_range \(0.5, 0.2\); it must satisfy 0 <= t_start < t_end <= 1"):
        registry.create("objective", "cfm", path=BadTimeRange())


def test_gaussian_paths_have_every_capability_the_builtin_objectives_declare():
    fm = registry.get("objective", "fm").factory
    for name in ("ot", "vp", "ve", "cosine"):
        require_capabilities(registry.create("path", name), fm.path_requirements, needed_by="fm", role=name)
    assert MARGINAL_FIELD in fm.path_requirements
    assert MARGINAL_FIELD not in registry.get("objective", "cfm").factory.path_requirements


def test_the_fm_objective_built_directly_names_the_missing_method():
    with pytest.raises(CapabilityError, match="StraightPath has no method marginal_vector_field"):
        registry.create("objective", "fm", reference=torch.zeros(4, 2), path=StraightPath())
