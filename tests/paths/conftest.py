"""Fixtures for the path tests: every built-in Gaussian path (``path_cases``), and times in float64."""

from __future__ import annotations

import math

import pytest
import torch
from path_cases import path_factories

PATH_FACTORIES = path_factories()


@pytest.fixture(scope="session", params=sorted(PATH_FACTORIES))
def path(request):
    """Each built-in Gaussian path in the registry (``schedule`` with a user schedule), see ``path_cases``."""
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
