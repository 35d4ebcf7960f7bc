r"""Explicit Runge-Kutta methods from their Butcher tableau: declare $(c, a, b)$, get a solver.

A tableau with $s$ stages advances $x$ at time $t$ by one step $h$:

$$
k_i = v\Bigl(t + c_i h,\ x + h \sum_{j<i} a_{ij} k_j\Bigr), \quad i = 1, \dots, s, \qquad
x_{\mathrm{next}} = x + h \sum_i b_i k_i.
$$

The method is consistent when $\sum_i b_i = 1$ and every node is its row sum,
$c_i = \sum_j a_{ij}$ (checked on construction); its global error over a fixed interval is
$O(h^p)$ with $p$ the declared ``order``. :class:`RungeKuttaSolver` is a
:class:`flowkit.core.FixedStepSolver` whose step is its class attribute ``tableau``'s.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, ClassVar

import attrs
from torch import Tensor

from flowkit.core.fixed_step import FixedStepSolver
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import field_validator, require_int

__all__ = ["ButcherTableau", "RungeKuttaSolver"]

_TOLERANCE = 1e-12


def _numbers(value: Any, what: str) -> tuple[float, ...]:
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        raise InvalidParameterError(f"{what} must be a sequence of numbers, got {value!r}") from None
    if not all(math.isfinite(v) for v in numbers):
        raise InvalidParameterError(f"{what} must be finite, got {list(numbers)}")
    return numbers


def _rows(value: Any) -> tuple[tuple[float, ...], ...]:
    try:
        rows = list(value)
    except TypeError:
        raise InvalidParameterError(f"a must be a sequence of rows, got {value!r}") from None
    return tuple(_numbers(row, f"a[{i}]") for i, row in enumerate(rows))


_check_order = field_validator(require_int, minimum=1, note="the global order of accuracy")


@attrs.frozen
class ButcherTableau:
    r"""An explicit Runge-Kutta method: nodes ``c``, strictly lower-triangular ``a``, weights ``b``.

    ``a[i]`` holds the $i$ coefficients $a_{i0}, \dots, a_{i,i-1}$ of stage $i$ (``a[0]`` is empty);
    ``order`` is the method's global order of accuracy. Construction checks the shapes and the
    consistency conditions $\sum_i b_i = 1$ and $c_i = \sum_j a_{ij}$.
    """

    c: tuple[float, ...] = attrs.field(converter=lambda v: _numbers(v, "c"))
    a: tuple[tuple[float, ...], ...] = attrs.field(converter=_rows)
    b: tuple[float, ...] = attrs.field(converter=lambda v: _numbers(v, "b"))
    order: int = attrs.field(validator=_check_order)
    _plan: tuple = attrs.field(init=False, repr=False, eq=False)

    def __attrs_post_init__(self) -> None:
        stages = len(self.c)
        if stages == 0 or len(self.a) != stages or len(self.b) != stages:
            raise InvalidParameterError(
                f"c, a and b must have one entry per stage (at least one), got {len(self.c)}, {len(self.a)}, {len(self.b)}"
            )
        for i, row in enumerate(self.a):
            if len(row) != i:
                raise InvalidParameterError(
                    f"a must be strictly lower triangular: row {i} must have {i} coefficients, got {len(row)}"
                )
            if abs(sum(row) - self.c[i]) > _TOLERANCE * max(1.0, abs(self.c[i])):
                raise InvalidParameterError(f"c[{i}] = {self.c[i]} must equal the sum of a[{i}] = {sum(row)}")
        if abs(sum(self.b) - 1.0) > _TOLERANCE:
            raise InvalidParameterError(f"the weights b must sum to 1, got {sum(self.b)}")
        # Per stage: its node and the non-zero (index, coefficient) pairs of its row of ``a``.
        stage_plan = tuple((c, tuple((j, a) for j, a in enumerate(row) if a != 0.0)) for c, row in zip(self.c, self.a))
        weights = tuple((i, b) for i, b in enumerate(self.b) if b != 0.0)
        object.__setattr__(self, "_plan", (stage_plan, weights))

    @property
    def stages(self) -> int:
        """The number of field evaluations per step."""
        return len(self.b)

    def step(
        self,
        field: Callable[[float, Tensor], Tensor],
        t: float,
        x: Tensor,
        h: float,
        *,
        first_slope: Tensor | None = None,
    ) -> Tensor:
        r"""$x(t) \mapsto x(t + h)$: one step of the method (formula in the module docstring).

        ``first_slope``, when given, is $k_1$ = ``field(t, x)`` already evaluated (a multistep
        method that keeps its slopes passes it so it is not evaluated twice).
        """
        stage_plan, weights = self._plan
        k: list[Tensor] = []
        for i, (c, row) in enumerate(stage_plan):
            if i == 0 and first_slope is not None:
                k.append(first_slope)
                continue
            x_stage = x
            for j, a in row:
                x_stage = x_stage.add(k[j], alpha=h * a)
            k.append(field(t + c * h, x_stage))
        for i, b in weights:
            x = x.add(k[i], alpha=h * b)
        return x


class RungeKuttaSolver(FixedStepSolver):
    """A fixed-step explicit Runge-Kutta solver: a subclass declares only ``tableau``.

    A solve makes ``tableau.stages`` field evaluations per step (``steps``, ``time_grid`` as for
    :class:`flowkit.core.FixedStepSolver`)::

        class Ralston(RungeKuttaSolver):
            tableau = ButcherTableau(c=(0, 2/3), a=((), (2/3,)), b=(1/4, 3/4), order=2)
    """

    tableau: ClassVar[ButcherTableau]

    def __attrs_post_init__(self) -> None:
        super().__attrs_post_init__()
        if not isinstance(getattr(type(self), "tableau", None), ButcherTableau):
            raise InvalidParameterError(
                f"{type(self).__name__} must declare a class attribute tableau = ButcherTableau(c=..., a=..., b=..., order=...)"
            )

    def step(self, field: Callable[[float, Tensor], Tensor], t: float, x: Tensor, h: float) -> Tensor:
        """One step of :attr:`tableau`."""
        return self.tableau.step(field, t, x, h)
