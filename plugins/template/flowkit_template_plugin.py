"""A template flowkit plugin: the explicit Euler solver, registered as the solver ``example-euler``.

Euler's method advances ``dx/dt = field(t, x)`` over a grid ``t_0, ..., t_N`` by
``x_{n+1} = x_n + (t_{n+1} - t_n) field(t_n, x_n)`` (global order 1). The grid is ``steps`` equal
steps from ``t0`` to ``t1`` plus any requested trajectory times, so those states are exact grid
states. Copy this file to start a plugin: a component class and one ``@flowkit.hookimpl``
function that registers it.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Sequence

import torch
from flowkit import ODESolver, Solution, hookimpl
from flowkit.exceptions import InvalidParameterError
from flowkit.shapes import Batch, checked


class ExampleEuler(ODESolver):
    """Explicit Euler with ``steps`` equal steps: ``x_{n+1} = x_n + h_n field(t_n, x_n)``.

    Parameters:
        steps: the number of equal steps from ``t0`` to ``t1``, an integer >= 1.
    """

    def __init__(self, steps: int = 100) -> None:
        if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
            raise InvalidParameterError(f"steps must be an integer >= 1, got {steps!r}")
        self.steps = steps

    @checked
    def solve(
        self,
        field: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
        x0: Batch,
        *,
        t0: float | int = 0.0,
        t1: float | int = 1.0,
        trajectory_times: Sequence[float | int] | torch.Tensor | None = None,
        enable_grad: bool = False,
    ) -> Solution:
        """Integrate ``dx/dt = field(t, x)`` from ``x(t0) = x0`` to ``t1`` (backwards if ``t1 < t0``).

        ``field`` receives ``t`` as a ``[batch]`` tensor. ``trajectory_times`` must lie between
        ``t0`` and ``t1``, ordered from ``t0``; their states are returned in ``Solution.trajectory``.
        """
        t0, t1 = float(t0), float(t1)
        if not (math.isfinite(t0) and math.isfinite(t1)):
            raise InvalidParameterError(f"t0 and t1 must be finite numbers, got t0={t0}, t1={t1}")
        requested = [] if trajectory_times is None else [float(t) for t in trajectory_times]
        progress = [(t - t0) / (t1 - t0) if t1 != t0 else 0.0 for t in requested]
        if any(not 0.0 <= p <= 1.0 for p in progress) or progress != sorted(progress):
            raise InvalidParameterError(
                f"trajectory_times must lie between t0={t0} and t1={t1}, ordered from t0; got {requested}"
            )
        uniform = [t0 + (t1 - t0) * n / self.steps for n in range(self.steps)] + [t1]
        grid = sorted(set(uniform + requested), key=lambda t: (t - t0) * (1.0 if t1 >= t0 else -1.0))

        states = {t0: x0}
        x, nfe = x0, 0
        with torch.set_grad_enabled(enable_grad):
            for t_now, t_next in itertools.pairwise(grid):
                t_batch = torch.full((x.shape[0],), t_now, dtype=x.dtype, device=x.device)
                x = x + (t_next - t_now) * field(t_batch, x)
                nfe += 1
                states[t_next] = x
        if trajectory_times is None:
            return Solution(x=x, nfe=nfe)
        times = torch.tensor(requested, dtype=x0.dtype, device=x0.device)
        trajectory = torch.stack([states[t] for t in requested]) if requested else x0.new_empty((0, *x0.shape))
        return Solution(x=x, nfe=nfe, times=times, trajectory=trajectory)


@hookimpl
def flowkit_register_solvers(register) -> None:
    """Register this plugin's solvers; flowkit calls this hook once when it builds its registry."""
    register("example-euler", ExampleEuler, description="template plugin: explicit Euler (copy me)")
