"""Unbalanced and partial entropic OT against independent solutions of small problems, and their limits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import linprog, minimize

from flowkit import registry
from flowkit.couplings import (
    PartialOTCoupling,
    SinkhornCoupling,
    UnbalancedOTCoupling,
    partial_log_plan,
    sinkhorn_log_plan,
    unbalanced_log_plan,
)
from flowkit.exceptions import InvalidParameterError

F64 = torch.float64


def _batches(n: int, m: int, seed: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(seed)
    x0, x1 = torch.randn(n, 2, generator=generator, dtype=F64), torch.randn(m, 2, generator=generator, dtype=F64) + 0.5
    return x0, x1, torch.cdist(x0, x1).square()


def _unbalanced_by_lbfgs(cost: np.ndarray, eps: float, tau: float) -> np.ndarray:
    """Minimise <P,C> + eps KL(P|ab) + tau KL(P1|a) + tau KL(P^T1|b) over log P with L-BFGS."""
    n, m = cost.shape
    a, b = np.full(n, 1 / n), np.full(m, 1 / m)
    prior = np.outer(a, b)

    def kl_and_grad(p, q):
        return np.sum(p * np.log(p / q) - p + q), np.log(p / q)

    def objective(theta):
        p = np.exp(theta.reshape(n, m))
        rows, columns = p.sum(1), p.sum(0)
        k, dk = kl_and_grad(p, prior)
        kr, dr = kl_and_grad(rows, a)
        kc, dc = kl_and_grad(columns, b)
        value = np.sum(p * cost) + eps * k + tau * (kr + kc)
        grad_p = cost + eps * dk + tau * (dr[:, None] + dc[None, :])
        return value, (grad_p * p).reshape(-1)

    start = np.log(prior).reshape(-1)
    result = minimize(
        objective, start, jac=True, method="L-BFGS-B", options={"gtol": 1e-13, "ftol": 1e-15, "maxiter": 10_000}
    )
    return np.exp(result.x.reshape(n, m))


@pytest.mark.parametrize("tau", [0.1, 1.0, 5.0])
def test_unbalanced_plan_is_the_minimiser_of_its_objective(tau):
    _, _, cost = _batches(3, 4, seed=1)
    eps = 0.5
    plan = unbalanced_log_plan(cost, eps, tau, iterations=2000).exp()
    reference = _unbalanced_by_lbfgs(cost.numpy(), eps, tau)
    np.testing.assert_allclose(plan.numpy(), reference, rtol=1e-4, atol=1e-7)
    assert plan.sum() < 1.0  # the relaxation transports less than the full mass here


def test_unbalanced_tends_to_balanced_sinkhorn_as_tau_grows():
    _, _, cost = _batches(5, 5, seed=2)
    eps = 0.3
    balanced = sinkhorn_log_plan(cost, eps, max_iter=5000, tol=1e-12).exp()
    torch.testing.assert_close(
        unbalanced_log_plan(cost, eps, math.inf, iterations=1000).exp(), balanced, atol=1e-9, rtol=0
    )
    gaps = [
        (unbalanced_log_plan(cost, eps, tau, iterations=1000).exp() - balanced).abs().max().item()
        for tau in (1, 10, 100, 1e4)
    ]
    assert all(a > b for a, b in zip(gaps, gaps[1:])) and gaps[-1] < 1e-3


def test_unbalanced_drops_an_outlier_source_that_balanced_ot_must_transport():
    x0, x1, _ = _batches(8, 8, seed=3)
    x0[0] = torch.tensor([25.0, 25.0], dtype=F64)
    balanced = SinkhornCoupling(reg=0.05, tol=1e-10, max_iter=5000).plan(x0, x1)
    unbalanced = UnbalancedOTCoupling(reg=0.05, tau=0.05, iterations=500).plan(x0, x1)
    torch.testing.assert_close(balanced[0].sum(), torch.tensor(1 / 8, dtype=F64), atol=1e-8, rtol=0)
    assert unbalanced[0].sum() < 0.01 * unbalanced[1:].sum(1).mean()


def _partial_lp(cost: np.ndarray, mass: float) -> float:
    """The exact partial-OT cost: min <P, C> s.t. P1 <= a, P^T1 <= b, sum P = mass, P >= 0."""
    n, m = cost.shape
    rows = np.kron(np.eye(n), np.ones((1, m)))
    columns = np.kron(np.ones((1, n)), np.eye(m))
    result = linprog(
        cost.reshape(-1),
        A_ub=np.vstack([rows, columns]),
        b_ub=np.concatenate([np.full(n, 1 / n), np.full(m, 1 / m)]),
        A_eq=np.ones((1, n * m)),
        b_eq=[mass],
        bounds=(0, None),
        method="highs",
    )
    assert result.success
    return float(result.fun)


@pytest.mark.parametrize("mass", [0.3, 0.6, 0.9])
def test_partial_plan_meets_its_constraints_and_approaches_the_exact_lp(mass):
    _, _, cost = _batches(5, 6, seed=4)
    exact = _partial_lp(cost.numpy(), mass)
    gaps = []
    for eps in (0.1, 0.03, 0.01):
        plan = partial_log_plan(cost, eps, mass, iterations=3000).exp()
        torch.testing.assert_close(plan.sum(), torch.tensor(mass, dtype=F64), atol=1e-10, rtol=0)
        assert (plan.sum(1) <= 1 / 5 + 1e-6).all() and (plan.sum(0) <= 1 / 6 + 1e-6).all()
        gaps.append((plan * cost).sum().item() - exact)
    assert all(gap > -1e-6 for gap in gaps)
    assert all(a > b for a, b in zip(gaps, gaps[1:]))
    assert gaps[-1] < 0.02 * exact


def test_partial_with_full_mass_is_the_balanced_plan():
    _, _, cost = _batches(6, 6, seed=5)
    eps = 0.2
    balanced = sinkhorn_log_plan(cost, eps, max_iter=5000, tol=1e-12).exp()
    torch.testing.assert_close(partial_log_plan(cost, eps, 1.0, iterations=3000).exp(), balanced, atol=1e-8, rtol=0)


def test_partial_leaves_the_farthest_points_untransported():
    x0, x1, _ = _batches(8, 8, seed=6)
    x1[3] = torch.tensor([-30.0, 30.0], dtype=F64)
    plan = PartialOTCoupling(mass=7 / 8, reg=0.01, iterations=2000).plan(x0, x1)
    assert plan[:, 3].sum() < 1e-3 / 8 and (plan.sum(0)[torch.arange(8) != 3] > 0.95 / 8).all()


def test_sinkhorn_absolute_epsilon_is_not_relative_to_the_cost():
    x0, x1, cost = _batches(6, 6, seed=7)
    eps = 2 * 0.3**2  # Schrodinger-bridge CFM: eps = 2 sigma^2 with sigma = 0.3
    coupling = SinkhornCoupling(epsilon=eps, tol=1e-9, max_iter=2000)
    torch.testing.assert_close(coupling.plan(x0, x1), sinkhorn_log_plan(cost, eps, max_iter=2000, tol=1e-9).exp())
    relative = SinkhornCoupling(reg=eps / cost.mean().item(), tol=1e-9, max_iter=2000)
    torch.testing.assert_close(coupling.plan(x0, x1), relative.plan(x0, x1))
    # absolute: scaling the data (cost x 9) sharpens the plan; relative: unchanged
    assert not torch.allclose(coupling.plan(3 * x0, 3 * x1), coupling.plan(x0, x1), atol=1e-3)
    torch.testing.assert_close(relative.plan(3 * x0, 3 * x1), relative.plan(x0, x1))
    with pytest.raises(InvalidParameterError, match="epsilon"):
        registry.create("coupling", "sinkhorn", epsilon=0.0)


@pytest.mark.parametrize("name, params", [("unbalanced-ot", {"tau": 0.5}), ("partial-ot", {"mass": 0.7})])
def test_registered_relaxed_couplings_pair_without_reading_values_on_the_host(name, params):
    from torch._subclasses.fake_tensor import FakeTensorMode

    coupling = registry.create("coupling", name, iterations=20, **params)
    x0, x1 = torch.randn(16, 1, 3, 3), torch.randn(16, 1, 3, 3)
    a, b = coupling.pair(x0, x1, generator=torch.Generator().manual_seed(0))
    again, _ = coupling.pair(x0, x1, generator=torch.Generator().manual_seed(0))
    assert b is x1 and a.shape == x0.shape and torch.equal(a, again)
    assert all(any(torch.equal(row, source) for source in x0) for row in a)
    # a fake tensor has no values: any host read (float(), .item(), bool()) would raise here
    with FakeTensorMode() as mode:
        plan = coupling.plan(mode.from_tensor(x0), mode.from_tensor(x1))
    assert plan.shape == (16, 16)


@pytest.mark.parametrize(
    "name, params, match",
    [
        ("unbalanced-ot", {"tau": 0.0}, "tau"),
        ("unbalanced-ot", {"reg": -1.0}, "reg"),
        ("partial-ot", {"mass": 1.5}, "mass"),
        ("partial-ot", {"iterations": 0}, "iterations"),
        ("partial-ot", {"epsilon": float("nan")}, "epsilon"),
    ],
)
def test_invalid_parameters_are_named(name, params, match):
    with pytest.raises(InvalidParameterError, match=match):
        registry.create("coupling", name, **params)
