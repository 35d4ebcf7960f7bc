"""Fixtures for the path tests: every built-in path, and a user schedule, in float64."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.paths import SchedulePath


def _user_schedule() -> SchedulePath:
    """A path that is none of the built-ins: a = t^2 (3 - 2t), s = (1 - t) + 0.05 t^2."""
    return SchedulePath(a=lambda t: t * t * (3 - 2 * t), s=lambda t: (1 - t) + 0.05 * t * t)


PATH_FACTORIES = {
    "ot": lambda: registry.create("path", "ot"),
    "ot-sigma0": lambda: registry.create("path", "ot", sigma_min=0.0),
    "vp": lambda: registry.create("path", "vp"),
    "ve": lambda: registry.create("path", "ve", sigma_min=0.02, sigma_max=5.0),
    "cosine": lambda: registry.create("path", "cosine"),
    "user-schedule": _user_schedule,
}


@pytest.fixture(scope="session", params=sorted(PATH_FACTORIES))
def path(request):
    """Each built-in path (plus a user schedule)."""
    return PATH_FACTORIES[request.param]()


def interior_times(path, n: int, *, dtype=torch.float64) -> torch.Tensor:
    """``n`` times strictly inside the path's time range (away from both ends by 2%)."""
    lo, hi = path.time_range
    return lo + (hi - lo) * torch.linspace(0.02, 0.98, n, dtype=dtype)


@pytest.fixture(scope="session")
def times():
    """``times(path, n)``: ``n`` interior times of ``path`` in float64."""
    return interior_times


@pytest.fixture(scope="session")
def vp_constants():
    """``T(1)`` and ``a(0) = exp(-T(1) / 2)`` of the VP path with the paper's betas."""
    integral = 0.1 + (20.0 - 0.1) / 2
    return integral, math.exp(-integral / 2)
