"""Property-based tests over event shapes, batch sizes, times and paths."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st
from path_cases import path_factories

F64 = torch.float64
PATHS = {case: build() for case, build in path_factories().items()}


@st.composite
def cases(draw):
    path = PATHS[draw(st.sampled_from(sorted(PATHS)))]
    batch = draw(st.integers(1, 5))
    dims = tuple(draw(st.lists(st.integers(1, 3), min_size=1, max_size=3)))
    unit = draw(st.lists(st.floats(0.0, 1.0), min_size=batch, max_size=batch))
    lo, hi = path.time_range
    t = torch.tensor([lo + (hi - lo) * u for u in unit], dtype=F64).clamp(lo, hi)
    seed = draw(st.integers(0, 2**31 - 1))
    generator = torch.Generator().manual_seed(seed)
    x0 = path.prior.sample((batch, *dims), dtype=F64, generator=generator)
    x1 = torch.randn((batch, *dims), dtype=F64, generator=generator)
    return path, x0, x1, t


@given(cases())
def test_sample_shapes_and_interpolation(case):
    path, x0, x1, t = case
    sample = path.sample(x0=x0, x1=x1, t=t)
    assert sample.x_t.shape == x1.shape and sample.u_t.shape == x1.shape
    assert bool(torch.isfinite(sample.x_t).all()) and bool(torch.isfinite(sample.u_t).all())
    view = (-1,) + (1,) * (x1.dim() - 1)
    eps = x0 / path.prior_std
    torch.testing.assert_close(sample.x_t, path.a(t).view(view) * x1 + path.s(t).view(view) * eps)
    torch.testing.assert_close(sample.u_t, path.da(t).view(view) * x1 + path.ds(t).view(view) * eps)


@given(cases())
def test_target_is_the_conditional_field_where_defined(case):
    path, x0, x1, t = case
    keep = path.s(t) > 0
    x0, x1, t = x0[keep], x1[keep], t[keep]
    if t.numel():
        sample = path.sample(x0=x0, x1=x1, t=t)
        field = path.conditional_vector_field(x=sample.x_t, x1=x1, t=t)
        torch.testing.assert_close(field, sample.u_t, rtol=1e-7, atol=1e-7 * (1 + sample.u_t.abs().max().item()))


@given(cases())
def test_parametrisations_round_trip(case):
    path, x0, _, t = case
    keep = (path.s(t) > 1e-3) & (path.a(t) > 1e-3)
    x, v, t = x0[keep], x0.flip(0)[keep], t[keep]
    if t.numel():
        for to, back, name in [
            (path.velocity_to_x1, path.x1_to_velocity, "x1"),
            (path.velocity_to_epsilon, path.epsilon_to_velocity, "epsilon"),
            (path.velocity_to_score, path.score_to_velocity, "score"),
        ]:
            prediction = to(velocity=v, x=x, t=t)
            torch.testing.assert_close(back(**{name: prediction, "x": x, "t": t}), v, rtol=1e-6, atol=1e-6)


@given(cases(), st.integers(1, 4))
def test_marginal_of_repeated_point_is_conditional(case, copies):
    path, x0, x1, t = case
    keep = path.s(t) > 0
    x, t = x0[keep], t[keep]
    if t.numel():
        point = x1[:1]
        data = point.expand(copies, *point.shape[1:])
        expected = path.conditional_vector_field(x=x, x1=point.expand_as(x), t=t)
        got = path.marginal_vector_field(x=x, t=t, data=data, chunk_size=1)
        torch.testing.assert_close(got, expected, rtol=1e-9, atol=1e-9)
