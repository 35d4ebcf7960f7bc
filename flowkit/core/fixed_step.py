"""Fixed-step solvers: the base owns the step grid and the loop, a method writes one step.

The step times come from a uniform grid of ``steps`` steps, or from a user ``time_grid``: times
``0 = g_0 < ... < g_N = 1`` mapped affinely onto the integration interval
(``t = min(t0, t1) + g |t1 - t0|``) and walked from ``t0`` to ``t1``, so a grid denser near
``g = 1`` is denser near the larger time in both directions. Requested trajectory times are added
to the grid, so their states are solver states, never interpolations. The loop makes no
host-device synchronisation: finiteness is checked once at the end, and the first non-finite
step is located from per-step state sums recorded on the device.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

import attrs
import torch
from torch import Tensor

from flowkit.core.counted_field import CountedField
from flowkit.core.solver import ODESolver
from flowkit.core.solver_times import insert_times
from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.validation import field_validator, require_int

__all__ = ["DEFAULT_STEPS", "FixedStepSolver"]

DEFAULT_STEPS = 100


def _to_grid(value: Sequence[float] | Tensor | None) -> tuple[float, ...] | None:
    if value is None:
        return None
    if isinstance(value, Tensor):
        if value.dim() != 1:
            raise InvalidParameterError(f"time_grid must be one-dimensional, got shape {tuple(value.shape)}")
        value = value.tolist()
    try:
        grid = tuple(float(g) for g in value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"time_grid must be a sequence of numbers from 0 to 1, got {value!r}") from None
    if len(grid) < 2 or grid[0] != 0.0 or grid[-1] != 1.0 or any(b <= a for a, b in zip(grid, grid[1:])):
        raise InvalidParameterError(
            f"time_grid must be strictly increasing from 0 to 1 with at least two entries, got {list(grid)}"
        )
    return grid


@attrs.frozen
class FixedStepSolver(ODESolver):
    """A one-step method on a fixed grid; a subclass implements :meth:`step` only.

    ``steps``: the number of uniform steps (default 100); ``time_grid``: times from 0 to 1
    (strictly increasing) mapped onto the integration interval instead of a uniform grid;
    ``steps``, if also given, must equal ``len(time_grid) - 1``. Every requested trajectory time
    that is not on the grid adds one step.
    """

    steps: int | None = attrs.field(default=None, validator=field_validator(require_int, minimum=1, optional=True))
    time_grid: tuple[float, ...] | None = attrs.field(default=None, converter=_to_grid)

    def __attrs_post_init__(self) -> None:
        if self.time_grid is not None and self.steps is not None and self.steps != len(self.time_grid) - 1:
            raise InvalidParameterError(
                f"steps={self.steps} disagrees with time_grid, which has {len(self.time_grid) - 1} steps; pass one of them"
            )

    @abstractmethod
    def step(self, field: CountedField, t: float, x: Tensor, h: float) -> Tensor:
        """One step of size ``h`` (negative when integrating backwards) from ``x`` at time ``t``."""

    @property
    def num_steps(self) -> int:
        """The number of steps of the grid (before any requested trajectory times are added)."""
        if self.time_grid is not None:
            return len(self.time_grid) - 1
        return DEFAULT_STEPS if self.steps is None else self.steps

    def grid(self, t0: float, t1: float) -> list[float]:
        """The step times from ``t0`` to ``t1``: the unit grid mapped onto the interval."""
        n = self.num_steps
        unit = self.time_grid if self.time_grid is not None else [i / n for i in range(n + 1)]
        lo, hi = min(t0, t1), max(t0, t1)
        times = [lo + g * (hi - lo) for g in unit]
        times[0], times[-1] = lo, hi
        return times if t1 > t0 else times[::-1]

    def integrate(
        self, field: CountedField, x0: Tensor, *, t0: float, t1: float, times: list[float] | None
    ) -> tuple[Tensor, Tensor | None]:
        """Walk the grid (with ``times`` inserted) one :meth:`step` at a time."""
        grid = self.grid(t0, t1)
        record: list[int] = []
        if times is not None:
            grid, record = insert_times(grid, times)
        sums = x0.new_empty(len(grid) - 1)
        wanted = set(record)
        saved: dict[int, Tensor] = {0: x0} if 0 in wanted else {}
        x = x0
        for n in range(len(grid) - 1):
            x = self.step(field, grid[n], x, grid[n + 1] - grid[n])
            sums[n] = x.detach().sum()
            if n + 1 in wanted:
                saved[n + 1] = x
        if not bool(torch.isfinite(x).all()):
            _raise_non_finite(sums, grid)
        return x, (torch.stack([saved[i] for i in record]) if times is not None else None)


def _raise_non_finite(sums: Tensor, grid: list[float]) -> None:
    bad = (~torch.isfinite(sums)).nonzero()
    step = int(bad[0]) if len(bad) else len(grid) - 2
    raise NonFiniteError(
        f"the state became non-finite during step {step + 1} of {len(grid) - 1}, from t={grid[step]:.6g} "
        f"to t={grid[step + 1]:.6g} (last finite state at t={grid[step]:.6g}; integrating from {grid[0]} to {grid[-1]})"
    )
