"""Factory references ``"package.module:factory"`` wherever a registered name is accepted."""

from __future__ import annotations

import sys
import textwrap

import pytest

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, UnknownComponentError

MODULE = """
from flowkit import ConditionalOTPath


def straight_path(sigma_min: float = 0.0):
    '''The OT path, built by a user function.'''
    if sigma_min < 0:
        raise ValueError(f"sigma_min must be >= 0, got {sigma_min}")
    return ConditionalOTPath(sigma_min=sigma_min)


class Factories:
    @staticmethod
    def path(sigma_min: float = 0.5):
        return ConditionalOTPath(sigma_min=sigma_min)


NOT_CALLABLE = 3
"""


@pytest.fixture
def own_module(tmp_path, monkeypatch):
    (tmp_path / "own_reference_flows.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield "own_reference_flows"
    sys.modules.pop("own_reference_flows", None)


def test_reference_builds_with_parameters_and_its_module_as_provider(own_module):
    path = registry.create("path", f"{own_module}:straight_path", sigma_min=0.25)
    assert path.sigma_min == 0.25
    spec = registry.get("path", f"{own_module}:straight_path")
    assert spec.provider.in_process and spec.provider.plugin == own_module
    assert spec.description == "The OT path, built by a user function."
    assert registry.create("path", f"{own_module}:Factories.path").sigma_min == 0.5


def test_reference_meets_the_same_parameter_checks(own_module):
    with pytest.raises(InvalidParameterError, match="unknown parameter 'sigma'"):
        registry.create("path", f"{own_module}:straight_path", sigma=0.1)
    with pytest.raises(InvalidParameterError, match="sigma_min must be >= 0"):
        registry.create("path", f"{own_module}:straight_path", sigma_min=-1.0)


def test_reference_to_round_trips_and_refuses_what_cannot_be_imported(own_module):
    module = __import__(own_module)
    assert registry.reference_to(module.straight_path) == f"{own_module}:straight_path"
    assert registry.reference_to(module.Factories.path) == f"{own_module}:Factories.path"
    assert registry.reference_to(lambda: None) is None

    def local():
        return None

    assert registry.reference_to(local) is None


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        ("no_such_module_xyz:factory", "module 'no_such_module_xyz' is not importable in this process. Install"),
        ("{module}:straigth_path", "has no attribute 'straigth_path'. Did you mean 'straight_path'?"),
        ("{module}:Factories.paht", "'own_reference_flows.Factories' has no attribute 'paht'"),
        ("{module}:NOT_CALLABLE", "is a int, not a callable factory"),
        ("{module}:", "nor a valid factory reference"),
        ("a b:c", "nor a valid factory reference"),
    ],
)
def test_unbuildable_references_say_which_and_how_to_fix(own_module, reference, message):
    reference = reference.format(module=own_module)
    with pytest.raises(UnknownComponentError) as info:
        registry.get("path", reference)
    assert f"path {reference!r}" in str(info.value)
    assert message in str(info.value)


def test_a_module_that_fails_on_import_is_reported(tmp_path, monkeypatch):
    (tmp_path / "own_broken_flows.py").write_text("import no_such_dependency_xyz\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(UnknownComponentError, match="importing 'own_broken_flows' failed: ModuleNotFoundError"):
            registry.get("path", "own_broken_flows:anything")
    finally:
        sys.modules.pop("own_broken_flows", None)
