"""The ODESolver contract for every built-in solver: shapes, dtypes, time argument, gradients,
backward integration, encode/decode and error reporting."""

from __future__ import annotations

import math
import re

import pytest
import torch
from solver_cases import ADAPTIVE, FIXED, CountingField, riccati_field, riccati_solution, riccati_start

from flowkit import ODESolver, registry
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError, UnknownComponentError

ALL = FIXED + ADAPTIVE


def _solver(name: str) -> ODESolver:
    return registry.create("solver", name, steps=20) if name in FIXED else registry.create("solver", name)


def test_every_builtin_is_registered_with_a_description():
    specs = {spec.name: spec for spec in registry.components("solver")}
    for name in ALL:
        assert name in specs and specs[name].description


@pytest.mark.parametrize("name", ALL)
def test_any_shape_dtype_and_time_argument(name):
    x0 = torch.randn(3, 2, 4, 5)
    seen = []

    def field(t, x):
        seen.append((t.shape, t.dtype, x.shape))
        return -x

    solution = _solver(name).solve(field, x0)
    assert solution.x.shape == x0.shape and solution.x.dtype == torch.float32
    assert set(seen) == {((3,), torch.float32, x0.shape)}
    torch.testing.assert_close(solution.x, x0 * math.exp(-1.0), atol=0.05, rtol=0)
    assert not solution.x.requires_grad
    assert solution.trajectory is None and solution.times is None


@pytest.mark.parametrize("name", ALL)
def test_nfe_counts_every_call(name):
    field = CountingField(riccati_field)
    solution = _solver(name).solve(field, riccati_start(), t0=0.0, t1=1.0)
    assert solution.nfe == field.calls > 0


@pytest.mark.parametrize("name", ["rk4", "dopri5"])
def test_gradients_only_when_asked(name):
    rate = torch.tensor(0.7, dtype=torch.float64, requires_grad=True)
    x0 = torch.ones(4, 1, dtype=torch.float64)
    solver = registry.create("solver", name, **({"steps": 50} if name == "rk4" else {"atol": 1e-9, "rtol": 1e-9}))
    assert not solver.solve(lambda t, x: rate * x, x0).x.requires_grad
    (grad,) = torch.autograd.grad(solver.solve(lambda t, x: rate * x, x0, enable_grad=True).x.sum(), rate)
    torch.testing.assert_close(grad, 4 * torch.exp(rate.detach()), rtol=1e-6, atol=0)  # d/da sum x0 e^a


@pytest.mark.parametrize("name", ["rk4", "dopri5", "dopri8"])
def test_encode_then_decode_returns_the_input(name):
    torch.manual_seed(3)
    net = torch.nn.Sequential(torch.nn.Linear(3, 32), torch.nn.Tanh(), torch.nn.Linear(32, 2)).double()
    field = lambda t, x: net(torch.cat([x, t[:, None]], dim=1))  # noqa: E731
    x1 = torch.randn(16, 2, dtype=torch.float64)
    solver = registry.create("solver", name, **({"steps": 50} if name == "rk4" else {"atol": 1e-8, "rtol": 1e-8}))
    noise = solver.solve(field, x1, t0=1.0, t1=0.0).x
    assert (noise - x1).abs().max() > 0.1
    torch.testing.assert_close(solver.solve(field, noise, t0=0.0, t1=1.0).x, x1, atol=1e-4, rtol=0)


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(UnknownComponentError) as info:
        registry.create("solver", "rk5")
    message = str(info.value)
    assert all(name in message for name in ALL)


@pytest.mark.parametrize("name", ["euler", "rk4", "dopri5", "bosh3"])
def test_non_finite_state_names_the_time_reached(name):
    def field(t, x):  # NaN from t = 0.5 on
        return torch.where(t[:, None] >= 0.5, torch.full_like(x, float("nan")), -x)

    solver = registry.create("solver", name, **({"steps": 10} if name in FIXED else {}))
    with pytest.raises(NonFiniteError) as info:
        solver.solve(field, torch.ones(2, 3))
    reached = float(re.search(r"t=([0-9.]+)", str(info.value)).group(1))
    if name in FIXED:
        assert reached in (0.4, 0.5)  # the first step that evaluates the field at t = 0.5 starts here
    else:
        assert 0.2 < reached <= 0.5  # the last accepted time before the failing step


@pytest.mark.parametrize("name", ["rk4", "dopri5"])
def test_bad_input_is_reported(name):
    solver = _solver(name)
    with pytest.raises(NonFiniteError, match="x0"):
        solver.solve(riccati_field, torch.tensor([[float("nan")]]))
    with pytest.raises(InvalidParameterError, match="t0 and t1 must differ"):
        solver.solve(riccati_field, riccati_start(), t0=0.5, t1=0.5)
    with pytest.raises(InvalidParameterError, match=r"must lie in \[0.0, 1.0\]"):
        solver.solve(riccati_field, riccati_start(), trajectory_times=[0.5, 1.5])
    with pytest.raises(InvalidParameterError, match="non-increasing"):
        solver.solve(riccati_field, riccati_start(), t0=1.0, t1=0.0, trajectory_times=[0.2, 0.8])
    with pytest.raises(ShapeError, match="returned shape"):
        solver.solve(lambda t, x: x[:, :1], torch.ones(2, 3))
    with pytest.raises(ShapeError):
        solver.solve(riccati_field, torch.ones(3, dtype=torch.int64))


@pytest.mark.parametrize("name", ["heun", "dopri5"])
def test_trajectory_matches_the_solution(name):
    x0 = riccati_start()
    solver = registry.create("solver", name, **({"steps": 400} if name == "heun" else {"atol": 1e-9, "rtol": 1e-9}))
    solution = solver.solve(riccati_field, x0, t0=0.0, t1=1.0, trajectory_times=[0.0, 0.3, 0.3, 1.0])
    assert solution.trajectory.shape == (4, *x0.shape)
    for state, t in zip(solution.trajectory, [0.0, 0.3, 0.3, 1.0]):
        torch.testing.assert_close(state, riccati_solution(x0, 0.0, t), atol=1e-5, rtol=0)
