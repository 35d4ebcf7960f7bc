"""Built-in ODE solvers (kind ``"solver"``).

Fixed-step explicit Runge-Kutta methods (:mod:`flowkit.solvers.fixed`: ``euler``, ``midpoint``,
``heun``, ``rk4``) and adaptive embedded pairs through torchdiffeq
(:mod:`flowkit.solvers.adaptive`: ``dopri5``, ``dopri8``, ``bosh3``, ``adaptive_heun``,
``fehlberg2``), and stochastic samplers that keep the flow's marginals
(:mod:`flowkit.solvers.sde`: ``euler-maruyama``, ``sde-heun``). All implement :class:`flowkit.ODESolver` and count field evaluations by wrapping
the field (:mod:`flowkit.solvers.field`).
"""

from flowkit.solvers.adaptive import AdaptiveHeun, AdaptiveSolver, Bosh3, Dopri5, Dopri8, Fehlberg2
from flowkit.solvers.fixed import RK4, ButcherTableau, Euler, FixedStepSolver, Heun, Midpoint
from flowkit.solvers.sde import EulerMaruyama, StochasticHeun, StochasticSolver

__all__ = [
    "RK4",
    "AdaptiveHeun",
    "AdaptiveSolver",
    "Bosh3",
    "ButcherTableau",
    "Dopri5",
    "Dopri8",
    "Euler",
    "EulerMaruyama",
    "FixedStepSolver",
    "Fehlberg2",
    "Heun",
    "Midpoint",
    "StochasticHeun",
    "StochasticSolver",
]
