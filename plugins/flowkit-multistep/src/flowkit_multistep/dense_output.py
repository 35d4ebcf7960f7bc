"""States at requested times from a fixed-step solve: grid points exactly, other times by Hermite cubics.

A requested time ``tau`` at position ``u = steps (tau - t0) / (t1 - t0)`` on the step grid is the
grid state ``x_n`` when ``u`` is the integer ``n`` (up to ``1e-6`` of a step); otherwise, with
``n = floor(u)`` and ``theta = u - n``, it is the cubic Hermite interpolant through the states and
slopes at both ends of the step::

    x(t_n + theta h) = (1 + 2 theta)(1 - theta)^2 x_n + theta (1 - theta)^2 h f_n
                     + theta^2 (3 - 2 theta) x_{n+1} + theta^2 (theta - 1) h f_{n+1},

whose error is ``O(h^4)`` per step, so the trajectory keeps the order of a solver of order <= 4.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

_SNAP = 1e-6
"""Requested times within this fraction of a step of a grid point take that grid state."""


def hermite(x_n: Tensor, slope_n: Tensor, x_next: Tensor, slope_next: Tensor, h: float, theta: float) -> Tensor:
    """The cubic Hermite interpolant at ``t_n + theta h`` (formula in the module docstring)."""
    h00 = (1 + 2 * theta) * (1 - theta) ** 2
    h10 = theta * (1 - theta) ** 2 * h
    h01 = theta**2 * (3 - 2 * theta)
    h11 = theta**2 * (theta - 1) * h
    return h00 * x_n + h10 * slope_n + h01 * x_next + h11 * slope_next


class Trajectory:
    """Collects the states at requested times while a fixed-step solver runs over ``steps`` steps.

    The solver calls :meth:`at_grid` with each grid state ``x_n`` (``n = 0 .. steps``) and, for each
    step, :meth:`in_step` with both ends' states and slopes (before ``at_grid(n + 1)``);
    :meth:`needs_end_slope` tells it whether the last step needs the slope at ``t1``.
    """

    def __init__(self, times: list[float], *, t0: float, t1: float, steps: int) -> None:
        """Map ``times`` (checked by :meth:`flowkit.ODESolver.solve`: inside the interval, in
        integration order) onto the grid of ``steps`` equal steps from ``t0`` to ``t1``."""
        self._slots: list[tuple[int, float]] = []  # (grid index, 0.0) or (step index, theta in (0, 1))
        for tau in times:
            position = min(max(steps * (tau - t0) / (t1 - t0), 0.0), float(steps))
            nearest = round(position)
            if abs(position - nearest) <= _SNAP:
                self._slots.append((nearest, 0.0))
            else:
                self._slots.append((math.floor(position), position - math.floor(position)))
        self._states: list[Tensor] = []

    def needs_end_slope(self, step: int) -> bool:
        """Whether a requested time lies strictly inside step ``step`` (so Hermite needs ``f_{step+1}``)."""
        return any(index == step and theta > 0.0 for index, theta in self._slots)

    def at_grid(self, n: int, x_n: Tensor) -> None:
        """Record ``x_n`` for every pending request at grid point ``n``."""
        while self._pending() == (n, 0.0):
            self._states.append(x_n)

    def in_step(
        self, n: int, x_n: Tensor, slope_n: Tensor, x_next: Tensor, slope_next: Tensor | None, h: float
    ) -> None:
        """Record the Hermite interpolant for every pending request strictly inside step ``n``."""
        while (slot := self._pending()) is not None and slot[0] == n and slot[1] > 0.0:
            assert slope_next is not None, "needs_end_slope() was not honoured"
            self._states.append(hermite(x_n, slope_n, x_next, slope_next, h, slot[1]))

    def _pending(self) -> tuple[int, float] | None:
        done = len(self._states)
        return self._slots[done] if done < len(self._slots) else None

    def states(self) -> Tensor:
        """The recorded states, ``[len(times), *x.shape]``."""
        return torch.stack(self._states)
