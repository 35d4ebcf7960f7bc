"""Couplings: exact OT against brute force and scipy, its host prefetcher, Sinkhorn's marginals and its limit, row order of x1."""

from __future__ import annotations

import itertools

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from flowkit import Coupling, registry
from flowkit.couplings import (
    EXACT_OT_SOLVERS,
    ExactOTCoupling,
    HostAssignmentPrefetcher,
    IndependentCoupling,
    SinkhornCoupling,
    multiscale_ot,
    sample_sources,
)
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError, SolverError

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


@pytest.mark.parametrize("solver", EXACT_OT_SOLVERS)
@given(
    n=st.integers(1, 7),
    dims=st.lists(st.integers(1, 3), min_size=1, max_size=2),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=40, deadline=None)
def test_exact_ot_is_the_best_permutation(solver, n, dims, seed):
    generator = torch.Generator().manual_seed(seed)
    x0 = torch.randn(n, *dims, dtype=F64, generator=generator)
    x1 = torch.randn(n, *dims, dtype=F64, generator=generator)
    coupling = ExactOTCoupling(solver=solver)
    p0, p1 = coupling.pair(x0, x1)
    assert p1 is x1  # x1 keeps its rows (and labels stay aligned)
    perm = coupling.assignment(x0, x1)
    assert perm.dtype == torch.long and sorted(perm.tolist()) == list(range(n))  # a permutation of x0's rows
    torch.testing.assert_close(p0, x0[perm])
    assert _cost(p0, x1) == pytest.approx(_brute_force_cost(x0, x1), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("solver", EXACT_OT_SOLVERS)
def test_exact_ot_with_ties_is_still_a_best_permutation(solver):
    """Repeated points make many optimal permutations (a degenerate LP): any optimal one will do."""
    x0 = torch.tensor([[0.0], [0.0], [1.0], [1.0], [1.0], [3.0], [3.0]], dtype=F64)
    x1 = torch.tensor([[1.0], [0.0], [1.0], [3.0], [0.0], [1.0], [3.0]], dtype=F64)
    perm = ExactOTCoupling(solver=solver).assignment(x0, x1)
    assert sorted(perm.tolist()) == list(range(7))
    assert _cost(x0[perm], x1) == _brute_force_cost(x0, x1) == 0.0


def test_network_simplex_agrees_with_scipy_at_n_200():
    """An independent exact solver (scipy's shortest augmenting path) gives the same optimal cost."""
    generator = torch.Generator().manual_seed(11)
    for dim in (2, 64):
        x0 = torch.randn(200, dim, generator=generator, dtype=F64)
        x1 = torch.rand(200, dim, generator=generator, dtype=F64) * 8 - 4
        ours = ExactOTCoupling().assignment(x0, x1)
        rows, cols = linear_sum_assignment(torch.cdist(x0, x1).square().numpy())
        assert sorted(ours.tolist()) == list(range(200))
        assert _cost(x0[ours], x1) == pytest.approx(_cost(x0[rows], x1[cols]), rel=1e-12)


def test_exact_ot_in_float32_and_on_images():
    """float32 batches (costs solved in float64) and image-shaped events pair by the flattened distance."""
    generator = torch.Generator().manual_seed(3)
    x0, x1 = torch.randn(6, 1, 2, 2, generator=generator), torch.randn(6, 1, 2, 2, generator=generator)
    p0, _ = ExactOTCoupling().pair(x0, x1)
    assert p0.dtype == torch.float32 and p0.shape == x0.shape
    assert _cost(p0.double(), x1.double()) == pytest.approx(_brute_force_cost(x0.double(), x1.double()), rel=1e-6)


def test_exact_ot_empty_batch():
    perm = ExactOTCoupling().assignment(torch.empty(0, 2), torch.empty(0, 2))
    assert perm.shape == (0,) and perm.dtype == torch.long


def test_host_flags():
    assert ExactOTCoupling.runs_on_host is True
    assert IndependentCoupling.runs_on_host is False and SinkhornCoupling.runs_on_host is False


def test_prefetcher_gives_the_sync_permutations_in_order():
    generator = torch.Generator().manual_seed(8)
    coupling = ExactOTCoupling()
    batches = [(torch.randn(64, 3, generator=generator), torch.randn(64, 3, generator=generator)) for _ in range(4)]
    with HostAssignmentPrefetcher(coupling) as prefetcher:
        futures = [prefetcher.submit(x0, x1) for x0, x1 in batches]
        results = [future.result(timeout=60) for future in futures]
    for (x0, x1), perm in zip(batches, results):
        assert isinstance(perm, torch.Tensor) and perm.device.type == "cpu"
        assert torch.equal(perm, coupling.assignment(x0, x1))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_prefetcher_on_cuda_matches_the_host_solve():
    """CUDA path: cost on the device, pinned non-blocking copy, event wait on the worker."""
    generator = torch.Generator().manual_seed(9)
    x0, x1 = torch.randn(256, 2, generator=generator, dtype=F64), torch.randn(256, 2, generator=generator, dtype=F64)
    coupling = ExactOTCoupling()
    with HostAssignmentPrefetcher(coupling) as prefetcher:
        perm = prefetcher.submit(x0.cuda(), x1.cuda()).result(timeout=60)
    assert perm.device.type == "cpu" and perm.is_pinned()
    assert _cost(x0[perm], x1) == pytest.approx(_cost(x0[coupling.assignment(x0, x1)], x1), rel=1e-12)
    assert coupling.assignment(x0.cuda(), x1.cuda()).device.type == "cuda"


def test_prefetcher_errors():
    with pytest.raises(InvalidParameterError, match="runs_on_host"):
        HostAssignmentPrefetcher(SinkhornCoupling())
    prefetcher = HostAssignmentPrefetcher(ExactOTCoupling())
    with pytest.raises(ShapeError, match="x1"):
        prefetcher.submit(torch.randn(4, 2), torch.randn(5, 2))
    bad = torch.randn(4, 2)
    bad[1, 0] = float("nan")
    future = prefetcher.submit(bad, torch.randn(4, 2))
    with pytest.raises(NonFiniteError, match="NaN"):
        future.result(timeout=60)
    prefetcher.close()
    with pytest.raises(SolverError, match="closed"):
        prefetcher.submit(torch.randn(4, 2), torch.randn(4, 2))


@pytest.mark.parametrize("value", [float("inf"), float("nan")])
def test_exact_ot_rejects_non_finite_input(value):
    x0 = torch.randn(5, 2)
    x0[2, 1] = value
    with pytest.raises(NonFiniteError, match="x0 or x1"):
        ExactOTCoupling().pair(x0, torch.randn(5, 2))


@pytest.mark.filterwarnings("ignore:numItermax reached:UserWarning")  # POT warns too; flowkit raises
@pytest.mark.parametrize("solver", ["multiscale", "network_simplex"])
def test_network_simplex_stopped_short_of_the_optimum_is_an_error(monkeypatch, solver):
    monkeypatch.setattr(multiscale_ot, "_MAX_ITER", 3)
    generator = torch.Generator().manual_seed(1)
    with pytest.raises(SolverError, match="did not reach the optimum"):
        ExactOTCoupling(solver=solver).assignment(
            torch.randn(40, 2, generator=generator), torch.randn(40, 2, generator=generator)
        )


def test_exact_ot_solve_needs_a_square_matrix():
    with pytest.raises(ShapeError, match="square"):
        ExactOTCoupling().solve(torch.rand(3, 4))


def test_exact_ot_unknown_solver():
    with pytest.raises(InvalidParameterError, match="network_simplex"):
        registry.create("coupling", "ot", solver="hungarian")


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


def test_sinkhorn_with_fixed_iterations_reaches_the_converged_plan_without_host_reads():
    from torch._subclasses.fake_tensor import FakeTensorMode

    from flowkit.couplings.cost import squared_distances
    from flowkit.couplings.sinkhorn import sinkhorn_log_plan

    torch.manual_seed(0)
    x0, x1 = torch.randn(48, 3), 2 * torch.randn(48, 3) + 1
    fixed = registry.create("coupling", "sinkhorn", reg=0.1, iterations=300)
    cost = squared_distances(x0, x1)
    converged = sinkhorn_log_plan(cost, 0.1 * float(cost.mean()), max_iter=5000, tol=1e-10).exp()
    torch.testing.assert_close(fixed.plan(x0, x1), converged, rtol=0, atol=1e-6)
    assert fixed.capturable and not registry.create("coupling", "sinkhorn").capturable
    with FakeTensorMode() as mode:  # a fake tensor has no values: any host read would raise
        plan = fixed.plan(mode.from_tensor(x0), mode.from_tensor(x1))
    assert plan.shape == (48, 48)
    with pytest.raises(InvalidParameterError, match="iterations must be None or an integer >= 1"):
        registry.create("coupling", "sinkhorn", iterations=0)
