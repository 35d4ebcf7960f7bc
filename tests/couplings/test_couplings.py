"""Couplings: exact OT against brute force, Sinkhorn's marginals and its limit, row order of x1."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from flowkit import Coupling, registry
from flowkit.couplings import ExactOTCoupling, IndependentCoupling, SinkhornCoupling, sample_sources
from flowkit.exceptions import InvalidParameterError, ShapeError

F64 = torch.float64


def _cost(x0, x1):
    return (x0 - x1).reshape(x0.shape[0], -1).square().sum().item()


def _brute_force_cost(x0, x1):
    n = x0.shape[0]
    return min(_cost(x0[list(p)], x1) for p in itertools.permutations(range(n)))


def test_registered_couplings():
    assert {"independent", "ot", "sinkhorn"} <= set(registry.names("coupling"))
    for name in ("independent", "ot", "sinkhorn"):
        assert isinstance(registry.create("coupling", name), Coupling)


def test_independent_is_identity():
    x0, x1 = torch.randn(5, 2), torch.randn(5, 2)
    p0, p1 = IndependentCoupling().pair(x0, x1)
    assert p0 is x0 and p1 is x1


@given(
    n=st.integers(1, 6),
    dims=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    seed=st.integers(0, 10_000),
)
def test_exact_ot_is_the_best_permutation(n, dims, seed):
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, *dims, dtype=F64, generator=generator)
    x1 = torch.randn(n, *dims, dtype=F64, generator=generator)
    p0, p1 = ExactOTCoupling().pair(x0, x1)
    assert p1 is x1  # x1 keeps its rows (and labels stay aligned)
    perm = ExactOTCoupling().assignment(x0, x1)
    assert sorted(perm.tolist()) == list(range(n))  # a permutation of x0's rows
    torch.testing.assert_close(p0, x0[perm])
    assert _cost(p0, x1) == pytest.approx(_brute_force_cost(x0, x1), rel=1e-12, abs=1e-12)


def test_sinkhorn_plan_has_uniform_marginals():
    generator = torch.Generator().manual_seed(0)
    x0, x1 = torch.randn(16, 3, generator=generator, dtype=F64), torch.randn(16, 3, generator=generator, dtype=F64)
    plan = SinkhornCoupling(reg=0.1, tol=1e-10, max_iter=5000).plan(x0, x1)
    assert plan.dtype == F64 and plan.shape == (16, 16)
    torch.testing.assert_close(plan.sum(dim=0), torch.full((16,), 1 / 16, dtype=F64), rtol=0, atol=1e-9)
    torch.testing.assert_close(plan.sum(dim=1), torch.full((16,), 1 / 16, dtype=F64), rtol=0, atol=1e-9)


def test_sinkhorn_approaches_exact_ot_as_reg_shrinks():
    generator = torch.Generator().manual_seed(4)
    n = 7
    x0, x1 = torch.randn(n, 2, generator=generator, dtype=F64), torch.randn(n, 2, generator=generator, dtype=F64)
    exact = _brute_force_cost(x0, x1) / n  # the OT cost with uniform weights 1/n
    cost = torch.cdist(x0, x1).square()
    gaps = []
    for reg in (1.0, 0.1, 0.01, 0.001):
        plan = SinkhornCoupling(reg=reg, max_iter=5000, tol=1e-6).plan(x0, x1)
        gaps.append((plan * cost).sum().item() - exact)
    assert all(gap >= -1e-6 * exact for gap in gaps)  # no plan beats the exact optimum (up to tol)
    assert all(a > b for a, b in zip(gaps, gaps[1:]))  # the gap shrinks with reg
    assert gaps[-1] < 1e-4 * exact
    # at small reg the sampled pairs are the exact OT permutation
    p0, p1 = SinkhornCoupling(reg=0.001, max_iter=5000, tol=1e-6).pair(
        x0, x1, generator=torch.Generator().manual_seed(0)
    )
    torch.testing.assert_close(p0, ExactOTCoupling().pair(x0, x1)[0])
    assert p1 is x1


def test_sinkhorn_pairs_follow_the_plan():
    """Column j's x0 index is drawn from P[:, j] / sum_i P[:, j]: frequencies within 5 standard errors."""
    generator = torch.Generator().manual_seed(2)
    x0, x1 = torch.randn(4, 2, generator=generator, dtype=F64), torch.randn(4, 2, generator=generator, dtype=F64)
    log_plan = SinkhornCoupling(reg=0.5, tol=1e-10).plan(x0, x1).log()
    conditional = torch.softmax(log_plan.T, dim=1)  # rows: x1 index j; columns: probability of x0 index i
    draws = 4000  # one call on the plan with its columns repeated: column 4k + j is a copy of column j
    index = sample_sources(log_plan.repeat(1, draws), torch.Generator().manual_seed(5)).reshape(draws, 4)
    frequency = torch.nn.functional.one_hot(index, 4).to(F64).mean(dim=0)  # [j, i]
    standard_error = (conditional * (1 - conditional) / draws).sqrt()
    assert ((frequency - conditional).abs() <= 5 * standard_error + 1e-12).all()
    assert int((conditional > 0.1).sum()) >= 10  # far from a permutation: the check has power


def test_sinkhorn_is_reproducible_with_a_generator_and_works_on_images():
    x0, x1 = torch.randn(8, 1, 4, 4), torch.randn(8, 1, 4, 4)
    coupling = SinkhornCoupling()
    a, _ = coupling.pair(x0, x1, generator=torch.Generator().manual_seed(3))
    b, _ = coupling.pair(x0, x1, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and a.shape == x0.shape and a.dtype == x0.dtype


def test_sinkhorn_scale_free_reg():
    """reg is relative to the mean cost: scaling both batches leaves the plan unchanged."""
    generator = torch.Generator().manual_seed(6)
    x0, x1 = torch.randn(6, 2, generator=generator, dtype=F64), torch.randn(6, 2, generator=generator, dtype=F64)
    coupling = SinkhornCoupling(reg=0.05, tol=1e-9, max_iter=2000)
    torch.testing.assert_close(coupling.plan(x0, x1), coupling.plan(100 * x0, 100 * x1))


@pytest.mark.parametrize("coupling", [IndependentCoupling(), ExactOTCoupling(), SinkhornCoupling()])
def test_mismatched_batches(coupling):
    with pytest.raises(ShapeError, match="x1"):
        coupling.pair(torch.randn(4, 2), torch.randn(5, 2))
    with pytest.raises(ShapeError, match="x1"):
        coupling.pair(torch.randn(4, 2), torch.randn(4, 3))


@pytest.mark.parametrize(
    "params, match",
    [({"reg": 0.0}, "reg"), ({"reg": float("nan")}, "reg"), ({"max_iter": 0}, "max_iter"), ({"tol": 0}, "tol")],
)
def test_sinkhorn_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        registry.create("coupling", "sinkhorn", **params)
