"""Fixed-step solvers: convergence orders, grids, trajectories, evaluation counts."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from solver_cases import FIXED, ORDERS, CountingField, riccati_field, riccati_solution, riccati_start

from flowkit import registry
from flowkit.exceptions import InvalidParameterError
from flowkit.solvers import RK4, Euler, Heun, Midpoint


def _error(name: str, t0: float, t1: float, **params) -> float:
    x0 = riccati_start()
    solution = registry.create("solver", name, **params).solve(riccati_field, x0, t0=t0, t1=t1)
    return float((solution.x - riccati_solution(x0, t0, t1)).abs().max())


def _slope(steps, errors) -> float:
    return float(np.polyfit(np.log(1.0 / np.asarray(steps)), np.log(errors), 1)[0])


@pytest.mark.parametrize("name", FIXED)
@pytest.mark.parametrize("t0, t1", [(0.0, 1.5), (1.5, 0.0)])
def test_convergence_order(name, t0, t1):
    steps = [16, 32, 64, 128]
    errors = [_error(name, t0, t1, steps=n) for n in steps]
    assert _slope(steps, errors) == pytest.approx(ORDERS[name], abs=0.25)


@pytest.mark.parametrize("name", ["euler", "rk4"])
def test_convergence_order_on_a_user_grid_dense_near_one(name):
    steps = [16, 32, 64, 128]
    grids = [[1 - (1 - i / n) ** 2 for i in range(n + 1)] for n in steps]
    errors = [_error(name, 0.0, 1.5, time_grid=grid) for grid in grids]
    assert _slope(steps, errors) == pytest.approx(ORDERS[name], abs=0.25)


@pytest.mark.parametrize("cls, stages", [(Euler, 1), (Midpoint, 2), (Heun, 2), (RK4, 4)])
def test_nfe_is_the_true_number_of_calls(cls, stages):
    field = CountingField(riccati_field)
    solution = cls(steps=7).solve(field, riccati_start(), t0=0.0, t1=1.0)
    assert solution.nfe == field.calls == 7 * stages


def test_time_grid_is_mapped_onto_the_interval_and_walked_in_order():
    field = CountingField(lambda t, x: torch.zeros_like(x))
    solver = Euler(time_grid=[0.0, 0.9, 1.0])
    solver.solve(field, torch.zeros(2, 1), t0=0.0, t1=2.0)
    assert [float(t[0]) for t in field.times] == pytest.approx([0.0, 1.8])
    field.times.clear()
    solver.solve(field, torch.zeros(2, 1), t0=2.0, t1=0.0)
    assert [float(t[0]) for t in field.times] == pytest.approx([2.0, 1.8])


def test_trajectory_states_are_grid_states_and_off_grid_times_add_steps():
    x0 = riccati_start()
    field = CountingField(riccati_field)
    times = [0.0, 0.25, 0.33, 1.0]
    solution = RK4(steps=40).solve(field, x0, t0=0.0, t1=1.0, trajectory_times=times)
    assert solution.nfe == field.calls == 4 * 41  # 0.33 is off the grid: one extra step
    assert solution.trajectory.shape == (4, *x0.shape)
    torch.testing.assert_close(solution.times, torch.tensor(times, dtype=x0.dtype))
    for state, t in zip(solution.trajectory, times):
        torch.testing.assert_close(state, riccati_solution(x0, 0.0, t), atol=1e-8, rtol=0)
    torch.testing.assert_close(solution.trajectory[-1], solution.x)


def test_backward_trajectory():
    x1 = riccati_start()
    solution = Midpoint(steps=200).solve(
        riccati_field, x1, t0=1.0, t1=0.0, trajectory_times=torch.tensor([1.0, 0.5, 0.0])
    )
    for state, t in zip(solution.trajectory, [1.0, 0.5, 0.0]):
        torch.testing.assert_close(state, riccati_solution(x1, 1.0, t), atol=1e-5, rtol=0)


def test_defaults_and_registry_parameters():
    assert Euler().num_steps == 100
    assert registry.create("solver", "rk4", steps=5).num_steps == 5
    assert registry.create("solver", "heun", time_grid=torch.linspace(0, 1, 4)).num_steps == 3
    assert RK4(steps=3, time_grid=[0.0, 0.2, 0.7, 1.0]).num_steps == 3


@pytest.mark.parametrize(
    "params, message",
    [
        ({"steps": 0}, "steps must be None or an integer >= 1"),
        ({"steps": -3}, "steps must be None or an integer >= 1"),
        ({"steps": 2.5}, "steps must be None or an integer >= 1"),
        ({"steps": True}, "steps must be None or an integer >= 1"),
        ({"time_grid": [0.0, 0.5]}, "from 0 to 1"),
        ({"time_grid": [0.0, 0.6, 0.4, 1.0]}, "strictly increasing"),
        ({"time_grid": [0.0, 0.5, 1.0], "steps": 3}, "disagrees"),
        ({"nsteps": 3}, "Accepted parameters: steps, time_grid"),
    ],
)
def test_bad_parameters_are_named(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        registry.create("solver", "rk4", **params)


def test_exact_for_polynomials_of_its_order():
    """rk4 integrates dx/dt = t^3 exactly (quadrature of order 4): x(1) = x0 + 1/4."""
    x0 = torch.zeros(3, 2, dtype=torch.float64)
    solution = RK4(steps=1).solve(lambda t, x: (t**3)[:, None].expand_as(x), x0)
    torch.testing.assert_close(solution.x, x0 + 0.25, atol=1e-15, rtol=0)
    assert math.isclose(float(Euler(steps=1).solve(lambda t, x: torch.ones_like(x), x0).x[0, 0]), 1.0)
