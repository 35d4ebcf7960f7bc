"""Fixtures that install throw-away plugin distributions visible to ``importlib.metadata``."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path
from typing import Callable

import pytest


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

    def make(dist: str, module: str, source: str, entry_points: dict[str, str] | None = None, version: str = "1.2.3") -> Path:
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
