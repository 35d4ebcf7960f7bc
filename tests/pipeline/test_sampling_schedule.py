"""Pipeline.sample(schedule=...): sampling a trained model along another Gaussian path's marginals."""

from __future__ import annotations

import pytest
import torch

from flowkit import Pipeline
from flowkit.exceptions import ConfigError


def test_pipeline_samples_along_another_schedule(small_config):
    pipeline = Pipeline({**small_config, "path": "ot"})
    pipeline.fit(steps=30, progress=False)
    seeded = lambda **kw: pipeline.sample(
        64, generator=torch.Generator().manual_seed(3), solver={"name": "rk4", "steps": 20}, **kw
    )  # noqa: E731
    assert torch.allclose(seeded(schedule="ot"), seeded(), atol=1e-5)  # the same schedule changes nothing
    cosine = seeded(schedule={"name": "cosine"})
    assert cosine.shape == (64, 2) and torch.isfinite(cosine).all()
    with pytest.raises(ConfigError, match="needs Gaussian paths"):
        pipeline.sample(4, schedule={"name": "geodesic", "manifold": "flat-torus"})
