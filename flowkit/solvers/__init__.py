"""Built-in ODE solvers (kind ``"solver"``).

Fixed-step explicit Runge-Kutta methods (:mod:`flowkit.solvers.fixed`: ``euler``, ``midpoint``,
``heun``, ``rk4``) and adaptive embedded pairs through torchdiffeq
(:mod:`flowkit.solvers.adaptive`: ``dopri5``, ``dopri8``, ``bosh3``, ``adaptive_heun``,
``fehlberg2``), and stochastic samplers that keep the flow's marginals (:mod:`flowkit.solvers.sde`:
``euler-maruyama``, ``sde-heun``). All sit on :class:`flowkit.ODESolver`, which checks the inputs, counts the field
evaluations and honours requested times: the fixed-step ones declare only their Butcher
tableau (:class:`flowkit.core.RungeKuttaSolver`), the adaptive ones write only their loop.
"""

from flowkit.core import ButcherTableau, FixedStepSolver
from flowkit.solvers.adaptive import AdaptiveHeun, AdaptiveSolver, Bosh3, Dopri5, Dopri8, Fehlberg2
from flowkit.solvers.fixed import RK4, Euler, Heun, Midpoint
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
