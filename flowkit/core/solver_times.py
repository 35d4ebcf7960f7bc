"""Integration intervals and requested output times, checked once by :class:`flowkit.ODESolver`.

A solve runs from ``t0`` to ``t1`` (either order). Requested trajectory times must lie in the
closed interval and be listed in integration order (non-decreasing when ``t0 < t1``,
non-increasing when ``t0 > t1``). :func:`insert_times` merges them into a solver's own grid of
times, so the state at every requested time is an exact grid state, never an interpolation of
one; a requested time within ``1e-9 |t1 - t0|`` of a grid time is that grid time.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.validation import require_float

__all__ = ["check_interval", "check_start", "insert_times", "requested_times"]

_MERGE_TOLERANCE = 1e-9


def check_interval(t0: float, t1: float) -> tuple[float, float]:
    """Validate and return ``(t0, t1)`` as floats: finite and distinct."""
    values = []
    for name, value in (("t0", t0), ("t1", t1)):
        if isinstance(value, Tensor):
            if value.numel() != 1:
                raise InvalidParameterError(f"{name} must be a number, got a tensor of shape {tuple(value.shape)}")
            value = value.item()
        values.append(require_float(name, value))
    if values[0] == values[1]:
        raise InvalidParameterError(f"t0 and t1 must differ, got t0 = t1 = {values[0]}")
    return values[0], values[1]


def check_start(x0: Tensor) -> None:
    """Raise :class:`NonFiniteError` if the initial state holds NaN or infinity."""
    if not bool(torch.isfinite(x0).all()):
        raise NonFiniteError("the initial state x0 contains NaN or infinite values")


def requested_times(times: Sequence[float] | Tensor | None, t0: float, t1: float) -> list[float] | None:
    """Validate ``trajectory_times`` for a solve from ``t0`` to ``t1`` and return them as floats."""
    if times is None:
        return None
    if isinstance(times, Tensor):
        if times.dim() != 1:
            raise InvalidParameterError(f"trajectory_times must be one-dimensional, got shape {tuple(times.shape)}")
        values = [float(v) for v in times.tolist()]
    else:
        try:
            values = [float(v) for v in times]
        except (TypeError, ValueError):
            raise InvalidParameterError(f"trajectory_times must be a sequence of numbers, got {times!r}") from None
    if not values:
        raise InvalidParameterError("trajectory_times must not be empty (pass None for no trajectory)")
    lo, hi = min(t0, t1), max(t0, t1)
    outside = [v for v in values if not lo <= v <= hi]
    if outside:
        raise InvalidParameterError(
            f"trajectory_times must lie in [{lo}, {hi}] (the integration interval); got {outside}"
        )
    sign = 1.0 if t1 > t0 else -1.0
    if any(sign * (b - a) < 0 for a, b in zip(values, values[1:])):
        order = "non-decreasing" if sign > 0 else "non-increasing"
        raise InvalidParameterError(
            f"trajectory_times must be {order} (integration order from t0={t0} to t1={t1}); got {values}"
        )
    return values


def insert_times(grid: Sequence[float], times: Sequence[float]) -> tuple[list[float], list[int]]:
    """Merge ``times`` into the monotone ``grid``; return the new grid and each time's index in it."""
    sign = 1.0 if grid[-1] > grid[0] else -1.0
    tolerance = _MERGE_TOLERANCE * abs(grid[-1] - grid[0])
    keys = [sign * g for g in grid]  # increasing
    merged = list(grid)
    for value in times:
        position = bisect.bisect_left(keys, sign * value)
        near = [i for i in (position - 1, position) if 0 <= i < len(keys) and abs(keys[i] - sign * value) <= tolerance]
        if not near:
            keys.insert(position, sign * value)
            merged.insert(position, value)
    indices = []
    for value in times:
        position = bisect.bisect_left(keys, sign * value - tolerance)
        indices.append(position)
    return merged, indices
