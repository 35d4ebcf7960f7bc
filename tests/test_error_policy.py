"""The error policy: flowkit raises its own exception classes, never a bare ValueError / TypeError.

Every error flowkit raises on purpose is a :class:`flowkit.exceptions.FlowkitError` subclass (most
also derive from ``ValueError`` or ``TypeError``, so callers' ``except ValueError`` keeps working).
This test reads the syntax tree of every module of the package and of the bundled plugins and
fails on any ``raise ValueError(...)`` / ``raise TypeError(...)`` (called or bare), naming
``file:line``. Shared parameter checks live in :mod:`flowkit.validation`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = frozenset({"ValueError", "TypeError"})
EXEMPT = {ROOT / "flowkit" / "validation.py", ROOT / "flowkit" / "exceptions.py"}


def checked_files() -> list[Path]:
    """The package's modules and the bundled plugins' sources (their tests are not public API)."""
    files = list((ROOT / "flowkit").rglob("*.py"))
    files += [f for f in (ROOT / "plugins").glob("*/src/**/*.py")]
    files += [f for f in (ROOT / "plugins" / "template").rglob("*.py") if "tests" not in f.parts]
    return sorted(set(files) - EXEMPT)


def _raised_name(node: ast.Raise) -> str | None:
    """The class name a ``raise`` statement names: ``raise X``, ``raise X(...)``, ``raise builtins.X(...)``."""
    exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
    if isinstance(exc, ast.Name):
        return exc.id
    if isinstance(exc, ast.Attribute) and isinstance(exc.value, ast.Name) and exc.value.id == "builtins":
        return exc.attr
    return None


def bare_raises(source: str, filename: str) -> list[str]:
    """``file:line: raise X`` for each ``raise`` of a forbidden built-in class in ``source``."""
    return [
        f"{filename}:{node.lineno}: raise {name}"
        for node in ast.walk(ast.parse(source, filename=filename))
        if isinstance(node, ast.Raise) and (name := _raised_name(node)) in FORBIDDEN
    ]


def test_the_checker_finds_bare_raises_and_only_them():
    source = """
import builtins
from flowkit.exceptions import InvalidParameterError

def f(x):
    if x < 0:
        raise ValueError(f"x must be >= 0, got {x}")
    if x == 1:
        raise TypeError
    if x == 2:
        raise builtins.ValueError("two")
    if x == 3:
        raise InvalidParameterError("three")
    try:
        return 1 / x
    except ZeroDivisionError as exc:
        raise AttributeError("protocol") from exc
    raise
"""
    assert bare_raises(source, "example.py") == [
        "example.py:7: raise ValueError",
        "example.py:9: raise TypeError",
        "example.py:11: raise ValueError",
    ]


def test_the_checked_files_include_the_package_and_the_plugins():
    files = checked_files()
    assert ROOT / "flowkit" / "paths" / "ot.py" in files
    assert any("plugins" in f.parts and "src" in f.parts for f in files)
    assert any("template" in f.parts for f in files)
    assert not EXEMPT & set(files)


def test_no_bare_value_or_type_error_is_raised():
    violations = [
        line
        for path in checked_files()
        for line in bare_raises(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))
    ]
    if violations:
        pytest.fail(
            "raise a flowkit.exceptions class (InvalidParameterError, ParameterTypeError, ShapeError, "
            "ConfigError, ...; shared checks are in flowkit.validation) instead of:\n" + "\n".join(violations)
        )
