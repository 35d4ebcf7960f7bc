"""The scheduler change: a field trained on Gaussian path A gives path B's marginal field.

Checked on the closed-form marginal field of a finite data set, for which the identity
``uB_t(x) = (c'/c) x + c r' uA_r(x / c)`` is exact (the pipeline's ``schedule=`` in
tests/pipeline/test_sampling_schedule.py).
"""

from __future__ import annotations

import pytest
import torch

from flowkit import registry
from flowkit.paths import RescheduledField

DTYPE = torch.float64
PAIRS = [("ot", "cosine"), ("cosine", "ot"), ("vp", "ot"), ("ot", "vp"), ("ot", "ve"), ("ve", "ot")]


@pytest.mark.parametrize("trained, target", PAIRS)
def test_the_trained_marginal_field_becomes_the_target_marginal_field(trained, target):
    generator = torch.Generator().manual_seed(0)
    data = 2 * torch.randn(32, 2, dtype=DTYPE, generator=generator)
    x = 1.5 * torch.randn(16, 2, dtype=DTYPE, generator=generator)
    path_a, path_b = registry.create("path", trained), registry.create("path", target)
    field = RescheduledField(
        lambda t, x: path_a.marginal_vector_field(x=x, t=t, data=data), trained=path_a, target=path_b
    )
    for time in (0.05, 0.3, 0.5, 0.7, 0.95):
        t = torch.full((16,), time, dtype=DTYPE)
        assert torch.allclose(field(t, x), path_b.marginal_vector_field(x=x, t=t, data=data), atol=1e-11)


def test_the_same_schedule_is_the_identity_and_r_matches_the_signal_to_noise_ratio():
    ot, cosine = registry.create("path", "ot"), registry.create("path", "cosine")
    t = torch.linspace(0.05, 0.95, 7, dtype=DTYPE)
    r, c, dr, dc = RescheduledField(lambda t, x: x, trained=ot, target=ot).reparametrize(t)
    assert torch.allclose(r, t) and torch.allclose(c, torch.ones_like(t)) and torch.allclose(dr, torch.ones_like(t))
    r, c, _, _ = RescheduledField(lambda t, x: x, trained=ot, target=cosine).reparametrize(t)
    assert torch.allclose(ot.a(r) / ot.s(r), cosine.a(t) / cosine.s(t), rtol=1e-10)
    assert torch.allclose(c * ot.s(r), cosine.s(t), rtol=1e-10)
