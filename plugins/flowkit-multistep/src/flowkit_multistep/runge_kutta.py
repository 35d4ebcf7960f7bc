"""Explicit Runge-Kutta steps that start the Adams-Bashforth methods.

A Butcher tableau ``(a, b, c)`` with ``s`` stages advances ``x`` by one step ``h``::

    k_i = f(t + c_i h, x + h sum_{j<i} a_ij k_j),    x_next = x + h sum_i b_i k_i.

:data:`RUNGE_KUTTA_STARTERS` maps an order p to a p-stage method of order p: Heun's method (2),
Kutta's third-order method (3) and the classic fourth-order method (4).
"""

from __future__ import annotations

from collections.abc import Callable

import attrs
from torch import Tensor


@attrs.frozen
class ButcherTableau:
    """An explicit Runge-Kutta method: rows ``a`` (stage i uses ``a[i][:i]``), weights ``b``, nodes ``c``."""

    name: str
    order: int
    a: tuple[tuple[float, ...], ...]
    b: tuple[float, ...]
    c: tuple[float, ...]

    @property
    def stages(self) -> int:
        """The number of field evaluations per step."""
        return len(self.b)


RUNGE_KUTTA_STARTERS: dict[int, ButcherTableau] = {
    2: ButcherTableau("heun", 2, a=((), (1.0,)), b=(1 / 2, 1 / 2), c=(0.0, 1.0)),
    3: ButcherTableau(
        "kutta3", 3, a=((), (1 / 2,), (-1.0, 2.0)), b=(1 / 6, 2 / 3, 1 / 6), c=(0.0, 1 / 2, 1.0)
    ),
    4: ButcherTableau(
        "rk4",
        4,
        a=((), (1 / 2,), (0.0, 1 / 2), (0.0, 0.0, 1.0)),
        b=(1 / 6, 1 / 3, 1 / 3, 1 / 6),
        c=(0.0, 1 / 2, 1 / 2, 1.0),
    ),
}
"""The p-stage explicit Runge-Kutta method of order p used to start Adams-Bashforth of order p."""


def _combine(x: Tensor, h: float, weights: tuple[float, ...], slopes: list[Tensor]) -> Tensor:
    """``x + h sum_j w_j k_j``, skipping zero weights."""
    for weight, slope in zip(weights, slopes, strict=True):
        if weight != 0.0:
            x = x + (h * weight) * slope
    return x


def runge_kutta_step(
    field: Callable[[float, Tensor], Tensor],
    tableau: ButcherTableau,
    t: float,
    x: Tensor,
    h: float,
    first_slope: Tensor,
) -> Tensor:
    """One step ``x(t) -> x(t + h)`` of ``tableau``, given its first stage ``k_1 = field(t, x)``.

    ``field(t, x)`` takes a float time; the caller passes ``k_1`` because the Adams-Bashforth
    history needs that slope too, so it is evaluated once.
    """
    slopes = [first_slope]
    for c_i, a_i in zip(tableau.c[1:], tableau.a[1:], strict=True):
        slopes.append(field(t + c_i * h, _combine(x, h, a_i, slopes)))
    return _combine(x, h, tableau.b, slopes)
