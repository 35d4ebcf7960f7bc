"""The template plugin is registered through its entry point and its solver works (order 1)."""

from __future__ import annotations

import math

import pytest
import torch
from flowkit_template_plugin import ExampleEuler

from flowkit import InvalidParameterError, registry


def test_example_euler_is_registered_by_the_template_distribution():
    assert "example-euler" in registry.names("solver"), (
        "install the plugin first: pip install -e plugins/template (or your copy's folder)"
    )
    assert registry.get("solver", "example-euler").provider.distribution == "flowkit-template-plugin"
    assert isinstance(registry.create("solver", "example-euler", steps=10), ExampleEuler)


def test_example_euler_solves_exponential_decay_to_first_order():
    x0 = torch.ones(4, 2, dtype=torch.float64)
    solver = registry.create("solver", "example-euler", steps=200)
    solution = solver.solve(lambda t, x: -x, x0, trajectory_times=[0.0, 0.5, 1.0])
    assert solution.nfe == 200
    # Euler's global error for dx/dt = -x on [0, 1] is about h e^{-1} / 2
    assert torch.allclose(solution.x, x0 * math.exp(-1.0), atol=0.5 / 200, rtol=0)
    assert torch.equal(solution.trajectory[-1], solution.x) and torch.equal(solution.trajectory[0], x0)


def test_example_ralston_written_as_a_tableau_only_converges_at_order_two():
    from flowkit_template_plugin import ExampleRalston

    assert isinstance(registry.create("solver", "example-ralston", steps=4), ExampleRalston)
    x0 = torch.tensor([[0.3], [-0.2]], dtype=torch.float64)

    def riccati(t, x):  # dx/dt = cos(t) x^2, x(1) = 1 / (1 / x0 - sin 1)
        return torch.cos(t)[:, None] * x**2

    exact = 1 / (1 / x0 - math.sin(1.0))
    steps = (16, 32, 64, 128)
    errors = [(ExampleRalston(steps=n).solve(riccati, x0).x - exact).abs().max().item() for n in steps]
    orders = [math.log2(a / b) for a, b in zip(errors, errors[1:])]
    assert all(abs(order - 2) < 0.25 for order in orders), orders  # error ratio 4 per halving
    assert ExampleRalston(steps=8).solve(riccati, x0).nfe == 16


def test_the_solver_base_checks_the_interval_and_the_times():
    with pytest.raises(InvalidParameterError, match="t0 and t1 must differ"):
        ExampleEuler(steps=4).solve(lambda t, x: -x, torch.ones(2, 1), t0=0.5, t1=0.5)
    with pytest.raises(InvalidParameterError, match="trajectory_times must lie in"):
        ExampleEuler(steps=4).solve(lambda t, x: -x, torch.ones(2, 1), trajectory_times=[2.0])
