"""Shared test configuration: deterministic torch, a CI-sized hypothesis profile."""

from __future__ import annotations

import os
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

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


@pytest.fixture
def make_distribution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Path]:
    """Write a real distribution (module + ``*.dist-info`` with ``entry_points.txt``) on sys.path.

    ``make_distribution(dist, module, source, entry_points={"name": "module"})`` returns the
    folder it put on ``sys.path``; the entry points are in the ``flowkit`` group.
    """
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    created_modules: list[str] = []

    def make(
        dist: str, module: str, source: str, entry_points: dict[str, str] | None = None, version: str = "1.2.3"
    ) -> Path:
        (site / f"{module}.py").write_text(textwrap.dedent(source))
        info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
        eps = entry_points or {module: module}
        (info / "entry_points.txt").write_text(
            "[flowkit]\n" + "".join(f"{name} = {target}\n" for name, target in eps.items())
        )
        created_modules.append(module)
        return site

    yield make
    for module in created_modules:
        sys.modules.pop(module, None)
