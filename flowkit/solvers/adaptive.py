r"""Adaptive-step Runge-Kutta solvers through torchdiffeq: ``dopri5``, ``dopri8``, ``bosh3``,
``adaptive_heun``, ``fehlberg2``.

Each step of an embedded pair estimates its local error $e$ from the difference of two
solutions of orders $p$ and $p - 1$ and accepts the step when
$\operatorname{rms}\bigl(e / (\mathrm{atol} + \mathrm{rtol} \max(\lvert x_n \rvert, \lvert x_{n+1} \rvert))\bigr)
\le 1$; the next step size follows from the error ratio. The methods (order of the propagated
solution): ``dopri8`` (Dormand-Prince 8(5,3)), ``dopri5`` (Dormand-Prince 5(4)), ``bosh3``
(Bogacki-Shampine 3(2)), ``fehlberg2`` (Runge-Kutta-Fehlberg 2(1)), ``adaptive_heun`` (Heun-Euler 2(1)).

flowkit counts every field evaluation itself and every step (accepted or rejected) through
torchdiffeq's ``callback_step``: more than ``max_steps`` steps raises :class:`SolverError`, a
step size that underflows raises :class:`SolverError`, and non-finite field values raise
:class:`NonFiniteError` naming the last accepted time. These checks do not rely on torchdiffeq's
``assert`` statements, so they hold under ``python -O`` too.

Steps are forced to land on ``t1`` and on every requested trajectory time (torchdiffeq's
``step_t``), so returned states are solver states, not values of the pair's interpolant past the
end of a step (which would add an interpolation error above the tolerance).
"""

from __future__ import annotations

from typing import ClassVar

import attrs
import torch
from torch import Tensor

from flowkit.core.counted_field import CountedField
from flowkit.core.solver import ODESolver
from flowkit.core.solver_times import insert_times
from flowkit.exceptions import NonFiniteError, SolverError
from flowkit.hookspecs import Register, hookimpl
from flowkit.validation import field_validator, require_float, require_int

__all__ = ["AdaptiveHeun", "AdaptiveSolver", "Bosh3", "Dopri5", "Dopri8", "Fehlberg2"]


_check_tolerance = field_validator(require_float, above=0.0)


class _StepMonitor:
    """The counted field as torchdiffeq sees it: called back before every step to enforce the step limit."""

    def __init__(self, field: CountedField, *, max_steps: int, method: str, t0: float, t1: float) -> None:
        self.field = field
        self.max_steps = max_steps
        self.method = method
        self.interval = (t0, t1)
        self.steps = 0

    def __call__(self, t: Tensor, x: Tensor) -> Tensor:
        return self.field(t, x)

    def callback_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        """Called by torchdiffeq before each attempted step from the last accepted time ``t0``."""
        self.steps += 1
        last = self.field.last_output
        if last is not None and not bool(torch.isfinite(last).all()):
            raise NonFiniteError(
                f"the vector field returned non-finite values in a step after the last accepted time, {self._where(t0)}"
            )
        if self.steps > self.max_steps:
            raise SolverError(
                f"{self.method} exceeded max_steps={self.max_steps} {self._where(t0)}; the field may be stiff or the "
                "tolerances too tight: raise max_steps, loosen atol/rtol, or use a fixed-step solver"
            )
        if not bool(torch.isfinite(dt)) or not bool(t0 + dt != t0):
            raise SolverError(
                f"{self.method}: the step size underflowed {self._where(t0)}; the field may be stiff or singular there"
            )

    def _where(self, t0: Tensor) -> str:
        start, end = self.interval
        return f"at t={float(t0.detach()):.6g} (integrating from {start} to {end} with {self.method})"


@attrs.frozen
class AdaptiveSolver(ODESolver):
    """An embedded Runge-Kutta pair from torchdiffeq with error control.

    ``atol``, ``rtol``: absolute and relative tolerances of the local error test (default
    ``1e-5`` each); ``max_steps``: the most steps, accepted or rejected, one solve may take
    (default 10,000) before it raises :class:`SolverError`.
    """

    method: ClassVar[str]

    atol: float = attrs.field(default=1e-5, validator=_check_tolerance)
    rtol: float = attrs.field(default=1e-5, validator=_check_tolerance)
    max_steps: int = attrs.field(default=10_000, validator=field_validator(require_int, minimum=1))

    def integrate(
        self, field: CountedField, x0: Tensor, *, t0: float, t1: float, times: list[float] | None
    ) -> tuple[Tensor, Tensor | None]:
        """The adaptive loop (torchdiffeq's), forced to step onto ``t1`` and every requested time."""
        grid, record = insert_times([t0, t1], times) if times is not None else ([t0, t1], [])
        monitored = _StepMonitor(field, max_steps=self.max_steps, method=self.method, t0=t0, t1=t1)
        # torchdiffeq keeps times in float64 (steps stay exact for float32 states); MPS has no float64.
        time_dtype = torch.float32 if x0.device.type == "mps" else torch.float64
        grid_tensor = torch.tensor(grid, dtype=time_dtype, device=x0.device)
        options = {"step_t": grid_tensor[1:], "dtype": time_dtype}
        import torchdiffeq  # imported on first use: it imports scipy.integrate, which is slow

        states = torchdiffeq.odeint(
            monitored, x0, grid_tensor, rtol=self.rtol, atol=self.atol, method=self.method, options=options
        )
        return states[-1], (states[record] if times is not None else None)


class Dopri5(AdaptiveSolver):
    """Dormand-Prince 5(4): order 5, six new evaluations per step (first-same-as-last)."""

    method = "dopri5"


class Dopri8(AdaptiveSolver):
    """Dormand-Prince 8(5,3): order 8, for smooth fields and tight tolerances."""

    method = "dopri8"


class Bosh3(AdaptiveSolver):
    """Bogacki-Shampine 3(2): order 3, three new evaluations per step."""

    method = "bosh3"


class AdaptiveHeun(AdaptiveSolver):
    """Heun-Euler 2(1): order 2, cheap steps for loose tolerances."""

    method = "adaptive_heun"


class Fehlberg2(AdaptiveSolver):
    """Runge-Kutta-Fehlberg 2(1): order 2, three evaluations per step."""

    method = "fehlberg2"


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the adaptive torchdiffeq solvers."""
    register("dopri5", Dopri5, description="adaptive Dormand-Prince 5(4) via torchdiffeq (atol=, rtol=, max_steps=)")
    register("dopri8", Dopri8, description="adaptive Dormand-Prince 8 via torchdiffeq (atol=, rtol=, max_steps=)")
    register("bosh3", Bosh3, description="adaptive Bogacki-Shampine 3(2) via torchdiffeq (atol=, rtol=, max_steps=)")
    register(
        "adaptive_heun", AdaptiveHeun, description="adaptive Heun-Euler 2(1) via torchdiffeq (atol=, rtol=, max_steps=)"
    )
    register(
        "fehlberg2",
        Fehlberg2,
        description="adaptive Runge-Kutta-Fehlberg 2(1) via torchdiffeq (atol=, rtol=, max_steps=)",
    )
