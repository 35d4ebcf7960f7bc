"""Validation of the built-in models' construction parameters, with messages naming the parameter.

Each helper returns the validated value or raises
:class:`flowkit.exceptions.InvalidParameterError` saying what was given and what is accepted.
"""

from __future__ import annotations

from collections.abc import Sequence

from flowkit.exceptions import InvalidParameterError

__all__ = ["positive_int", "positive_ints", "probability"]


def positive_int(name: str, value: object) -> int:
    """``value`` if it is an integer >= 1 (``bool`` is refused)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"{name} must be an integer >= 1, got {value!r}")
    return value


def positive_ints(name: str, values: object, *, allow_empty: bool) -> tuple[int, ...]:
    """``values`` as a tuple if it is a sequence (list or tuple) of integers >= 1."""
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InvalidParameterError(f"{name} must be a sequence of integers >= 1, got {values!r}")
    result = tuple(positive_int(f"{name} entry", v) for v in values)
    if not result and not allow_empty:
        raise InvalidParameterError(f"{name} must not be empty")
    return result


def probability(name: str, value: object) -> float:
    """``value`` as a float if it is a number in ``[0, 1)``."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise InvalidParameterError(f"{name} must be a probability in [0, 1), got {value!r}")
    return float(value)
