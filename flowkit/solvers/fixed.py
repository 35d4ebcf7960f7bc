r"""Fixed-step explicit Runge-Kutta solvers: ``euler``, ``midpoint``, ``heun``, ``rk4``.

Each method is its Butcher tableau $(c, a, b)$ on :class:`flowkit.core.RungeKuttaSolver`
(which owns the step formula $k_i = v(t + c_i h, x + h \sum_j a_{ij} k_j)$,
$x_{\mathrm{next}} = x + h \sum_i b_i k_i$) and :class:`flowkit.core.FixedStepSolver` (which owns the grid
of ``steps`` uniform steps or a user ``time_grid``). The global error after integrating over a
fixed interval is $O(h^p)$ with $p$ the method's order (1, 2, 2, 4).
"""

from __future__ import annotations

from flowkit.core.runge_kutta import ButcherTableau, RungeKuttaSolver
from flowkit.hookspecs import Register, hookimpl

__all__ = ["EULER_TABLEAU", "HEUN_TABLEAU", "MIDPOINT_TABLEAU", "RK4", "RK4_TABLEAU", "Euler", "Heun", "Midpoint"]

EULER_TABLEAU = ButcherTableau(c=(0.0,), a=((),), b=(1.0,), order=1)
MIDPOINT_TABLEAU = ButcherTableau(c=(0.0, 0.5), a=((), (0.5,)), b=(0.0, 1.0), order=2)
HEUN_TABLEAU = ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(0.5, 0.5), order=2)
RK4_TABLEAU = ButcherTableau(
    c=(0.0, 0.5, 0.5, 1.0),
    a=((), (0.5,), (0.0, 0.5), (0.0, 0.0, 1.0)),
    b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
    order=4,
)


class Euler(RungeKuttaSolver):
    r"""Forward Euler, order 1: $x_{n+1} = x_n + h\, v(t_n, x_n)$; one evaluation per step."""

    tableau = EULER_TABLEAU


class Midpoint(RungeKuttaSolver):
    r"""Explicit midpoint, order 2: $x_{n+1} = x_n + h\, v\bigl(t_n + h/2, x_n + \frac{h}{2} v(t_n, x_n)\bigr)$."""

    tableau = MIDPOINT_TABLEAU


class Heun(RungeKuttaSolver):
    r"""Heun's method (explicit trapezoid), order 2: $x_{n+1} = x_n + \frac{h}{2} (k_1 + k_2)$,
    $k_1 = v(t_n, x_n)$, $k_2 = v(t_n + h, x_n + h k_1)$."""

    tableau = HEUN_TABLEAU


class RK4(RungeKuttaSolver):
    """The classical fourth-order Runge-Kutta method; four evaluations per step."""

    tableau = RK4_TABLEAU


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the fixed-step solvers ``euler``, ``midpoint``, ``heun`` and ``rk4``."""
    register("euler", Euler, description="forward Euler, fixed steps, order 1 (steps=, time_grid=)")
    register("midpoint", Midpoint, description="explicit midpoint, fixed steps, order 2 (steps=, time_grid=)")
    register("heun", Heun, description="Heun's trapezoid method, fixed steps, order 2 (steps=, time_grid=)")
    register("rk4", RK4, description="classical Runge-Kutta, fixed steps, order 4 (steps=, time_grid=)")
