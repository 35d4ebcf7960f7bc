"""Fixed-step explicit Runge-Kutta solvers: ``euler``, ``midpoint``, ``heun``, ``rk4``.

One stepping loop serves every method; a method is its Butcher tableau ``(c, a, b)``. A step of
size ``h`` from ``(t, x)`` evaluates the stages

    k_i = v(t + c_i h, x + h * sum_{j<i} a_ij k_j),   i = 1..s

and returns ``x + h * sum_i b_i k_i``. The global error after integrating over a fixed interval
is ``O(h^p)`` with ``p`` the method's order (1, 2, 2, 4).

The step times come from a uniform grid of ``steps`` steps, or from a user ``time_grid``: times
``0 = g_0 < ... < g_N = 1`` mapped affinely onto the integration interval
(``t = min(t0, t1) + g (|t1 - t0|)``) and walked from ``t0`` to ``t1``, so a grid denser near
``g = 1`` is denser near the larger time in both directions. Requested trajectory times are added
to the grid. The loop makes no host-device synchronisation: finiteness is checked once at the end
(and the first non-finite step located from per-step state sums recorded on the device).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core.solver import ODESolver, Solution
from flowkit.exceptions import InvalidParameterError, NonFiniteError
from flowkit.shapes import Batch, checked, shape_checks
from flowkit.core.solver import VectorField
from flowkit.solvers.field import CountedField
from flowkit.solvers.times import check_interval, check_start, insert_times, requested_times

__all__ = ["ButcherTableau", "Euler", "FixedStepSolver", "Heun", "Midpoint", "RK4"]

DEFAULT_STEPS = 100


@attrs.frozen
class ButcherTableau:
    """An explicit Runge-Kutta method: nodes ``c``, strictly lower-triangular ``a``, weights ``b``.

    ``a[i]`` holds the ``i`` coefficients ``a_i0 .. a_i,i-1`` of stage ``i``; ``order`` is the
    method's global order of accuracy.
    """

    c: tuple[float, ...]
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    order: int

    def __attrs_post_init__(self) -> None:
        stages = len(self.c)
        if len(self.a) != stages or len(self.b) != stages:
            raise ValueError("c, a and b must have one entry per stage")
        if any(len(row) != i for i, row in enumerate(self.a)):
            raise ValueError("a must be strictly lower triangular: row i has i coefficients")


EULER_TABLEAU = ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1)
MIDPOINT_TABLEAU = ButcherTableau(c=(0.0, 0.5), a=((), (0.5,)), b=(0.0, 1.0), order=2)
HEUN_TABLEAU = ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(0.5, 0.5), order=2)
RK4_TABLEAU = ButcherTableau(
    c=(0.0, 0.5, 0.5, 1.0),
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    order=4,
)


def _check_steps(instance: object, attribute: attrs.Attribute, value: int | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"steps must be an integer >= 1, got {value!r}")


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
    """A fixed-step explicit Runge-Kutta solver driven by its :class:`ButcherTableau`.

    ``steps``: the number of uniform steps (default 100); ``time_grid``: times from 0 to 1
    (strictly increasing) mapped onto the integration interval instead of a uniform grid;
    ``steps``, if also given, must equal ``len(time_grid) - 1``. A solve makes exactly
    ``stages * steps`` field evaluations (plus one step per requested trajectory time that is
    not on the grid).
    """

    tableau: ClassVar[ButcherTableau]

    steps: int | None = attrs.field(default=None, validator=_check_steps)
    time_grid: tuple[float, ...] | None = attrs.field(default=None, converter=_to_grid)
    _stages: tuple = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        if self.time_grid is not None and self.steps is not None and self.steps != len(self.time_grid) - 1:
            raise InvalidParameterError(
                f"steps={self.steps} disagrees with time_grid, which has {len(self.time_grid) - 1} steps; pass one of them"
            )
        # Per stage: its node and the non-zero (index, coefficient) pairs of its row of ``a``.
        stages = tuple(
            (c, tuple((j, a) for j, a in enumerate(row) if a != 0.0)) for c, row in zip(self.tableau.c, self.tableau.a)
        )
        weights = tuple((i, b) for i, b in enumerate(self.tableau.b) if b != 0.0)
        object.__setattr__(self, "_stages", (stages, weights))

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

    @checked
    def solve(
        self,
        field: VectorField,
        x0: Batch,
        *,
        t0: float | int = 0.0,
        t1: float | int = 1.0,
        trajectory_times: Sequence[float | int] | Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        """Integrate ``dx/dt = field(t, x)`` from ``x(t0) = x0`` to ``t1`` on the step grid."""
        t0, t1 = check_interval(t0, t1)
        requested = requested_times(trajectory_times, t0, t1)
        check_start(x0)
        grid = self.grid(t0, t1)
        record: list[int] = []
        if requested is not None:
            grid, record = insert_times(grid, requested)
        counted = CountedField(field)
        stages, weights = self._stages
        sums = x0.new_empty(len(grid) - 1)
        saved: dict[int, Tensor] = {0: x0} if 0 in record else {}
        wanted = set(record)
        x = x0
        with torch.set_grad_enabled(enable_grad), shape_checks(False):
            for n in range(len(grid) - 1):
                t, h = grid[n], grid[n + 1] - grid[n]
                k: list[Tensor] = []
                for c, row in stages:
                    x_stage = x
                    for j, a in row:
                        x_stage = x_stage.add(k[j], alpha=h * a)
                    k.append(counted(t + c * h, x_stage))
                for i, b in weights:
                    x = x.add(k[i], alpha=h * b)
                sums[n] = x.detach().sum()
                if n + 1 in wanted:
                    saved[n + 1] = x
        if not bool(torch.isfinite(x).all()):
            self._raise_non_finite(sums, grid)
        if requested is None:
            return Solution(x=x, nfe=counted.nfe)
        times = torch.tensor(requested, dtype=x0.dtype, device=x0.device)
        trajectory = torch.stack([saved[i] for i in record])
        return Solution(x=x, nfe=counted.nfe, times=times, trajectory=trajectory)

    @staticmethod
    def _raise_non_finite(sums: Tensor, grid: list[float]) -> None:
        bad = (~torch.isfinite(sums)).nonzero()
        step = int(bad[0]) if len(bad) else len(grid) - 2
        raise NonFiniteError(
            f"the ODE state became non-finite during step {step + 1} of {len(grid) - 1}, from t={grid[step]:.6g} "
            f"to t={grid[step + 1]:.6g} (last finite state at t={grid[step]:.6g}; integrating from {grid[0]} to {grid[-1]})"
        )


class Euler(FixedStepSolver):
    """Forward Euler, order 1: ``x_{n+1} = x_n + h v(t_n, x_n)``; one evaluation per step."""

    tableau = EULER_TABLEAU


class Midpoint(FixedStepSolver):
    """Explicit midpoint, order 2: ``x_{n+1} = x_n + h v(t_n + h/2, x_n + h/2 v(t_n, x_n))``."""

    tableau = MIDPOINT_TABLEAU


class Heun(FixedStepSolver):
    """Heun's method (explicit trapezoid), order 2: ``x_{n+1} = x_n + h/2 (k_1 + k_2)``,
    ``k_1 = v(t_n, x_n)``, ``k_2 = v(t_n + h, x_n + h k_1)``."""

    tableau = HEUN_TABLEAU


class RK4(FixedStepSolver):
    """The classical fourth-order Runge-Kutta method; four evaluations per step."""

    tableau = RK4_TABLEAU
