"""Validation of data-set parameters: each check names the parameter and what is accepted."""

from __future__ import annotations

import math
import numbers

import torch
from torch import Tensor

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


def require_float64_array(name: str, value: object, ndim: int) -> Tensor:
    """``value`` (nested numbers or a tensor) as a finite, non-empty ``ndim``-dimensional float64 CPU tensor."""
    try:
        tensor = torch.as_tensor(value, dtype=torch.float64).detach().cpu()
    except (TypeError, ValueError, RuntimeError) as exc:
        raise InvalidParameterError(f"{name} must be numbers nested {ndim} deep, got {value!r}") from exc
    if tensor.ndim != ndim or tensor.numel() == 0:
        raise InvalidParameterError(
            f"{name} must be a non-empty {ndim}-dimensional array, got shape {tuple(tensor.shape)}"
        )
    if not torch.isfinite(tensor).all():
        raise InvalidParameterError(f"{name} must be finite, got {value!r}")
    return tensor
