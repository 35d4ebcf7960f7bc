"""Validation of data-set parameters: each check names the parameter and what is accepted."""

from __future__ import annotations

import math
import numbers

from flowkit.exceptions import InvalidParameterError


def require_int(name: str, value: object, *, minimum: int) -> int:
    """``value`` as an ``int`` at least ``minimum``; anything else raises InvalidParameterError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise InvalidParameterError(f"{name} must be an integer >= {minimum}, got {value}")
    return int(value)


def require_float(name: str, value: object, *, minimum: float = 0.0, strict: bool = False) -> float:
    """``value`` as a finite ``float`` >= ``minimum`` (> ``minimum`` when ``strict``)."""
    bound = f"{'>' if strict else '>='} {minimum:g}"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidParameterError(f"{name} must be a finite number {bound}, got {value!r}")
    number = float(value)
    if not math.isfinite(number) or number < minimum or (strict and number == minimum):
        raise InvalidParameterError(f"{name} must be a finite number {bound}, got {number!r}")
    return number
