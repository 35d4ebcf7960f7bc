"""Value checks shared by the components (finite inputs, times in range), and the short form in
which error messages show a value (:func:`short_repr`: a tensor as its shape and dtype, never its
entries).

Each check reads a tensor back to the host (a device synchronisation), so callers run them only
while :func:`flowkit.shapes.shape_checks_enabled` is true, like the shape checks of
:func:`flowkit.shapes.checked`; hot loops turn both off with ``flowkit.shape_checks(False)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError, NonFiniteError

__all__ = ["require_finite", "require_times", "short_repr"]

SHORT_REPR_LIMIT = 80
"""The most characters :func:`short_repr` shows of one value's ``repr``."""


def short_repr(value: Any, limit: int = SHORT_REPR_LIMIT) -> str:
    """``repr(value)`` for an error message: arrays (tensors, NumPy) as type, shape, dtype and
    device; mappings entry by entry; anything else cut to ``limit`` characters."""
    if isinstance(value, Tensor):
        return (
            f"Tensor(shape={list(value.shape)}, dtype={str(value.dtype).removeprefix('torch.')}, device={value.device})"
        )
    shape, dtype = getattr(value, "shape", None), getattr(value, "dtype", None)
    if isinstance(shape, tuple) and dtype is not None:
        return f"{type(value).__name__}(shape={list(shape)}, dtype={dtype})"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key!r}: {short_repr(item, limit)}" for key, item in value.items()) + "}"
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def require_finite(where: str, **tensors: Tensor) -> None:
    """Raise :class:`NonFiniteError` naming the first argument that holds NaN or infinity."""
    for name, tensor in tensors.items():
        finite = torch.isfinite(tensor)
        if not bool(finite.all()):
            bad = int((~finite).sum())
            raise NonFiniteError(
                f"{where}: {name} must be finite, but {bad} of its {tensor.numel()} entries are NaN or infinite"
            )


def require_times(where: str, t: Tensor, time_range: tuple[float, float], reason: str = "") -> None:
    """Raise :class:`InvalidParameterError` unless every ``t`` lies in the closed ``time_range``."""
    lo, hi = time_range
    inside = (t >= lo) & (t <= hi)  # False for NaN
    if not bool(inside.all()):
        bad = t[~inside]
        shown = ", ".join(f"{v:.6g}" for v in bad[:3].tolist())
        more = f" (and {bad.numel() - 3} more)" if bad.numel() > 3 else ""
        raise InvalidParameterError(
            f"{where}: t must lie in [{lo:g}, {hi:g}], got {shown}{more}" + (f"; {reason}" if reason else "")
        )
