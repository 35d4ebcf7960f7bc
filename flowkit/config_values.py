"""Checks of plain configuration values (TOML, JSON or dict data), shared by the pipeline's
configuration (:mod:`flowkit.pipeline.config`) and benchmark suites (:mod:`flowkit.bench.suite`).

Each check returns the value it accepts (converted where that is its job) or raises
:class:`~flowkit.exceptions.ConfigError` naming the key, what it accepts and what it got, e.g.
``train.steps must be an integer >= 1, got 0``; the number, choice and table checks are those of
:mod:`flowkit.validation` with ``error=ConfigError``. :func:`number` and :func:`choice` build
converters (for ``attrs`` fields); the other checks take the key and the value.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from flowkit._tomllib import tomllib
from flowkit.exceptions import ConfigError
from flowkit.validation import require_choice, require_float, require_int, require_keys, require_mapping

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
    if integer:
        return lambda value: require_int(key, value, minimum=minimum, maximum=maximum, error=ConfigError)
    return lambda value: require_float(
        key, value, minimum=minimum, maximum=maximum, below=below, above=above, error=ConfigError
    )


def choice(key: str, choices: tuple[str, ...]) -> Callable[[Any], str]:
    """A converter that accepts one of ``choices``."""
    return lambda value: require_choice(key, value, choices, error=ConfigError)


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
    return require_mapping(key, value, error=ConfigError)


def known_keys(data: Any, accepted: Sequence[str], where: str) -> Mapping[str, Any]:
    """``data`` if it is a table whose keys are all among ``accepted``."""
    return require_keys(where, data, accepted, error=ConfigError)


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
