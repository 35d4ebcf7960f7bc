"""The solver base: what ODESolver, FixedStepSolver and RungeKuttaSolver do for a subclass."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit.core import ButcherTableau, FixedStepSolver, ODESolver, RungeKuttaSolver
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError, SolverError


class ExactDecay(ODESolver):
    """Writes only its loop: the exact flow of dx/dt = -x, one field call per requested time."""

    def integrate(self, field, x0, *, t0, t1, times):
        field(t0, x0)
        states = None if times is None else torch.stack([x0 * math.exp(-(t - t0)) for t in times])
        return x0 * math.exp(-(t1 - t0)), states


class Leapfrog(FixedStepSolver):
    """Writes only its step: explicit midpoint, order 2."""

    def step(self, field, t, x, h):
        return x + h * field(t + h / 2, x + h / 2 * field(t, x))


def test_base_checks_inputs_once_for_a_solver_that_writes_only_its_loop():
    solver, x0 = ExactDecay(), torch.ones(3, 2)
    with pytest.raises(InvalidParameterError, match="t0 and t1 must differ"):
        solver.solve(lambda t, x: -x, x0, t0=0.3, t1=0.3)
    with pytest.raises(InvalidParameterError, match="non-decreasing"):
        solver.solve(lambda t, x: -x, x0, trajectory_times=[0.5, 0.1])
    with pytest.raises(NonFiniteError, match="x0"):
        solver.solve(lambda t, x: -x, x0 * float("nan"))
    with pytest.raises(ShapeError, match="x0"):
        solver.solve(lambda t, x: -x, torch.tensor(1.0))
    with pytest.raises(ShapeError, match="with the shape of x"):
        solver.solve(lambda t, x: x[:, :1], x0)
    solution = solver.solve(lambda t, x: -x, x0, trajectory_times=[0.0, 0.5])
    assert solution.nfe == 1 and solution.trajectory.shape == (2, 3, 2)
    torch.testing.assert_close(solution.times, torch.tensor([0.0, 0.5]))


def test_a_wrong_trajectory_or_a_non_finite_end_is_reported_with_the_solver():
    class NoTrajectory(ExactDecay):
        def integrate(self, field, x0, *, t0, t1, times):
            return super().integrate(field, x0, t0=t0, t1=t1, times=None)

    with pytest.raises(SolverError, match=r"returned a trajectory of shape NoneType; expected \(1, 3, 2\)"):
        NoTrajectory().solve(lambda t, x: -x, torch.ones(3, 2), trajectory_times=[0.5])

    class Blowup(ExactDecay):
        def integrate(self, field, x0, *, t0, t1, times):
            return x0 / 0.0, None

    with pytest.raises(NonFiniteError, match=r"Blowup.*NaN or infinity"):
        Blowup().solve(lambda t, x: -x, torch.ones(3, 2))


def test_enable_grad_is_honoured_by_the_base():
    rate = torch.tensor(0.5, requires_grad=True)
    solver = Leapfrog(steps=8)
    assert not solver.solve(lambda t, x: rate * x, torch.ones(2, 1)).x.requires_grad
    assert solver.solve(lambda t, x: rate * x, torch.ones(2, 1), enable_grad=True).x.requires_grad


def test_a_solver_that_writes_only_its_step_gets_grid_trajectory_and_order():
    x0 = torch.tensor([[1.0], [-2.0]], dtype=torch.float64)
    solution = Leapfrog(steps=10).solve(lambda t, x: -x, x0, t0=1.0, t1=0.0, trajectory_times=[1.0, 0.55, 0.0])
    assert solution.nfe == 2 * 11  # the off-grid time 0.55 adds one step
    assert torch.equal(solution.trajectory[0], x0) and torch.equal(solution.trajectory[-1], solution.x)
    errors = [(Leapfrog(steps=n).solve(lambda t, x: -x, x0).x - x0 * math.exp(-1)).abs().max().item() for n in (20, 40)]
    assert abs(math.log2(errors[0] / errors[1]) - 2) < 0.1


def test_a_tableau_declares_a_solver_and_its_order_shows():
    class Kutta3(RungeKuttaSolver):
        tableau = ButcherTableau(c=(0, 0.5, 1), a=((), (0.5,), (-1, 2)), b=(1 / 6, 2 / 3, 1 / 6), order=3)

    # exact for dx/dt = t^2 (a polynomial of degree order - 1)
    x0 = torch.zeros(1, 1, dtype=torch.float64)
    solution = Kutta3(steps=3).solve(lambda t, x: (t**2)[:, None].expand_as(x), x0, t1=2.0)
    torch.testing.assert_close(solution.x, torch.full_like(x0, 8 / 3), rtol=1e-14, atol=0)
    assert solution.nfe == 9 and Kutta3.tableau.stages == 3


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (
            {"c": (0.0, 0.5), "a": ((), (0.4,)), "b": (0.5, 0.5), "order": 2},
            r"c\[1\] = 0.5 must equal the sum of a\[1\]",
        ),
        ({"c": (0.0, 1.0), "a": ((), (1.0,)), "b": (0.5, 0.6), "order": 2}, "b must sum to 1"),
        ({"c": (0.0, 1.0), "a": ((), (1.0, 0.0)), "b": (0.5, 0.5), "order": 2}, "strictly lower triangular"),
        ({"c": (0.0,), "a": ((),), "b": (1.0,), "order": 0}, "order must be an integer >= 1"),
        ({"c": (0.0,), "a": ((),), "b": (1.0, 0.0), "order": 1}, "one entry per stage"),
        ({"c": (0.0,), "a": ((),), "b": ("x",), "order": 1}, "b must be a sequence of numbers"),
    ],
)
def test_bad_tableaus_are_named(arguments, message):
    with pytest.raises(InvalidParameterError, match=message):
        ButcherTableau(**arguments)


def test_incomplete_subclasses_say_what_to_write():
    class NoTableau(RungeKuttaSolver):
        pass

    with pytest.raises(InvalidParameterError, match="must declare a class attribute tableau"):
        NoTableau()

    class NoLoop(ODESolver):
        pass

    with pytest.raises(NotImplementedError, match="must implement integrate"):
        NoLoop().solve(lambda t, x: x, torch.ones(1, 1))


def test_a_second_network_wrapped_by_count_also_is_counted_and_checked():
    class Guided(ODESolver):
        """Euler along field + guide, the guide a second network the solver evaluates itself."""

        def __init__(self, guide):
            self.guide = guide

        def integrate(self, field, x0, *, t0, t1, times):
            guide, x, h = field.count_also(self.guide), x0, (t1 - t0) / 4
            for n in range(4):
                t = t0 + n * h
                x = x + h * (field(t, x) + guide(t, x))
            return x, None

    calls = []

    def guide(t, x):
        calls.append(t.shape)
        return torch.ones_like(x)

    solution = Guided(guide).solve(lambda t, x: torch.zeros_like(x), torch.zeros(3, 2))
    assert solution.nfe == 8 and calls == [(3,)] * 4
    torch.testing.assert_close(solution.x, torch.ones(3, 2))
    with pytest.raises(ShapeError, match="returned shape"):
        Guided(lambda t, x: x[:, :1]).solve(lambda t, x: torch.zeros_like(x), torch.zeros(3, 2))
