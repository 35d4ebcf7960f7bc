"""Small suites for the benchmark tests: cells that train in a fraction of a second."""

from __future__ import annotations

import copy
from typing import Any

import pytest

TINY: dict[str, Any] = {
    "name": "tiny",
    "baseline": True,
    "axes": {
        "path": ["ot", "vp"],
        "model": [{"name": "mlp", "width": 16, "depth": 1}],
        "data": [{"name": "moons", "n_train": 512, "n_test": 256}],
        "seed": [0, 1],
        "solver": [{"name": "euler", "sweep": {"steps": [2, 4]}}],
    },
    "train": {"steps": 20, "batch_size": 64, "log_every": 10, "warmup_steps": 5},
    "eval": {
        "num_samples": 100,
        "likelihood_points": 40,
        "likelihood_solver": {"name": "euler", "steps": 4},
        "plot_samples": 40,
    },
}


def tiny_suite(**changes: Any) -> dict[str, Any]:
    """A copy of :data:`TINY` with top-level keys replaced."""
    data = copy.deepcopy(TINY)
    data.update(copy.deepcopy(changes))
    return data


@pytest.fixture(scope="session")
def make_suite():
    """:func:`tiny_suite`, for tests to build variants of the tiny suite."""
    return tiny_suite
