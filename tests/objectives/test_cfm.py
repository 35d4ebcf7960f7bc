"""The CFM objective: the loss it computes, its randomness, time distributions, shapes and errors."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from flowkit import Objective, registry, shape_checks
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError
from flowkit.objectives import ConditionalFlowMatching

F64 = torch.float64


def test_registered_objectives():
    assert {"cfm", "fm"} <= set(registry.names("objective"))
    objective = registry.create("objective", "cfm")
    assert isinstance(objective, Objective)
    assert objective.path == registry.create("path", "ot")  # the default path


def test_loss_is_the_paper_formula_for_ot(tiny_field):
    """Draw order x0, (coupling), t from the generator; loss = mean (v(t, x_t) - (x1 - (1 - sigma) x0))^2."""
    model = tiny_field()
    x1 = torch.randn(32, 2, dtype=F64)
    objective = registry.create("objective", "cfm", path=registry.create("path", "ot", sigma_min=0.01))
    loss = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(7))
    generator = torch.Generator().manual_seed(7)
    x0 = torch.randn(32, 2, dtype=F64, generator=generator)
    t = torch.rand(32, dtype=F64, generator=generator)
    x_t = t[:, None] * x1 + (1 - 0.99 * t[:, None]) * x0
    expected = (model(t, x_t) - (x1 - 0.99 * x0)).square().mean()
    torch.testing.assert_close(loss, expected, rtol=1e-12, atol=1e-12)
    assert loss.dim() == 0 and loss.requires_grad


def test_weighting(tiny_field):
    model = tiny_field()
    x1 = torch.randn(16, 2, dtype=F64)
    weighting = lambda t: 1 + 3 * t  # noqa: E731
    weighted = registry.create("objective", "cfm", weighting=weighting)
    loss = weighted.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(1))
    t, x_t, _ = model.calls[-1]
    sample = weighted.draw(x1, torch.Generator().manual_seed(1))
    per_sample = (model(t, x_t) - sample.u_t).square().mean(dim=1)
    torch.testing.assert_close(loss, (weighting(t) * per_sample).mean())


def test_images_and_labels_keep_alignment_under_ot_coupling(tiny_field):
    model = tiny_field(event_shape=(1, 4, 4), num_classes=3)
    x1 = torch.randn(12, 1, 4, 4, dtype=F64)
    y = torch.arange(12) % 3
    for coupling in ("independent", "ot", "sinkhorn"):
        objective = registry.create("objective", "cfm", coupling=registry.create("coupling", coupling))
        loss = objective.loss(model=model, x1=x1, y=y, generator=torch.Generator().manual_seed(0))
        assert loss.shape == () and torch.isfinite(loss)
        t, x_t, seen_y = model.calls[-1]
        assert x_t.shape == x1.shape and torch.equal(seen_y, y)
        # x1 kept its rows: x_t - a x1 is the noise part s x0, which has the prior's row set
        sample = objective.draw(x1, torch.Generator().manual_seed(0))
        assert torch.equal(sample.x1, x1)


def test_reproducible_with_generator_and_follows_dtype(tiny_field):
    objective = registry.create("objective", "cfm", path=registry.create("path", "cosine"))
    x1 = torch.randn(8, 2, dtype=F64)
    model = tiny_field()
    a = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(3))
    b = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(3))
    c = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(4))
    assert a.item() == b.item() != c.item()
    assert a.dtype == F64
    t, x_t, _ = model.calls[-1]
    assert t.dtype == F64 and x_t.dtype == F64


def test_time_range_of_the_path_is_respected(tiny_field):
    path = registry.create("path", "vp", t_max=0.9)
    objective = registry.create("objective", "cfm", path=path, time_distribution="logit-normal", logit_normal_mean=3.0)
    model = tiny_field()
    objective.loss(model=model, x1=torch.randn(4096, 2, dtype=F64), generator=torch.Generator().manual_seed(0))
    t = model.calls[-1][0]
    assert 0.0 <= t.min().item() and t.max().item() <= 0.9
    assert t.max().item() > 0.85  # the upper end is reached: t = 0.9 sigmoid(z), z ~ N(3, 1)


def test_logit_normal_times():
    objective = registry.create(
        "objective", "cfm", time_distribution="logit-normal", logit_normal_mean=-0.5, logit_normal_std=0.7
    )
    n = 20_000
    t = objective.time_distribution.sample(n, dtype=F64, generator=torch.Generator().manual_seed(0))
    logit = torch.log(t / (1 - t))
    assert abs(logit.mean().item() + 0.5) < 5 * 0.7 / math.sqrt(n)
    assert abs(logit.std().item() - 0.7) < 5 * 0.7 / math.sqrt(2 * n)
    uniform = registry.create("objective", "cfm").time_distribution.sample(n, dtype=F64)
    assert abs(uniform.mean().item() - 0.5) < 5 / math.sqrt(12 * n)


def test_any_probability_path_works(tiny_field, midpoint_path):
    objective = ConditionalFlowMatching(path=midpoint_path)
    loss = objective.loss(model=tiny_field(), x1=torch.randn(8, 2, dtype=F64))
    assert torch.isfinite(loss)


def test_bad_input(tiny_field):
    objective = registry.create("objective", "cfm")
    model = tiny_field()
    x1 = torch.randn(8, 2, dtype=F64)
    with pytest.raises(ShapeError, match="model returned shape"):
        objective.loss(model=lambda t, x: x[:, :1], x1=x1)
    bad = x1.clone()
    bad[0, 0] = math.nan
    with pytest.raises(NonFiniteError, match="x1"):
        objective.loss(model=model, x1=bad)
    with pytest.raises(ShapeError, match="y"):
        objective.loss(model=model, x1=x1, y=torch.zeros(7, dtype=torch.long))
    with pytest.raises(ShapeError, match="x1"):
        objective.loss(model=model, x1=torch.randn(8))
    weighted = registry.create("objective", "cfm", weighting=lambda t: t[:1])
    with pytest.raises(ShapeError, match="weighting"):
        weighted.loss(model=model, x1=x1)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"path": "ot"}, "path must be"),
        ({"coupling": "ot"}, "coupling must be"),
        ({"time_distribution": "beta"}, "uniform"),
        ({"time_distribution": "logit-normal", "logit_normal_std": 0.0}, "logit_normal_std"),
        ({"weighting": 3.0}, "weighting"),
        ({"reference": torch.zeros(3, 2)}, "reference"),
    ],
)
def test_invalid_parameters(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        registry.create("objective", "cfm", **params)


def test_checks_off_give_the_same_loss(tiny_field):
    objective = registry.create("objective", "cfm", path=registry.create("path", "vp"))
    model = tiny_field()
    x1 = torch.randn(16, 2, dtype=F64)
    checked_loss = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(9))
    with shape_checks(False):
        fast_loss = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(9))
    assert checked_loss.item() == fast_loss.item()


PATH_NAMES = ["ot", "vp", "ve", "cosine"]
COUPLING_NAMES = ["independent", "ot", "sinkhorn"]


@given(
    path_name=st.sampled_from(PATH_NAMES),
    coupling_name=st.sampled_from(COUPLING_NAMES),
    objective_name=st.sampled_from(["cfm", "fm"]),
    batch=st.integers(1, 6),
    dims=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    seed=st.integers(0, 1000),
)
def test_any_shape_batch_path_and_coupling(path_name, coupling_name, objective_name, batch, dims, seed):
    generator = torch.Generator().manual_seed(seed)
    x1 = torch.randn(batch, *dims, dtype=F64, generator=generator)
    path = registry.create("path", path_name)
    params = {"reference": x1} if objective_name == "fm" else {}
    objective = registry.create(
        "objective", objective_name, path=path, coupling=registry.create("coupling", coupling_name), **params
    )
    seen = {}

    def model(t, x):
        seen.update(t=t, x=x)
        return torch.zeros_like(x)

    loss = objective.loss(model=model, x1=x1, generator=generator)
    assert loss.shape == () and bool(torch.isfinite(loss))
    assert seen["x"].shape == x1.shape and seen["t"].shape == (batch,)
    lo, hi = path.time_range
    assert bool(((seen["t"] >= lo) & (seen["t"] <= hi)).all())
