"""The explicit Runge-Kutta methods that start the Adams-Bashforth methods, as flowkit tableaus.

:data:`RUNGE_KUTTA_STARTERS` maps an order p to a p-stage method of order p: Heun's method (2),
Kutta's third-order method (3) and the classic fourth-order method (4). A step of a tableau
``(c, a, b)`` is :meth:`flowkit.ButcherTableau.step`:
``k_i = f(t + c_i h, x + h sum_{j<i} a_ij k_j)``, ``x_next = x + h sum_i b_i k_i``.
"""

from __future__ import annotations

from flowkit import ButcherTableau

RUNGE_KUTTA_STARTERS: dict[int, ButcherTableau] = {
    2: ButcherTableau(c=(0.0, 1.0), a=((), (1.0,)), b=(1 / 2, 1 / 2), order=2),
    3: ButcherTableau(c=(0.0, 1 / 2, 1.0), a=((), (1 / 2,), (-1.0, 2.0)), b=(1 / 6, 2 / 3, 1 / 6), order=3),
    4: ButcherTableau(
        c=(0.0, 1 / 2, 1 / 2, 1.0),
        a=((), (1 / 2,), (0.0, 1 / 2), (0.0, 0.0, 1.0)),
        b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
        order=4,
    ),
}
"""The p-stage explicit Runge-Kutta method of order p used to start Adams-Bashforth of order p."""
