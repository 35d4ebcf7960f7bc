"""Every hookspec is documented, in its docstring and in docs/plugins.md, and is exercised."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

import flowkit
from flowkit import hookspecs
from flowkit.registry import Registry

DOC = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"


def _hookspec_functions():
    return [
        name
        for name, fn in inspect.getmembers(hookspecs, inspect.isfunction)
        if getattr(fn, "flowkit_spec", None) is not None
    ]


def test_one_hook_per_kind():
    assert sorted(_hookspec_functions()) == sorted(hookspecs.HOOK_BY_KIND.values())
    assert flowkit.registry.KINDS == (
        "path",
        "coupling",
        "objective",
        "solver",
        "model",
        "dataset",
        "metric",
        "callback",
        "manifold",
    )


@pytest.mark.parametrize("hook", list(hookspecs.HOOK_BY_KIND.values()))
def test_hook_is_documented_in_docstring_and_guide(hook):
    fn = getattr(hookspecs, hook)
    doc = inspect.getdoc(fn)
    assert doc and "register" in doc.lower()
    assert list(inspect.signature(fn).parameters) == ["register"]
    guide = DOC.read_text()
    assert f"def {hook}(register: Register) -> None" in guide
    assert doc in guide, f"docs/plugins.md is out of date for {hook}"


@pytest.mark.parametrize("kind", hookspecs.KINDS)
def test_each_hook_registers_components_of_its_kind(kind, make_distribution):
    hook = hookspecs.HOOK_BY_KIND[kind]
    make_distribution(
        f"kind-{kind}",
        f"kind_{kind}",
        f"""
        import flowkit

        @flowkit.hookimpl
        def {hook}(register):
            register("probe-{kind}", dict, description="probe")
        """,
    )
    registry = Registry(autoload=True)
    assert registry.failures == []
    assert f"probe-{kind}" in registry.names(kind)
    others = [k for k in hookspecs.KINDS if k != kind]
    assert all(f"probe-{kind}" not in registry.names(k) for k in others)
    assert registry.create(kind, f"probe-{kind}", a=1) == {"a": 1}
