"""Small pipeline configurations that train in a fraction of a second."""

from __future__ import annotations

import copy

import pytest

SMALL = {
    "path": {"name": "ot", "sigma_min": 1e-4},
    "coupling": "independent",
    "objective": "cfm",
    "model": {"name": "mlp", "width": 16, "depth": 2},
    "solver": {"name": "euler", "steps": 4},
    "data": {"name": "checkerboard", "n_train": 512, "n_test": 128},
    "device": "cpu",
    "train": {"steps": 20, "batch_size": 64, "warmup_steps": 5, "log_every": 5, "checkpoint_every": 10},
    "eval": {"num_samples": 64},
}


@pytest.fixture
def small_config() -> dict:
    """A fresh copy of :data:`SMALL` to modify."""
    return copy.deepcopy(SMALL)
