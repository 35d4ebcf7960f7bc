"""Reflow against a first-round flow known in closed form, and the ``reflow`` coupling in a pipeline.

Data ``x1 ~ N(m, diag S^2)``, prior ``N(0, I)``, OT path with sigma_min = 0: the marginal is
``N(t m, sigma_t^2)`` with ``sigma_t^2 = t^2 S^2 + (1 - t)^2`` and the first-round (marginal) flow
moves ``x0`` to ``x_t = t m + sigma_t x0``, so its map is ``T(x0) = m + S x0`` and its paths are
curved unless ``S = 1``. The reflow pairs ``(x0, m + S x0)`` never cross on straight lines, so the
rectified field ``v2(t, x) = m + (S - 1) x0(x)``, ``x0(x) = (x - t m) / (1 + t (S - 1))``, is exactly
straight.
"""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.couplings import ReflowCoupling
from flowkit.exceptions import InvalidParameterError
from flowkit.pipeline import Pipeline
from flowkit.pipeline.reflow import straightness

MEAN = torch.tensor([2.0, -1.0], dtype=torch.float64)
STD = torch.tensor([0.25, 1.6], dtype=torch.float64)


def first_round_field(t, x):
    tb = t[:, None]
    var = tb**2 * STD**2 + (1 - tb) ** 2
    dstd = (tb * STD**2 - (1 - tb)) / var.sqrt()
    return MEAN + dstd / var.sqrt() * (x - tb * MEAN)


def rectified_field(t, x):
    tb = t[:, None]
    return MEAN + (STD - 1) * (x - tb * MEAN) / (1 + tb * (STD - 1))


def _transport(x0):
    return registry.create("solver", "rk4", steps=200).solve(first_round_field, x0).x


def test_reflow_pairs_are_the_first_flows_deterministic_map():
    x0 = torch.randn(4096, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    coupling = ReflowCoupling(lambda: (x0, _transport(x0)))
    sources, targets = coupling.bank()
    torch.testing.assert_close(targets, MEAN + STD * sources, atol=1e-8, rtol=0)  # T(x0) = m + S x0
    batch_x0, batch_x1 = torch.zeros(64, 2, dtype=torch.float64), torch.zeros(64, 2, dtype=torch.float64)
    p0, p1 = coupling.pair(batch_x0, batch_x1, generator=torch.Generator().manual_seed(1))
    torch.testing.assert_close(p1, MEAN + STD * p0, atol=1e-8, rtol=0)
    q0, _ = coupling.pair(batch_x0, batch_x1, generator=torch.Generator().manual_seed(1))
    assert torch.equal(p0, q0) and len({tuple(r.tolist()) for r in p0}) > 50


def test_straightness_matches_its_closed_form_and_reflow_makes_paths_straight():
    x0 = torch.randn(4_000, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(2))
    # closed form of the first round: (x1 - x0) - v = (S - 1 - sigma_t') x0, so
    # S = sum_d int_0^1 (S_d - 1 - sigma_t,d')^2 dt * E[x0_d^2]
    t = torch.linspace(0, 1, 20_001, dtype=torch.float64)[:, None]
    dstd = (t * STD**2 - (1 - t)) / (t**2 * STD**2 + (1 - t) ** 2).sqrt()
    closed = torch.trapezoid((STD - 1 - dstd) ** 2, t[:, 0], dim=0) @ x0.square().mean(0)
    first = straightness(first_round_field, x0, steps=200)
    torch.testing.assert_close(first, closed, rtol=2e-3, atol=0)
    assert first > 0.1
    second = straightness(rectified_field, x0, steps=50)
    assert second < 1e-12
    # both rounds carry x0 to the same points
    rk4 = registry.create("solver", "rk4", steps=100)
    torch.testing.assert_close(rk4.solve(rectified_field, x0).x, _transport(x0), atol=1e-7, rtol=0)


def test_reflow_coupling_in_a_pipeline_uses_its_own_config_as_teacher(small_config, tmp_path):
    small_config["coupling"] = {"name": "reflow", "num_pairs": 256, "seed": 3}
    pipeline = Pipeline(small_config)
    assert pipeline.coupling._bank is None  # nothing trained or solved before the first batch
    pipeline.fit(progress=False)
    sources, targets = pipeline.coupling.bank()
    teacher_config = {**small_config, "coupling": "independent"}
    teacher = Pipeline(teacher_config)
    teacher.fit(progress=False)
    expected_x0 = teacher.prior_sample(256, generator=torch.Generator().manual_seed(3))
    torch.testing.assert_close(sources, expected_x0)
    torch.testing.assert_close(targets, teacher.flow(expected_x0).x)
    # the rectified model is not the teacher, and a loaded pipeline samples without regenerating pairs
    rectified, first = (p.sample(8, generator=torch.Generator().manual_seed(0)) for p in (pipeline, teacher))
    assert not torch.equal(rectified, first)
    loaded = Pipeline.load(pipeline.save(tmp_path / "ckpt"))
    loaded.sample(8)
    assert loaded.coupling._bank is None


def test_the_student_s_callbacks_do_not_run_for_its_in_memory_teacher(small_config, tmp_path):
    from flowkit import Callback

    starts = []

    class CountStarts(Callback):
        def on_train_start(self, run):
            starts.append(run.pipeline)

    with registry.scoped():
        registry.register("callback", "count-starts", CountStarts)
        # "tensorboard" would fail in a teacher trained without a run directory
        small_config.update(
            coupling={"name": "reflow", "num_pairs": 64, "seed": 3}, callbacks=["count-starts", "tensorboard"]
        )
        pipeline = Pipeline(small_config)
        pipeline.fit(out=tmp_path, progress=False)
    assert starts == [pipeline] and (tmp_path / "tensorboard").is_dir()


def test_reflow_from_a_checkpoint_directory(small_config, tmp_path):
    teacher = Pipeline(small_config)
    teacher.fit(progress=False)
    directory = teacher.save(tmp_path / "teacher")
    euler = {"name": "euler", "steps": 2}
    coupling = registry.create("coupling", "reflow", teacher=str(directory), num_pairs=32, solver=euler)
    sources, targets = coupling.bank()
    torch.testing.assert_close(targets, teacher.flow(sources, solver=euler).x)


def test_reflow_errors():
    with pytest.raises(InvalidParameterError, match="reflow needs a teacher"):
        registry.create("coupling", "reflow")
    with pytest.raises(InvalidParameterError, match="num_pairs"):
        registry.create("coupling", "reflow", teacher="x", num_pairs=0)
    with pytest.raises(InvalidParameterError, match="steps"):
        straightness(rectified_field, torch.zeros(2, 2), steps=0)
    assert math.isfinite(float(straightness(rectified_field, torch.zeros(2, 2, dtype=torch.float64), steps=2)))
