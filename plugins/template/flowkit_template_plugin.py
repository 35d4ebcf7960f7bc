"""A template flowkit plugin: two ODE solvers, registered as ``example-euler`` and ``example-ralston``.

Both sit on flowkit's solver base, which checks the interval and the requested trajectory
times, counts field evaluations, honours ``enable_grad`` and builds the :class:`flowkit.Solution`:

- :class:`ExampleEuler` writes one step of Euler's method,
  ``x_{n+1} = x_n + h field(t_n, x_n)`` (global order 1), on :class:`flowkit.FixedStepSolver`,
  which owns the grid (``steps`` equal steps or a ``time_grid``, plus requested times);
- :class:`ExampleRalston` only declares a Butcher tableau, Ralston's second-order method
  ``c = (0, 2/3)``, ``a_21 = 2/3``, ``b = (1/4, 3/4)``, on :class:`flowkit.RungeKuttaSolver`.

Copy this file to start a plugin: a component class and one ``@flowkit.hookimpl`` function that
registers it. A plugin imports only ``flowkit`` and ``flowkit.core``.
"""

from __future__ import annotations

from collections.abc import Callable

from torch import Tensor

import flowkit
from flowkit import ButcherTableau, FixedStepSolver, RungeKuttaSolver


class ExampleEuler(FixedStepSolver):
    """Explicit Euler: ``x_{n+1} = x_n + h_n field(t_n, x_n)``.

    Parameters (from :class:`flowkit.FixedStepSolver`): ``steps``, the number of equal steps
    (default 100), or ``time_grid``, step times from 0 to 1.
    """

    def step(self, field: Callable[[float, Tensor], Tensor], t: float, x: Tensor, h: float) -> Tensor:
        """One Euler step of size ``h`` from ``x`` at time ``t``."""
        return x + h * field(t, x)


class ExampleRalston(RungeKuttaSolver):
    """Ralston's second-order method, the two-stage method of least truncation error."""

    tableau = ButcherTableau(c=(0.0, 2 / 3), a=((), (2 / 3,)), b=(1 / 4, 3 / 4), order=2)


@flowkit.hookimpl
def flowkit_register_solvers(register: flowkit.Register) -> None:
    """Register this plugin's solvers; flowkit calls this hook once when it builds its registry."""
    register("example-euler", ExampleEuler, description="template plugin: explicit Euler (copy me)")
    register("example-ralston", ExampleRalston, description="template plugin: Ralston's method from its tableau")
