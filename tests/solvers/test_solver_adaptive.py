"""Adaptive solvers through torchdiffeq: accuracy against tolerance, step limits, parameters."""

from __future__ import annotations

import pytest
import torch
from solver_cases import ADAPTIVE, riccati_field, riccati_solution, riccati_start

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, NonFiniteError, SolverError
from flowkit.solvers import Dopri5

# Global error at atol = rtol = 1e-6 on the test ODE. The tolerance bounds local errors only;
# fehlberg2 (a 2(1) pair) accumulates a much larger global error than the others.
GLOBAL_ERROR_BOUND = {"dopri5": 1e-4, "dopri8": 1e-4, "bosh3": 1e-4, "adaptive_heun": 1e-4, "fehlberg2": 1e-2}


@pytest.mark.parametrize("name", ADAPTIVE)
@pytest.mark.parametrize("t0, t1", [(0.0, 1.5), (1.0, -0.5)])
def test_error_follows_the_tolerance(name, t0, t1):
    x0 = riccati_start()
    exact = riccati_solution(x0, t0, t1)
    errors = []
    for tol in (1e-3, 1e-6):
        solution = registry.create("solver", name, atol=tol, rtol=tol).solve(riccati_field, x0, t0=t0, t1=t1)
        errors.append(float((solution.x - exact).abs().max()))
    assert errors[1] < errors[0] / 5
    assert errors[1] < GLOBAL_ERROR_BOUND[name]


def test_tighter_tolerance_costs_more_evaluations():
    x0 = riccati_start()
    loose = Dopri5(atol=1e-3, rtol=1e-3).solve(riccati_field, x0).nfe
    tight = Dopri5(atol=1e-9, rtol=1e-9).solve(riccati_field, x0).nfe
    assert tight > loose


def test_exceeding_max_steps_raises_instead_of_hanging():
    def fast(t, x):
        return torch.cos(200 * t)[:, None].expand_as(x)

    with pytest.raises(SolverError, match="exceeded max_steps=5"):
        Dopri5(atol=1e-10, rtol=1e-10, max_steps=5).solve(fast, torch.zeros(2, 1, dtype=torch.float64))


@pytest.mark.parametrize(
    "params, message",
    [
        ({"atol": 0.0}, "atol must be a finite number > 0"),
        ({"rtol": -1e-3}, "rtol must be a finite number > 0"),
        ({"atol": float("nan")}, "atol must be a finite number > 0"),
        ({"max_steps": 0}, "max_steps must be an integer >= 1"),
        ({"steps": 10}, "Accepted parameters: atol, rtol, max_steps"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        registry.create("solver", "dopri5", **params)


def test_a_singular_field_reports_step_size_underflow():
    def singular(t, x):  # x(t) = 1 / (0.5 - t) - 2 blows up at t = 0.5
        return (0.5 - t)[:, None] ** -2 + 0 * x

    with pytest.raises((SolverError, NonFiniteError), match=r"at t=0\.5"):
        Dopri5(atol=1e-5, rtol=1e-5, max_steps=100_000).solve(singular, torch.zeros(2, 1, dtype=torch.float64))
