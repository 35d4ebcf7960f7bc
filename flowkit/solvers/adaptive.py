"""Adaptive-step Runge-Kutta solvers through torchdiffeq: ``dopri5``, ``dopri8``, ``bosh3``,
``adaptive_heun``, ``fehlberg2``.

Each step of an embedded pair estimates its local error ``e`` from the difference of two
solutions of orders ``p`` and ``p - 1`` and accepts the step when
``rms(e / (atol + rtol * max(|x_n|, |x_{n+1}|))) <= 1``; the next step size follows from the
error ratio. The methods (order of the propagated solution): ``dopri8`` (Dormand-Prince 8(5,3)),
``dopri5`` (Dormand-Prince 5(4)), ``bosh3`` (Bogacki-Shampine 3(2)), ``fehlberg2``
(Runge-Kutta-Fehlberg 2(1)), ``adaptive_heun`` (Heun-Euler 2(1)).

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

import math
from collections.abc import Sequence
from typing import ClassVar

import attrs
import torch
import torchdiffeq
from torch import Tensor

from flowkit.core.solver import ODESolver, Solution
from flowkit.exceptions import InvalidParameterError, NonFiniteError, SolverError
from flowkit.shapes import Batch, checked, shape_checks
from flowkit.core.solver import VectorField
from flowkit.solvers.field import CountedField
from flowkit.solvers.times import check_interval, check_start, insert_times, requested_times

__all__ = ["AdaptiveHeun", "AdaptiveSolver", "Bosh3", "Dopri5", "Dopri8", "Fehlberg2"]


def _check_tolerance(instance: object, attribute: attrs.Attribute, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise InvalidParameterError(f"{attribute.name} must be a positive finite number, got {value!r}")


def _check_max_steps(instance: object, attribute: attrs.Attribute, value: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidParameterError(f"max_steps must be an integer >= 1, got {value!r}")


class _MonitoredField(CountedField):
    """A counted field that torchdiffeq calls back at every step to enforce the step limit."""

    def __init__(self, field: VectorField, *, max_steps: int, method: str, t0: float, t1: float) -> None:
        super().__init__(field)
        self.max_steps = max_steps
        self.method = method
        self.interval = (t0, t1)
        self.steps = 0

    def callback_step(self, t0: Tensor, y0: Tensor, dt: Tensor) -> None:
        """Called by torchdiffeq before each attempted step from the last accepted time ``t0``."""
        self.steps += 1
        if self.last_output is not None and not bool(torch.isfinite(self.last_output).all()):
            raise NonFiniteError(
                f"the vector field returned non-finite values in a step after the last accepted time, {self._where(t0)}"
            )
        if self.steps > self.max_steps:
            raise SolverError(
                f"{self.method} exceeded max_steps={self.max_steps} {self._where(t0)}; the field may be stiff or the "
                "tolerances too tight: raise max_steps, loosen atol/rtol, or use a fixed-step solver"
            )
        if not bool(torch.isfinite(dt)) or not bool(t0 + dt != t0):
            raise SolverError(f"{self.method}: the step size underflowed {self._where(t0)}; the field may be stiff or singular there")

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
    max_steps: int = attrs.field(default=10_000, validator=_check_max_steps)

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
        """Integrate ``dx/dt = field(t, x)`` from ``x(t0) = x0`` to ``t1`` with step-size control."""
        t0, t1 = check_interval(t0, t1)
        requested = requested_times(trajectory_times, t0, t1)
        check_start(x0)
        grid, record = insert_times([t0, t1], requested) if requested is not None else ([t0, t1], [])
        monitored = _MonitoredField(field, max_steps=self.max_steps, method=self.method, t0=t0, t1=t1)
        # torchdiffeq keeps times in float64 (steps stay exact for float32 states); MPS has no float64.
        time_dtype = torch.float32 if x0.device.type == "mps" else torch.float64
        times = torch.tensor(grid, dtype=time_dtype, device=x0.device)
        options = {"step_t": times[1:], "dtype": time_dtype}
        with torch.set_grad_enabled(enable_grad), shape_checks(False):
            states = torchdiffeq.odeint(monitored, x0, times, rtol=self.rtol, atol=self.atol, method=self.method, options=options)
        x = states[-1]
        if not bool(torch.isfinite(x).all()):
            raise NonFiniteError(f"{self.method} ended with a non-finite state at t={t1} (integrating from {t0})")
        if requested is None:
            return Solution(x=x, nfe=monitored.nfe)
        return Solution(
            x=x,
            nfe=monitored.nfe,
            times=torch.tensor(requested, dtype=x0.dtype, device=x0.device),
            trajectory=states[record],
        )


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
