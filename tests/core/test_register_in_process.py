"""In-process registration: ``flowkit.register``, its decorator form and ``registry.scoped``."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest

import flowkit
from flowkit import registry
from flowkit.exceptions import DuplicateComponentError, InvalidParameterError, UnknownKindError


class Halver:
    """A toy component with one validated parameter."""

    def __init__(self, factor: float = 0.5) -> None:
        if not 0 < factor < 1:
            raise ValueError(f"factor must lie in (0, 1), got {factor}")
        self.factor = factor


def test_registered_component_is_created_by_name_and_removed_after_the_scope():
    with registry.scoped():
        assert flowkit.register("coupling", "halver-test", Halver, description="halves") is Halver
        spec = registry.get("coupling", "halver-test")
        assert spec.provider.in_process and spec.provider.plugin == __name__
        assert spec.description == "halves"
        assert registry.create("coupling", "halver-test", factor=0.25).factor == 0.25
    assert "halver-test" not in registry.names("coupling")


def test_decorator_form_returns_the_factory_unchanged():
    with registry.scoped():

        @flowkit.register("metric", "answer-test", description="always 42")
        def answer() -> dict[str, float]:
            return {"answer": 42.0}

        assert answer() == {"answer": 42.0}
        assert registry.create("metric", "answer-test") == {"answer": 42.0}


def test_same_parameter_errors_as_plugins():
    with registry.scoped():
        flowkit.register("coupling", "halver-test", Halver)
        with pytest.raises(InvalidParameterError, match=r"unknown parameter 'facter' \(did you mean 'factor'\?\)"):
            registry.create("coupling", "halver-test", facter=0.1)
        with pytest.raises(InvalidParameterError, match=r"factor must lie in \(0, 1\)"):
            registry.create("coupling", "halver-test", factor=2.0)


def test_duplicate_names_both_providers_unless_replaced():
    with registry.scoped():
        with pytest.raises(DuplicateComponentError) as info:
            flowkit.register("path", "ot", Halver)
        message = str(info.value)
        assert "flowkit" in message and f"module {__name__!r} (registered in process)" in message
        assert "replace=True" in message
        flowkit.register("path", "ot", Halver, replace=True)
        assert registry.get("path", "ot").factory is Halver
    assert registry.get("path", "ot").factory is not Halver


@pytest.mark.parametrize(
    ("kind", "name", "factory", "error", "message"),
    [
        ("paths", "x", Halver, UnknownKindError, "accepted kinds"),
        ("path", "", Halver, InvalidParameterError, "non-empty string"),
        ("path", "a:b", Halver, InvalidParameterError, "must not contain ':'"),
        ("path", "x", 42, InvalidParameterError, "not callable"),
    ],
)
def test_bad_registrations_are_rejected(kind, name, factory, error, message):
    with registry.scoped(), pytest.raises(error, match=message):
        flowkit.register(kind, name, factory)


def test_reload_keeps_in_process_registrations_and_scope_undoes_it():
    with registry.scoped():
        flowkit.register("coupling", "halver-test", Halver)
        registry.reload()
        assert registry.get("coupling", "halver-test").factory is Halver
    assert "halver-test" not in registry.names("coupling")


def test_plugins_command_lists_the_defining_module():
    from flowkit.cli import main

    with registry.scoped():
        flowkit.register("coupling", "halver-test", Halver, description="halves")
        out = io.StringIO()
        with redirect_stdout(out):
            assert main(["plugins", "--json", "--kind", "coupling"]) == 0
        rows = {row["name"]: row for row in json.loads(out.getvalue())["components"]}
        assert rows["halver-test"] == {
            "kind": "coupling",
            "name": "halver-test",
            "description": "halves",
            "distribution": None,
            "version": None,
            "entry_point": None,
            "module": __name__,
        }
        assert rows["independent"]["distribution"] == "flowkit"
        table = io.StringIO()
        with redirect_stdout(table):
            main(["plugins", "--kind", "coupling"])
        assert f"{__name__} (in process)" in table.getvalue()
