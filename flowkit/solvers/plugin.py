"""Registers the built-in solvers (kind ``"solver"``): fixed-step and adaptive Runge-Kutta methods, SDE samplers."""

from flowkit.hookspecs import Register, hookimpl
from flowkit.solvers.adaptive import AdaptiveHeun, Bosh3, Dopri5, Dopri8, Fehlberg2
from flowkit.solvers.fixed import RK4, Euler, Heun, Midpoint
from flowkit.solvers.sde import EulerMaruyama, StochasticHeun


@hookimpl
def flowkit_register_solvers(register: Register) -> None:
    """Register the built-in solvers."""
    register("euler", Euler, description="forward Euler, fixed steps, order 1 (steps=, time_grid=)")
    register("midpoint", Midpoint, description="explicit midpoint, fixed steps, order 2 (steps=, time_grid=)")
    register("heun", Heun, description="Heun's trapezoid method, fixed steps, order 2 (steps=, time_grid=)")
    register("rk4", RK4, description="classical Runge-Kutta, fixed steps, order 4 (steps=, time_grid=)")
    register("dopri5", Dopri5, description="adaptive Dormand-Prince 5(4) via torchdiffeq (atol=, rtol=, max_steps=)")
    register("dopri8", Dopri8, description="adaptive Dormand-Prince 8 via torchdiffeq (atol=, rtol=, max_steps=)")
    register("bosh3", Bosh3, description="adaptive Bogacki-Shampine 3(2) via torchdiffeq (atol=, rtol=, max_steps=)")
    register(
        "adaptive_heun", AdaptiveHeun, description="adaptive Heun-Euler 2(1) via torchdiffeq (atol=, rtol=, max_steps=)"
    )
    register(
        "euler-maruyama",
        EulerMaruyama,
        description="SDE sampler dx = (v + g^2/2 score) dt + g dW, marginals of the flow kept (diffusion=, schedule=, score=, seed=)",
    )
    register(
        "sde-heun",
        StochasticHeun,
        description="stochastic Heun (predictor-corrector) for the same SDE, two evaluations per step",
    )
    register(
        "fehlberg2",
        Fehlberg2,
        description="adaptive Runge-Kutta-Fehlberg 2(1) via torchdiffeq (atol=, rtol=, max_steps=)",
    )
