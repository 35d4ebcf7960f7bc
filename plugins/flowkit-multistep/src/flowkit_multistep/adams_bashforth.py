"""Adams-Bashforth multistep ODE solvers of orders 2, 3 and 4 with a Runge-Kutta start.

With the fixed step ``h = (t1 - t0) / steps`` (negative when integrating backwards), grid
``t_n = t0 + n h`` and slopes ``f_n = field(t_n, x_n)``, the k-step Adams-Bashforth method is::

    x_{n+1} = x_n + h sum_{j=0}^{k-1} b_j f_{n-j},    b_j = int_0^1 l_j(u) du,

where ``l_j`` is the Lagrange polynomial through the nodes ``u = 0, -1, ..., -(k-1)`` that is 1 at
``u = -j`` (the step integrates the polynomial interpolating the last k slopes)::

    AB2: b = (3, -1) / 2      AB3: b = (23, -16, 5) / 12      AB4: b = (55, -59, 37, -9) / 24

It has global order k and costs one field evaluation per step. The first ``k - 1`` steps lack
that history and are taken with the k-stage Runge-Kutta method of order k (Heun, Kutta's
third-order method, classic RK4) whose first stage is ``f_n``, so a solve costs
``steps + (k - 1)^2`` evaluations for ``steps >= k - 1``, plus one at ``t1`` when a requested
trajectory time lies inside the last step (see :mod:`flowkit_multistep.dense_output`).
"""

from __future__ import annotations

import collections
from collections.abc import Callable

from torch import Tensor

from flowkit import ODESolver
from flowkit.core import require_choice, require_int
from flowkit_multistep.dense_output import Trajectory
from flowkit_multistep.runge_kutta import RUNGE_KUTTA_STARTERS

ADAMS_BASHFORTH_COEFFICIENTS: dict[int, tuple[float, ...]] = {
    2: (3 / 2, -1 / 2),
    3: (23 / 12, -16 / 12, 5 / 12),
    4: (55 / 24, -59 / 24, 37 / 24, -9 / 24),
}
"""``b_j`` of the k-step method, newest slope first: ``x_{n+1} = x_n + h sum_j b_j f_{n-j}``."""


class AdamsBashforth(ODESolver):
    """The fixed-step Adams-Bashforth method of order ``order`` (2, 3 or 4), started by Runge-Kutta.

    ``x_{n+1} = x_n + h sum_j b_j f_{n-j}`` with the coefficients of
    :data:`ADAMS_BASHFORTH_COEFFICIENTS`; the first ``order - 1`` steps use the Runge-Kutta method
    of the same order. Cost: ``steps + (order - 1)^2`` field evaluations.

    A multistep method writes its own loop (:meth:`integrate`); :meth:`flowkit.ODESolver.solve`
    checks the interval, the requested times and the states, counts the evaluations and honours
    ``enable_grad``. Requested trajectory times are grid states exactly, other times cubic
    Hermite interpolants (:mod:`flowkit_multistep.dense_output`), so the grid stays uniform.

    Parameters:
        order: 2, 3 or 4.
        steps: the number of equal steps from ``t0`` to ``t1``, an integer >= 1.
    """

    def __init__(self, order: int, steps: int = 20) -> None:
        self.order = require_choice("order", order, ADAMS_BASHFORTH_COEFFICIENTS)
        self.steps = require_int("steps", steps, minimum=1, note="the number of fixed steps")

    def __repr__(self) -> str:
        return f"{type(self).__name__}(order={self.order}, steps={self.steps})"

    @property
    def coefficients(self) -> tuple[float, ...]:
        """The weights ``b_j``, newest slope first."""
        return ADAMS_BASHFORTH_COEFFICIENTS[self.order]

    def integrate(
        self,
        field: Callable[[float, Tensor], Tensor],
        x0: Tensor,
        *,
        t0: float,
        t1: float,
        times: list[float] | None,
    ) -> tuple[Tensor, Tensor | None]:
        """``steps`` equal steps from ``t0`` to ``t1``: Runge-Kutta start, then Adams-Bashforth."""
        trajectory = None if times is None else Trajectory(times, t0=t0, t1=t1, steps=self.steps)
        steps, order = self.steps, self.order
        h = (t1 - t0) / steps
        grid = [t0 + (t1 - t0) * n / steps for n in range(steps)] + [t1]
        starter = RUNGE_KUTTA_STARTERS[order]
        x = x0
        slope = field(grid[0], x)
        history: collections.deque[Tensor] = collections.deque([slope], maxlen=order)  # newest first
        if trajectory is not None:
            trajectory.at_grid(0, x)
        for n in range(steps):
            if n < order - 1:
                x_next = starter.step(field, grid[n], x, h, first_slope=slope)
            else:
                x_next = x
                for weight, past in zip(self.coefficients, history, strict=True):
                    x_next = x_next + (h * weight) * past
            last = n + 1 == steps
            needs_slope = not last or (trajectory is not None and trajectory.needs_end_slope(n))
            slope_next = field(grid[n + 1], x_next) if needs_slope else None
            if trajectory is not None:
                trajectory.in_step(n, x, slope, x_next, slope_next, h)
                trajectory.at_grid(n + 1, x_next)
            if slope_next is not None:
                history.appendleft(slope_next)
            x, slope = x_next, slope_next
        return x, (None if trajectory is None else trajectory.states())


class AdamsBashforth2(AdamsBashforth):
    """Two-step Adams-Bashforth ``x_{n+1} = x_n + h (3 f_n - f_{n-1}) / 2``, started by Heun's method."""

    def __init__(self, steps: int = 20) -> None:
        super().__init__(2, steps)


class AdamsBashforth3(AdamsBashforth):
    """Three-step Adams-Bashforth, started by Kutta's third-order method:
    ``x_{n+1} = x_n + h (23 f_n - 16 f_{n-1} + 5 f_{n-2}) / 12``."""

    def __init__(self, steps: int = 20) -> None:
        super().__init__(3, steps)


class AdamsBashforth4(AdamsBashforth):
    """Four-step Adams-Bashforth, started by RK4:
    ``x_{n+1} = x_n + h (55 f_n - 59 f_{n-1} + 37 f_{n-2} - 9 f_{n-3}) / 24``."""

    def __init__(self, steps: int = 20) -> None:
        super().__init__(4, steps)
