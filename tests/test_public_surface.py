"""The bundled plugins and the template live on the public surface: ``flowkit`` and ``flowkit.core``.

Every import from flowkit in ``plugins/`` (sources and tests) must be ``import flowkit``,
``from flowkit import <name in flowkit.__all__>`` or ``from flowkit.core import <name in
flowkit.core.__all__>``, and every attribute read off the module ``flowkit`` must be a public
name, so that what a plugin needs is importable from there and nothing else is relied upon.

The names ``flowkit`` exports lazily (``_LAZY_EXPORTS``) are the ones its ``if TYPE_CHECKING:``
block imports, so type checkers see their real types, and each resolves to its module's object.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import flowkit
import flowkit.core

PLUGINS = Path(__file__).resolve().parents[1] / "plugins"
PUBLIC = {"flowkit": set(flowkit.__all__), "flowkit.core": set(flowkit.core.__all__)}
SOURCES = sorted(PLUGINS.rglob("*.py"))


def violations(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "flowkit" or alias.name.startswith("flowkit."):
                    if alias.name not in PUBLIC:
                        found.append(f"line {node.lineno}: import {alias.name}")
                    aliases.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "flowkit":
            if node.module not in PUBLIC:
                found.append(f"line {node.lineno}: from {node.module} import ...")
                continue
            found += [
                f"line {node.lineno}: from {node.module} import {a.name}"
                for a in node.names
                if a.name not in PUBLIC[node.module]
            ]
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
            if node.attr not in PUBLIC["flowkit"] and node.attr != "core":
                found.append(f"line {node.lineno}: flowkit.{node.attr}")
    return found


def test_the_plugins_folder_holds_the_bundled_plugins_and_the_template():
    folders = {p.name for p in PLUGINS.iterdir() if p.is_dir()}
    assert {"flowkit-bridge", "flowkit-multistep", "template"} <= folders
    assert len(SOURCES) > 10


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PLUGINS)))
def test_plugins_import_only_the_public_surface(path):
    assert violations(path) == [], f"{path.relative_to(PLUGINS)} uses non-public flowkit names"


def test_what_a_plugin_needs_is_public():
    needed = {
        "flowkit": [
            "StandardNormal",
            "IsotropicGaussian",
            "InvalidParameterError",
            "ShapeError",
            "NonFiniteError",
            "ODESolver",
            "FixedStepSolver",
            "RungeKuttaSolver",
            "ButcherTableau",
            "ProbabilityPath",
            "PathSample",
            "Prior",
            "Register",
            "hookimpl",
            "register",
            "checked",
            "Batch",
            "Time",
        ],
        "flowkit.core": [
            "InvalidParameterError",
            "ButcherTableau",
            "Batch",
            "Time",
            "Labels",
            "PerSample",
            "Scalar",
            "checked",
            "shape_checks_enabled",
            "MARGINAL_FIELD",
            "Capability",
            "require_capabilities",
        ],
    }
    for module, names in needed.items():
        namespace = flowkit if module == "flowkit" else flowkit.core
        for name in names:
            assert name in PUBLIC[module] and getattr(namespace, name) is not None, f"{module}.{name}"


def test_the_checker_catches_private_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import flowkit\nfrom flowkit.paths import StandardNormal\nfrom flowkit.core import Nope\n"
        "from flowkit import shapes\nx = flowkit.exceptions.ShapeError\n"
    )
    assert len(violations(probe)) == 4


def _type_checking_imports() -> dict[str, str]:
    """The names imported under ``if TYPE_CHECKING:`` in flowkit/__init__.py, with their modules."""
    tree = ast.parse(Path(flowkit.__file__).read_text(encoding="utf-8"))
    blocks = [
        node
        for node in tree.body
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
    ]
    assert len(blocks) == 1, "flowkit/__init__.py has one `if TYPE_CHECKING:` block"
    imported = {}
    for node in blocks[0].body:
        assert isinstance(node, ast.ImportFrom), f"line {node.lineno}: only `from ... import` belongs there"
        for alias in node.names:
            assert alias.asname == alias.name, f"line {node.lineno}: re-export {alias.name} as {alias.name}"
            imported[alias.name] = node.module
    return imported


def test_lazy_exports_are_the_type_checking_imports():
    assert _type_checking_imports() == flowkit._LAZY_EXPORTS


@pytest.mark.parametrize("name", sorted(flowkit._LAZY_EXPORTS))
def test_each_lazy_export_resolves_to_the_object_in_its_module(name):
    module = importlib.import_module(flowkit._LAZY_EXPORTS[name])
    assert getattr(flowkit, name) is getattr(module, name)
    assert name in flowkit.__all__ and name in module.__all__


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'NoSuchName'"):
        flowkit.NoSuchName  # noqa: B018
