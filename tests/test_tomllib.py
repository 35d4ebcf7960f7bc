"""flowkit reads TOML through flowkit._tomllib, so it imports on Python 3.10 (no stdlib tomllib)."""

from __future__ import annotations

import ast
import importlib
import sys
import types
from pathlib import Path

import flowkit
import flowkit._tomllib

PACKAGE = Path(flowkit.__file__).parent


def test_python_3_10_takes_the_tomli_backport(monkeypatch):
    import tomllib as stdlib_tomllib

    backport = types.ModuleType("tomli")
    backport.loads = stdlib_tomllib.loads
    backport.TOMLDecodeError = stdlib_tomllib.TOMLDecodeError
    monkeypatch.setattr(sys, "version_info", (3, 10, 13, "final", 0))
    monkeypatch.setitem(sys.modules, "tomllib", None)  # `import tomllib` raises, as on 3.10
    monkeypatch.setitem(sys.modules, "tomli", backport)
    monkeypatch.delitem(sys.modules, "flowkit._tomllib")
    monkeypatch.setattr(flowkit, "_tomllib", flowkit._tomllib)  # restored after the fresh import

    fresh = importlib.import_module("flowkit._tomllib")

    assert fresh.tomllib is backport
    assert fresh.tomllib.loads('steps = 3\nname = "ot"') == {"steps": 3, "name": "ot"}


def test_python_3_11_takes_the_standard_library():
    if sys.version_info < (3, 11):
        assert flowkit._tomllib.tomllib is sys.modules["tomli"]
    else:
        assert flowkit._tomllib.tomllib is sys.modules["tomllib"]


def test_no_module_imports_tomllib_directly():
    direct = []
    for file in sorted(PACKAGE.rglob("*.py")):
        if file.name == "_tomllib.py":
            continue
        for node in ast.walk(ast.parse(file.read_text(), filename=str(file))):
            names = [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
            module = node.module if isinstance(node, ast.ImportFrom) else None
            if "tomllib" in names or "tomli" in names or module in ("tomllib", "tomli"):
                direct.append(f"{file.relative_to(PACKAGE)}:{node.lineno}")
    assert not direct, f"import TOML through flowkit._tomllib (tomllib is Python 3.11+ only): {direct}"
