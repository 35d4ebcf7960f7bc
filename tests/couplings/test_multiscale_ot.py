"""The multiscale exact-assignment solver against the dense network simplex and SciPy.

``DENSE_BELOW`` is lowered so that small problems run the whole multiscale path (coarse duals,
candidates, sparse solves, certificate and repairs) in milliseconds; ``BLOCK_ROWS`` is lowered
so that the dense passes merge many blocks.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from flowkit import registry
from flowkit.couplings import multiscale_ot
from flowkit.couplings.multiscale_ot import dense_assignment, multiscale_assignment


def _total(cost: np.ndarray, column_of_row: np.ndarray) -> float:
    return float(cost[np.arange(len(column_of_row)), column_of_row].sum())


def _optimum(cost: np.ndarray) -> float:
    rows, cols = linear_sum_assignment(cost)
    return float(cost[rows, cols].sum())


def _squared_distances(x0: np.ndarray, x1: np.ndarray) -> np.ndarray:
    return ((x0[:, None, :] - x1[None, :, :]) ** 2).sum(-1)


def _assert_optimal_permutation(cost: np.ndarray, column_of_row: np.ndarray) -> None:
    assert sorted(column_of_row.tolist()) == list(range(cost.shape[0]))
    assert _total(cost, column_of_row) == pytest.approx(_optimum(cost), rel=1e-12, abs=1e-12)


@given(
    n=st.integers(1, 90),
    dim=st.sampled_from([1, 2, 5, 64]),
    dense_below=st.sampled_from([2, 5, 16]),
    block_rows=st.sampled_from([1, 7, 256]),
    seed=st.integers(0, 10_000),
)
@settings(max_examples=60, deadline=None)
def test_multiscale_finds_an_optimal_permutation(n, dim, dense_below, block_rows, seed):
    rng = np.random.default_rng(seed)
    cost = _squared_distances(rng.standard_normal((n, dim)), rng.uniform(-4, 4, (n, dim)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multiscale_ot, "DENSE_BELOW", dense_below)
        patch.setattr(multiscale_ot, "BLOCK_ROWS", block_rows)
        _assert_optimal_permutation(cost, multiscale_assignment(cost))


def test_repairs_run_until_the_certificate_holds(monkeypatch):
    """With one candidate per row the first sparse solve misses optimal arcs; repairs must add them."""
    monkeypatch.setattr(multiscale_ot, "DENSE_BELOW", 8)
    monkeypatch.setattr(multiscale_ot, "CANDIDATES_PER_ROW", 1)
    monkeypatch.setattr(multiscale_ot, "ARCS_PER_VIOLATION", 1)
    sparse_solves = []
    solve_sparse = multiscale_ot._sparse_assignment

    def counted(cost, arcs):
        sparse_solves.append((cost.shape[0], len(arcs)))
        return solve_sparse(cost, arcs)

    monkeypatch.setattr(multiscale_ot, "_sparse_assignment", counted)
    dense_solves = []
    solve_dense = multiscale_ot.dense_assignment
    monkeypatch.setattr(
        multiscale_ot, "dense_assignment", lambda cost: dense_solves.append(len(cost)) or solve_dense(cost)
    )
    x1 = registry.create("dataset", "checkerboard", n_train=200, n_test=1, seed=0).split("train").x.double().numpy()
    cost = _squared_distances(np.random.default_rng(0).standard_normal(x1.shape), x1)
    column_of_row = multiscale_assignment(cost)
    _assert_optimal_permutation(cost, column_of_row)
    top_level = [arcs for n, arcs in sparse_solves if n == 200]
    assert len(top_level) > 1 and top_level == sorted(top_level)  # repaired: arcs only added
    assert dense_solves == [7]  # only the base level; the certificate, not a fallback, ended the repairs


def test_a_certificate_that_cannot_hold_falls_back_to_the_dense_simplex(monkeypatch):
    """A negative tolerance flags arcs the simplex already priced: no arcs can be added, so the dense simplex decides."""
    monkeypatch.setattr(multiscale_ot, "DENSE_BELOW", 4)
    monkeypatch.setattr(multiscale_ot, "DUAL_TOLERANCE", -1.0)
    dense_solves = []
    solve_dense = multiscale_ot.dense_assignment
    monkeypatch.setattr(
        multiscale_ot, "dense_assignment", lambda cost: dense_solves.append(len(cost)) or solve_dense(cost)
    )
    rng = np.random.default_rng(3)
    cost = _squared_distances(rng.standard_normal((20, 2)), rng.standard_normal((20, 2)))
    _assert_optimal_permutation(cost, multiscale_assignment(cost))
    assert 20 in dense_solves


def test_degenerate_data_hand_over_to_the_dense_simplex(monkeypatch):
    """Ten distinct points, each repeated: the sparse rounds stall, so the level and those above go dense."""
    monkeypatch.setattr(multiscale_ot, "DENSE_BELOW", 40)
    monkeypatch.setattr(multiscale_ot, "MAX_ARCS_PER_ROW", 24)
    sparse_solves, dense_solves = [], []
    solve_sparse, solve_dense = multiscale_ot._sparse_assignment, multiscale_ot.dense_assignment
    monkeypatch.setattr(
        multiscale_ot,
        "_sparse_assignment",
        lambda cost, arcs: sparse_solves.append(len(cost)) or solve_sparse(cost, arcs),
    )
    monkeypatch.setattr(
        multiscale_ot, "dense_assignment", lambda cost: dense_solves.append(len(cost)) or solve_dense(cost)
    )
    rng = np.random.default_rng(4)
    centres0, centres1 = rng.standard_normal((10, 2)), rng.standard_normal((10, 2))
    cost = _squared_distances(centres0[rng.integers(0, 10, 320)], centres1[rng.integers(0, 10, 320)])
    _assert_optimal_permutation(cost, multiscale_assignment(cost))
    assert 320 in dense_solves  # the top level went dense
    for n in set(sparse_solves):
        assert sparse_solves.count(n) <= multiscale_ot.MAX_ROUNDS


def test_ties_and_repeated_points():
    """Repeated points make the LP degenerate: any optimal permutation will do."""
    x0 = np.repeat(np.arange(6.0), 7)[:, None]
    x1 = np.tile(np.arange(6.0), 7)[:, None] + 0.5
    cost = _squared_distances(x0, x1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(multiscale_ot, "DENSE_BELOW", 4)
        _assert_optimal_permutation(cost, multiscale_assignment(cost))


@pytest.mark.parametrize("data", ["checkerboard", "digits"])
def test_equals_the_dense_simplex_at_batch_2048(data):
    """At a real batch size (default thresholds) the total cost equals the dense simplex's optimum."""
    generator = torch.Generator().manual_seed(5)
    if data == "checkerboard":
        x1 = registry.create("dataset", "checkerboard", n_train=2048, n_test=1, seed=5).split("train").x.double()
    else:
        images = registry.create("dataset", "digits").split("train").x
        x1 = images[torch.randint(0, len(images), (2048,), generator=generator)].reshape(2048, -1).double() / 16
        x1 = x1 + torch.rand(x1.shape, generator=generator, dtype=torch.float64) / 16
    x0 = torch.randn(x1.shape, generator=generator, dtype=torch.float64)
    cost = torch.cdist(x0, x1).square().numpy()
    dense, _ = dense_assignment(cost)
    multiscale = multiscale_assignment(cost)
    assert sorted(multiscale.tolist()) == list(range(2048))
    assert _total(cost, multiscale) == pytest.approx(_total(cost, dense), rel=1e-12)
