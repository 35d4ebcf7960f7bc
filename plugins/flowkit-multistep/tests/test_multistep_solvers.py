"""Adams-Bashforth solvers: convergence order, exact nfe, backward integration, trajectories, errors."""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np
import pytest
import torch
from flowkit_multistep import (
    ADAMS_BASHFORTH_COEFFICIENTS,
    RUNGE_KUTTA_STARTERS,
    AdamsBashforth,
    AdamsBashforth2,
    AdamsBashforth3,
    AdamsBashforth4,
)

from flowkit import InvalidParameterError, NonFiniteError, ODESolver, ShapeError, Solution

ORDERS = (2, 3, 4)
ROTATION = torch.tensor([[0.0, -1.0], [1.0, 0.0]], dtype=torch.float64)
X0 = torch.tensor([[1.0, -0.5], [0.3, 2.0], [0.0, 1.0]], dtype=torch.float64)


def rotating_field(t, x):
    """dx/dt = (1 + t) J x: a rotation by the angle t + t^2 / 2, exact flow known."""
    assert t.shape == (x.shape[0],) and t.dtype == x.dtype
    return (1 + t)[:, None] * (x @ ROTATION.T)


def rotating_flow(t0, t1, x):
    angle = (t1 + t1**2 / 2) - (t0 + t0**2 / 2)
    c, s = math.cos(angle), math.sin(angle)
    return x @ torch.tensor([[c, -s], [s, c]], dtype=x.dtype).T


def _fitted_order(steps, errors):
    return -np.polyfit(np.log(steps), np.log(errors), 1)[0]


def test_coefficients_integrate_the_interpolating_polynomial_exactly():
    # sum_j b_j p(-j) = int_0^1 p(u) du for every polynomial p of degree < k (Adams quadrature)
    for order, weights in ADAMS_BASHFORTH_COEFFICIENTS.items():
        for degree in range(order):
            exact_weights = [Fraction(w).limit_denominator(1000) for w in weights]
            quadrature = sum(w * Fraction(-j) ** degree for j, w in enumerate(exact_weights))
            assert quadrature == Fraction(1, degree + 1), (order, degree)


def test_starters_satisfy_the_runge_kutta_order_conditions():
    for order, tab in RUNGE_KUTTA_STARTERS.items():
        assert tab.order == order == tab.stages
        b, c = np.array(tab.b), np.array(tab.c)
        a = np.zeros((tab.stages, tab.stages))
        for i, row in enumerate(tab.a):
            a[i, : len(row)] = row
        np.testing.assert_allclose(a.sum(1), c)  # row sums are the nodes
        conditions = [(b.sum(), 1), (b @ c, 1 / 2)]
        if order >= 3:
            conditions += [(b @ c**2, 1 / 3), (b @ a @ c, 1 / 6)]
        if order >= 4:
            conditions += [(b @ c**3, 1 / 4), (b @ (c * (a @ c)), 1 / 8)]
            conditions += [(b @ a @ c**2, 1 / 12), (b @ a @ a @ c, 1 / 24)]
        for got, want in conditions:
            assert got == pytest.approx(want)


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize(("t0", "t1"), [(0.0, 1.0), (1.0, 0.0)])
def test_global_error_converges_at_the_method_order(order, t0, t1):
    steps = [16, 32, 64, 128]
    errors = []
    for n in steps:
        solution = AdamsBashforth(order, n).solve(rotating_field, X0, t0=t0, t1=t1)
        errors.append((solution.x - rotating_flow(t0, t1, X0)).abs().max().item())
    assert abs(_fitted_order(steps, errors) - order) < 0.25, errors


@pytest.mark.parametrize("order", ORDERS)
@pytest.mark.parametrize("steps", [1, 2, 3, 5, 12])
def test_nfe_is_the_number_of_field_calls(order, steps):
    calls = []

    def field(t, x):
        calls.append(t)
        return rotating_field(t, x)

    solution = AdamsBashforth(order, steps).solve(field, X0)
    start_steps = min(order - 1, steps)
    # f_0, then per start step the RK stages after the first, and one slope per later grid point
    assert solution.nfe == len(calls) == 1 + start_steps * (order - 1) + (steps - 1)
    if steps >= order - 1:
        assert solution.nfe == steps + (order - 1) ** 2


def test_the_field_sees_the_grid_times_as_batch_tensors():
    seen = []

    def field(t, x):
        seen.append(t)
        return torch.zeros_like(x)

    AdamsBashforth2(steps=4).solve(field, X0, t0=1.0, t1=0.0)
    assert all(t.shape == (3,) and t.dtype == torch.float64 and torch.all(t == t[0]) for t in seen)
    # Heun start: f(1), f(0.75) as stage 2 ... then one slope per grid point, never past t1
    assert [t[0].item() for t in seen] == [1.0, 0.75, 0.75, 0.5, 0.25]


@pytest.mark.parametrize("order", ORDERS)
def test_trajectory_matches_the_flow_at_grid_and_interior_times(order):
    times = [0.0, 0.1, 0.25, 0.55, 0.999, 1.0]
    steps = [16, 32, 64]
    errors = []
    for n in steps:
        solution = AdamsBashforth(order, n).solve(rotating_field, X0, trajectory_times=times)
        assert solution.trajectory.shape == (len(times), *X0.shape)
        torch.testing.assert_close(solution.times, torch.tensor(times, dtype=torch.float64))
        assert torch.equal(solution.trajectory[0], X0) and torch.equal(solution.trajectory[-1], solution.x)
        expected = torch.stack([rotating_flow(0.0, t, X0) for t in times])
        errors.append((solution.trajectory - expected).abs().max().item())
    assert abs(_fitted_order(steps, errors) - order) < 0.35, errors


def test_a_trajectory_time_inside_the_last_step_costs_one_evaluation_more():
    solver = AdamsBashforth3(steps=10)
    plain = solver.solve(rotating_field, X0, trajectory_times=[0.0, 0.5, 1.0])
    inside_last = solver.solve(rotating_field, X0, trajectory_times=[0.0, 0.95, 1.0])
    assert plain.nfe == 10 + 4 and inside_last.nfe == 10 + 5


def test_backward_trajectory_and_integer_times():
    solution = AdamsBashforth4(steps=40).solve(rotating_field, X0, t0=1, t1=0, trajectory_times=[1, 0.5, 0])
    expected = torch.stack([rotating_flow(1.0, t, X0) for t in (1.0, 0.5, 0.0)])
    torch.testing.assert_close(solution.trajectory, expected, atol=1e-4, rtol=0)


def test_gradients_flow_only_when_enabled():
    x0 = X0.clone().requires_grad_()
    assert not AdamsBashforth4(steps=8).solve(rotating_field, x0).x.requires_grad
    solution = AdamsBashforth4(steps=64).solve(rotating_field, x0, enable_grad=True)
    (grad,) = torch.autograd.grad(solution.x[:, 0].sum(), x0)
    # d x1(1) / d x0 is the first row of the rotation by 1.5 rad, the same for every sample
    expected = torch.tensor([math.cos(1.5), -math.sin(1.5)], dtype=torch.float64).expand_as(grad)
    torch.testing.assert_close(grad, expected, atol=1e-6, rtol=0)


def test_follows_the_state_dtype_and_accepts_image_shaped_states():
    x = torch.randn(2, 1, 3, 3)
    solution = AdamsBashforth2(steps=32).solve(lambda t, x: -x, x)
    assert solution.x.dtype == torch.float32 and solution.x.shape == x.shape
    torch.testing.assert_close(solution.x, x * math.exp(-1.0), atol=1e-3, rtol=1e-3)


def test_is_an_ode_solver_returning_a_solution():
    solution = AdamsBashforth3().solve(rotating_field, X0)
    assert isinstance(AdamsBashforth3(), ODESolver) and isinstance(solution, Solution)
    assert solution.times is None and solution.trajectory is None


@pytest.mark.parametrize(
    ("times", "message"),
    [
        ([0.0, 1.5], r"must lie in \[0.0, 1.0\]"),
        ([0.5, 0.2], "must be non-decreasing"),
        ([float("nan")], r"must lie in \[0.0, 1.0\]"),
        (torch.tensor([[0.0, 1.0]]), "one-dimensional"),
    ],
)
def test_badly_placed_trajectory_times_are_rejected(times, message):
    with pytest.raises(InvalidParameterError, match=message):
        AdamsBashforth2(steps=4).solve(rotating_field, X0, trajectory_times=times)


def test_bad_times_field_output_and_blow_up_raise_flowkit_errors():
    with pytest.raises(InvalidParameterError, match="t1 must be a finite number"):
        AdamsBashforth2().solve(rotating_field, X0, t1=float("inf"))
    with pytest.raises(InvalidParameterError, match="t0 and t1 must differ"):
        AdamsBashforth2().solve(rotating_field, X0, t0=0.5, t1=0.5)
    with pytest.raises(NonFiniteError, match="initial state"):
        AdamsBashforth2().solve(rotating_field, X0 * float("nan"))
    with pytest.raises(ShapeError, match="with the shape of x"):
        AdamsBashforth2().solve(lambda t, x: x[:, :1], X0)
    with pytest.raises(NonFiniteError, match="NaN or infinity"):
        AdamsBashforth2(steps=4).solve(lambda t, x: x * float("inf"), X0)
    with pytest.raises(ShapeError, match="x0"):
        AdamsBashforth2().solve(rotating_field, torch.tensor(1.0))
