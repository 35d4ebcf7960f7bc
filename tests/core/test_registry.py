"""The registry end to end, with real entry-point distributions."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys

import pytest

import flowkit
from flowkit import hookspecs
from flowkit.exceptions import (
    DuplicateComponentError,
    InvalidParameterError,
    UnknownComponentError,
    UnknownKindError,
)
from flowkit.registry import AUTOLOAD_ENV, Registry

GOOD_PLUGIN = """
    import flowkit

    class Constant:
        '''A toy solver-like component with one validated parameter.'''
        def __init__(self, value: float = 1.0, *, strict: bool = False):
            if value < 0:
                raise ValueError(f"value must be >= 0, got {value}")
            self.value = value

    @flowkit.hookimpl
    def flowkit_register_solvers(register):
        register("constant-test", Constant, description="a constant for tests")

    @flowkit.hookimpl
    def flowkit_register_metrics(register):
        register("zero-test", lambda: 0.0, description="always zero")
"""


def test_entry_point_plugin_is_listed_with_its_distribution(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    registry = Registry(autoload=True)
    assert "constant-test" in registry.names("solver")
    spec = registry.get("solver", "constant-test")
    assert (spec.provider.distribution, spec.provider.version) == ("acme-flows", "1.2.3")
    assert spec.description == "a constant for tests"
    assert registry.create("solver", "constant-test", value=2.5).value == 2.5
    assert registry.names("metric").count("zero-test") == 1


def test_autoload_can_be_disabled_by_environment(make_distribution, monkeypatch):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    monkeypatch.setenv(AUTOLOAD_ENV, "1")
    registry = Registry()
    assert "constant-test" not in registry.names("solver")
    assert registry.failures == []
    builtin = Registry(autoload=False)
    assert registry.names("path") == builtin.names("path")  # built-ins stay


def test_plugin_that_fails_to_import_is_reported_and_isolated(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    make_distribution("broken-flows", "broken_flows", "raise ImportError('missing dependency foo')\n")
    registry = Registry(autoload=True)
    assert "constant-test" in registry.names("solver")
    [failure] = registry.failures
    assert failure.distribution == "broken-flows"
    assert failure.entry_point == "broken_flows = broken_flows"
    assert "missing dependency foo" in failure.error


def test_plugin_whose_hook_raises_is_reported_and_isolated(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    make_distribution(
        "raising-flows",
        "raising_flows",
        """
        import flowkit

        @flowkit.hookimpl
        def flowkit_register_paths(register):
            register("half-registered", object)
            raise RuntimeError("boom while registering")
        """,
    )
    registry = Registry(autoload=True)
    assert "half-registered" not in registry.names("path")  # a failing hook registers nothing
    assert "constant-test" in registry.names("solver")
    [failure] = registry.failures
    assert "flowkit_register_paths" in failure.error and "boom while registering" in failure.error


def test_plugin_with_a_misspelt_hook_is_reported(make_distribution):
    make_distribution(
        "typo-flows",
        "typo_flows",
        """
        import flowkit

        @flowkit.hookimpl
        def flowkit_register_path(register):
            register("x", object)
        """,
    )
    registry = Registry(autoload=True)
    [failure] = registry.failures
    assert failure.distribution == "typo-flows"
    assert "flowkit_register_path" in failure.error


def test_duplicate_name_names_both_providers(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    make_distribution("copycat-flows", "copycat_flows", GOOD_PLUGIN.replace("zero-test", "zero-other"), version="0.1")
    registry = Registry(autoload=True)
    [failure] = registry.failures
    assert "acme-flows 1.2.3" in failure.error and "copycat-flows 0.1" in failure.error
    assert "'constant-test'" in failure.error
    assert registry.get("solver", "constant-test").provider.distribution == "acme-flows"


def test_duplicate_within_one_plugin_is_an_error(make_distribution):
    make_distribution(
        "twice-flows",
        "twice_flows",
        """
        import flowkit

        @flowkit.hookimpl
        def flowkit_register_models(register):
            register("twin", object)
            register("twin", object)
        """,
    )
    registry = Registry(autoload=True)
    [failure] = registry.failures
    assert DuplicateComponentError.__name__ in failure.error


def test_unknown_kind_lists_the_kinds():
    with pytest.raises(UnknownKindError) as info:
        flowkit.registry.names("paths")
    message = str(info.value)
    assert "'paths'" in message
    for kind in hookspecs.KINDS:
        assert kind in message


def test_unknown_name_suggests_the_closest_and_lists_the_others(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    registry = Registry(autoload=True)
    with pytest.raises(UnknownComponentError) as info:
        registry.create("solver", "constant-tset")
    message = str(info.value)
    assert "Did you mean 'constant-test'?" in message
    assert "acme-flows 1.2.3" in message
    assert isinstance(info.value, LookupError)


def test_factory_parameters_are_validated(make_distribution):
    make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    registry = Registry(autoload=True)
    with pytest.raises(InvalidParameterError) as unknown:
        registry.create("solver", "constant-test", valu=1.0)
    assert "unknown parameter 'valu' (did you mean 'value'?)" in str(unknown.value)
    assert "Accepted parameters: value, strict" in str(unknown.value)
    with pytest.raises(InvalidParameterError) as invalid:
        registry.create("solver", "constant-test", value=-1.0)
    assert "value must be >= 0" in str(invalid.value)


def test_register_rejects_bad_names_and_factories(make_distribution):
    make_distribution(
        "sloppy-flows",
        "sloppy_flows",
        """
        import flowkit

        @flowkit.hookimpl
        def flowkit_register_metrics(register):
            register("", object)

        @flowkit.hookimpl
        def flowkit_register_datasets(register):
            register("not-callable", 42)
        """,
    )
    registry = Registry(autoload=True)
    errors = sorted(f.error for f in registry.failures)
    assert len(errors) == 2
    assert any("non-empty string" in e for e in errors)
    assert any("not callable" in e for e in errors)


def test_builtins_register_through_the_hooks():
    registry = Registry(autoload=False)
    builtin_plugins = {name for name, _ in registry.plugin_manager.list_name_plugin()}
    assert builtin_plugins == set(flowkit._builtin_plugins.BUILTIN_PLUGINS)
    assert registry.failures == []
    for spec in registry.components():
        assert spec.provider.distribution == "flowkit"
        assert spec.description, f"{spec.kind} {spec.name!r} has no description"


def _run_cli(*args: str, env_extra: dict[str, str], pythonpath: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **env_extra, "PYTHONPATH": pythonpath + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run(
        [sys.executable, "-m", "flowkit", *args], capture_output=True, text=True, env=env, check=False, timeout=120
    )


def test_cli_lists_components_and_failures_as_json(make_distribution):
    site = make_distribution("acme-flows", "acme_flows", GOOD_PLUGIN)
    make_distribution("broken-flows", "broken_flows", "raise ImportError('missing dependency foo')\n")
    result = _run_cli("plugins", "--json", env_extra={}, pythonpath=str(site))
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    rows = {(c["kind"], c["name"]): c for c in listing["components"]}
    assert rows[("solver", "constant-test")] == {
        "kind": "solver",
        "name": "constant-test",
        "description": "a constant for tests",
        "distribution": "acme-flows",
        "version": "1.2.3",
        "entry_point": "acme_flows",
        "module": "acme_flows",
    }
    [failure] = listing["failures"]
    assert failure["distribution"] == "broken-flows" and failure["entry_point"] == "broken_flows"
    assert failure["target"] == "broken_flows = broken_flows" and "missing dependency foo" in failure["error"]

    table = _run_cli("plugins", env_extra={}, pythonpath=str(site))
    assert "constant-test" in table.stdout and "acme-flows" in table.stdout
    assert "1 plugin(s) failed to load" in table.stdout and "missing dependency foo" in table.stdout

    disabled = _run_cli("plugins", "--json", env_extra={AUTOLOAD_ENV: "1"}, pythonpath=str(site))
    names = {c["name"] for c in json.loads(disabled.stdout)["components"]}
    assert "constant-test" not in names and json.loads(disabled.stdout)["failures"] == []


def test_register_family_calls_each_modules_own_hook_once(tmp_path, monkeypatch):
    """A family's modules register themselves; the plugin module and re-imported hooks are skipped."""
    package = tmp_path / "toyfamily"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "alpha.py").write_text("def flowkit_register_paths(register):\n    register('alpha', dict)\n")
    (package / "beta.py").write_text(
        "from toyfamily.alpha import flowkit_register_paths as _unused\n"
        "def flowkit_register_paths(register):\n    register('beta', list)\n"
    )
    (package / "gamma.py").write_text("from toyfamily.alpha import flowkit_register_paths\n")
    (package / "plugin.py").write_text("def flowkit_register_paths(register):\n    register('plugin', set)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    calls = []
    flowkit._builtin_plugins.register_family("toyfamily", "flowkit_register_paths", lambda *a, **k: calls.append(a))
    assert calls == [("alpha", dict), ("beta", list)]


def test_each_builtin_factory_is_exported_by_its_family():
    """A class or function registered by a family's modules is in the family's ``__all__``, so that
    ``from flowkit.paths import ConditionalOTPath`` works and the API page shows it."""
    checked = set()
    for spec in Registry(autoload=False).components():
        family_name = spec.provider.plugin.removesuffix(".plugin")
        if spec.provider.plugin not in FAMILIES_REGISTERING_BY_MODULE:
            continue
        name = getattr(spec.factory, "__name__", None)
        if getattr(importlib.import_module(spec.factory.__module__), str(name), None) is not spec.factory:
            continue  # made at registration, e.g. conditional_factory(MLPVectorField)
        family = importlib.import_module(family_name)
        assert name in family.__all__, f"{spec.kind} {spec.name!r}: add {name} to {family_name}.__all__"
        checked.add(name)
    assert {"ConditionalOTPath", "Euler", "MLPVectorField", "NegativeLogLikelihood", "score_flow_mlp"} <= checked


FAMILIES_REGISTERING_BY_MODULE = {
    "flowkit.paths.plugin",
    "flowkit.solvers.plugin",
    "flowkit.models.plugin",
    "flowkit.metrics.plugin",
}
