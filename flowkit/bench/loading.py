"""Where suites come from: built-in names, TOML files, mappings, and ``KEY=VALUE`` overrides.

:func:`load_suite` reads a built-in suite (``flowkit/bench/suites/*.toml``, listed by
:func:`builtin_suites`), a ``.toml`` file or a mapping, applies overrides such as
``train.steps=200`` (:func:`apply_overrides`, the ``--set`` option of ``flowkit bench``) and
returns the validated :class:`~flowkit.bench.suite.Suite`.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from flowkit._tomllib import tomllib
from flowkit.bench.suite import Suite
from flowkit.config_values import parse_document
from flowkit.exceptions import ConfigError

__all__ = ["apply_overrides", "builtin_suites", "load_suite"]


def _suites_dir() -> Any:
    return resources.files("flowkit.bench").joinpath("suites")


def builtin_suites() -> list[str]:
    """The names of the built-in suites (``flowkit/bench/suites/*.toml``)."""
    return sorted(entry.name[: -len(".toml")] for entry in _suites_dir().iterdir() if entry.name.endswith(".toml"))


def _override_value(text: str) -> Any:
    """A TOML value (``3``, ``[0, 1]``, ``"x"``, ``{ name = "ot" }``), or the text itself as a string."""
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text


def apply_overrides(data: Mapping[str, Any], overrides: Sequence[str]) -> dict[str, Any]:
    """A copy of ``data`` with ``KEY=VALUE`` overrides applied (dotted keys, TOML values).

    E.g. ``train.steps=200``, ``axes.seed=[0]``, ``eval.num_samples=500``.
    """
    result = copy.deepcopy(dict(data))
    for item in overrides:
        key, sep, text = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like KEY=VALUE, e.g. train.steps=200")
        parts = key.split(".")
        table = result
        for depth, part in enumerate(parts[:-1]):
            child = table.setdefault(part, {})
            if not isinstance(child, dict):
                raise ConfigError(f"override {item!r}: {'.'.join(parts[: depth + 1])} is not a table")
            table = child
        table[parts[-1]] = _override_value(text.strip())
    return result


def load_suite(source: str | Path | Mapping[str, Any], *, overrides: Sequence[str] = (), registry: Any = None) -> Suite:
    """Read and validate a suite: a built-in name (``quick``), a ``.toml`` file, or a mapping.

    ``overrides`` are ``KEY=VALUE`` strings applied before validation (:func:`apply_overrides`).
    """
    if isinstance(source, Mapping):
        return Suite.from_dict(apply_overrides(source, overrides), registry=registry)
    path = Path(source)
    if path.suffix.lower() == ".toml" or path.exists():
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read suite file {path}: {exc.strerror or exc}") from None
        data, name = parse_document(text, "TOML", str(path)), path.stem
    else:
        name = str(source)
        if name not in builtin_suites():
            raise ConfigError(
                f"unknown suite {name!r}: not a file and not a built-in suite; built-in suites: "
                f"{', '.join(builtin_suites())}"
            )
        data = parse_document(
            _suites_dir().joinpath(f"{name}.toml").read_text(encoding="utf-8"), "TOML", f"suite {name}"
        )
    try:
        return Suite.from_dict(apply_overrides(data, overrides), name=name, registry=registry)
    except ConfigError as exc:
        raise ConfigError(f"suite {name!r}: {exc}") from None
