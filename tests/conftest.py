"""Shared test configuration: deterministic torch, a CI-sized hypothesis profile."""

from __future__ import annotations

import os

import pytest
import torch
from hypothesis import settings

# Small models gain nothing from intra-op threads, and on a shared 2-core CI machine the
# threads of one test wait on each other; one thread keeps timings stable.
torch.set_num_threads(1)

settings.register_profile("flowkit", max_examples=25, deadline=None, derandomize=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "flowkit"))


@pytest.fixture(autouse=True)
def _seed_torch():
    """Every test starts from the same global torch seed, in float32."""
    torch.manual_seed(0)
    previous = torch.get_default_dtype()
    yield
    torch.set_default_dtype(previous)
