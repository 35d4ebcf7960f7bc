"""Checks of plain configuration values (TOML, JSON or dict data), shared by the pipeline's
configuration (:mod:`flowkit.pipeline.config`) and benchmark suites (:mod:`flowkit.bench.suite`).

Each check returns the value it accepts (converted where that is its job) or raises
:class:`~flowkit.exceptions.ConfigError` naming the key, what it accepts and what it got, e.g.
``train.steps must be an integer >= 1, got 0``. :func:`number` and :func:`choice` build
converters (for ``attrs`` fields); the other checks take the key and the value.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowkit._tomllib import tomllib
from flowkit.exceptions import ConfigError

__all__ = ["choice", "known_keys", "non_empty_string", "number", "one_or_more", "parse_document", "table"]


def number(
    key: str,
    *,
    integer: bool = False,
    minimum: float | None = None,
    maximum: float | None = None,
    below: float | None = None,
    above: float | None = None,
) -> Callable[[Any], Any]:
    """A converter that accepts a finite number in range (an ``int`` where ``integer``)."""
    kind = "an integer" if integer else "a number"
    bounds = []
    if minimum is not None:
        bounds.append(f">= {minimum:g}")
    if above is not None:
        bounds.append(f"> {above:g}")
    if maximum is not None:
        bounds.append(f"<= {maximum:g}")
    if below is not None:
        bounds.append(f"< {below:g}")
    accepted = f"{kind}{' ' + ' and '.join(bounds) if bounds else ''}"

    def convert(value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not isinstance(value, int)):
            raise ConfigError(f"{key} must be {accepted}, got {value!r}")
        converted = int(value) if integer else float(value)
        if (
            not math.isfinite(converted)
            or (minimum is not None and converted < minimum)
            or (maximum is not None and converted > maximum)
            or (below is not None and converted >= below)
            or (above is not None and converted <= above)
        ):
            raise ConfigError(f"{key} must be {accepted}, got {value!r}")
        return converted

    return convert


def choice(key: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    """A converter that accepts one of ``choices``."""

    def convert(value: Any) -> str:
        if value not in choices:
            raise ConfigError(f"{key} must be one of {', '.join(map(repr, choices))}, got {value!r}")
        return value

    return convert


def non_empty_string(key: str, value: Any) -> str:
    """``value`` if it is a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{key} must be a non-empty string, got {value!r}")
    return value


def one_or_more(key: str, value: Any) -> list[Any]:
    """A non-empty list; a single value is accepted as a list of one."""
    if isinstance(value, (list, tuple)):
        if not value:
            raise ConfigError(f"{key} must not be empty")
        return list(value)
    return [value]


def table(key: str, value: Any) -> Mapping[str, Any]:
    """``value`` if it is a table (a mapping)."""
    if not isinstance(value, Mapping):
        raise ConfigError(f"{key} must be a table (mapping), got {type(value).__name__}: {value!r}")
    return value


def known_keys(data: Any, accepted: Sequence[str], where: str) -> Mapping[str, Any]:
    """``data`` if it is a table whose keys are all among ``accepted``."""
    data = table(where, data)
    unknown = [k for k in data if k not in accepted]
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r} in {where}; accepted keys: {', '.join(accepted)}")
    return data


_DOCUMENT_PARSERS: dict[str, tuple[Callable[[str], Any], type[Exception]]] = {
    "TOML": (tomllib.loads, tomllib.TOMLDecodeError),
    "JSON": (json.loads, json.JSONDecodeError),
}


def parse_document(text: str, language: str = "TOML", where: str | None = None) -> Any:
    """``text`` parsed as a ``"TOML"`` or ``"JSON"`` document; a syntax error raises ConfigError
    naming the language, prefixed by ``where`` (a file or suite name) when given."""
    loads, syntax_error = _DOCUMENT_PARSERS[language]
    try:
        return loads(text)
    except syntax_error as exc:
        raise ConfigError(f"{where + ': ' if where else ''}invalid {language}: {exc}") from None
