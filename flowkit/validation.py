"""Value checks shared by the components (finite inputs, times in range).

Each check reads a tensor back to the host (a device synchronisation), so callers run them only
while :func:`flowkit.shapes.shape_checks_enabled` is true, like the shape checks of
:func:`flowkit.shapes.checked`; hot loops turn both off with ``flowkit.shape_checks(False)``.
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit.exceptions import InvalidParameterError, NonFiniteError

__all__ = ["require_finite", "require_times"]


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
