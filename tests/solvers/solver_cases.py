"""ODEs with known solutions and a call-counting field, shared by the solver tests.

The solvers under test are read from the registry: every Runge-Kutta (``FIXED``, with the order
its tableau declares in ``ORDERS``) and adaptive (``ADAPTIVE``) solver that the family
:mod:`flowkit.solvers` registers, so a new one is tested without an entry here.
"""

from __future__ import annotations

import math

import torch

from flowkit import RungeKuttaSolver, registry
from flowkit.solvers import AdaptiveSolver


def _family_solvers(base: type) -> tuple[str, ...]:
    specs = [registry.get("solver", name) for name in registry.names("solver")]
    return tuple(
        spec.name
        for spec in specs
        if spec.provider.plugin == "flowkit.solvers.plugin"
        and isinstance(spec.factory, type)
        and issubclass(spec.factory, base)
    )


FIXED = _family_solvers(RungeKuttaSolver)
ADAPTIVE = _family_solvers(AdaptiveSolver)
ORDERS = {name: registry.get("solver", name).factory.tableau.order for name in FIXED}


def riccati_field(t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``dx/dt = cos(t) x^2``: non-linear and time-dependent."""
    return torch.cos(t).reshape(-1, *([1] * (x.dim() - 1))) * x**2


def riccati_solution(x0: torch.Tensor, t0: float, t1: float) -> torch.Tensor:
    """``x(t1) = 1 / (1 / x(t0) - (sin t1 - sin t0))`` for :func:`riccati_field`."""
    return 1.0 / (1.0 / x0 - (math.sin(t1) - math.sin(t0)))


def riccati_start(shape=(6, 3), dtype=torch.float64) -> torch.Tensor:
    """Starting points in ``[-0.5, -0.1] u [0.1, 0.5]``, where the solution exists on ``[-1, 2]``."""
    magnitude = torch.linspace(0.1, 0.5, int(torch.Size(shape).numel()), dtype=dtype).reshape(shape)
    sign = torch.ones(shape, dtype=dtype)
    sign.view(-1)[::2] = -1
    return magnitude * sign


class CountingField:
    """Wraps a field and counts its calls independently of the solver."""

    def __init__(self, field):
        self.field = field
        self.calls = 0
        self.times: list[torch.Tensor] = []

    def __call__(self, t, x):
        self.calls += 1
        self.times.append(t)
        return self.field(t, x)
