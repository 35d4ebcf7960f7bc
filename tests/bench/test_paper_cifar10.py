"""The paper-cifar10 suite end to end on tiny files in the CIFAR-10 binary format, and its agreement with the preset."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flowkit.bench import load_suite, run_suite
from flowkit.data import DATA_ENV
from flowkit.metrics.fid import FID_NETWORK_ENV
from flowkit.presets import load_preset

TINY_UNET = (
    '[{ name = "unet", base_channels = 8, channel_mult = [1, 2], num_res_blocks = 1, attention_resolutions = [16], '
    "attention_heads = 2, middle_attention = true, dropout = 0.1, norm_groups = 4 }]"
)


def write_tiny_cifar(folder, per_batch=4, n_test=6):
    """Records of 1 label byte + 3072 pixel bytes, as in data_batch_*.bin / test_batch.bin."""
    rng = np.random.default_rng(0)
    folder.mkdir()
    for name, n in [*[(f"data_batch_{i}.bin", per_batch) for i in range(1, 6)], ("test_batch.bin", n_test)]:
        records = np.concatenate([rng.integers(0, 10, (n, 1)), rng.integers(0, 256, (n, 3072))], axis=1)
        (folder / name).write_bytes(records.astype(np.uint8).tobytes())


def test_suite_model_and_training_are_the_cifar10_preset():
    suite = load_suite("paper-cifar10")
    preset = load_preset("cifar10")
    assert suite.axes["model"] == (preset.model,)
    assert suite.train == preset.train
    assert [c.name for c in suite.axes["path"]] == ["ot", "vp", "ve"] and suite.eval.divergence == "hutchinson"


@pytest.mark.slow
def test_paper_cifar10_runs_end_to_end_on_a_tiny_binary_file(tmp_path, monkeypatch):
    write_tiny_cifar(tmp_path / "cifar-10-batches-bin")
    monkeypatch.setenv(DATA_ENV, str(tmp_path))
    monkeypatch.delenv(FID_NETWORK_ENV, raising=False)
    suite = load_suite(
        "paper-cifar10",
        overrides=[
            f"axes.model={TINY_UNET}",
            'axes.solver=[{ name = "euler", steps = 2 }, { name = "midpoint", steps = 1 }, '
            '{ name = "dopri5", atol = 1e-2, rtol = 1e-2 }]',
            "train.steps=2",
            "train.batch_size=4",
            "train.warmup_steps=1",
            "eval.num_samples=6",
            "eval.likelihood_points=3",
            'eval.likelihood_solver={ name = "euler", steps = 2 }',
            "eval.plot_samples=4",
        ],
    )
    report = run_suite(suite, tmp_path / "out", log=lambda line: None)
    assert report.cells == 3 and report.ok, (tmp_path / "out" / "summary.md").read_text()
    records = [json.loads(line) for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines()]
    for record in records:
        likelihood = record["likelihood"]
        assert 0 < likelihood["bits_per_dim"] and likelihood["bits_per_dim_stderr"] > 0
        by_solver = {e["label"]: e for e in record["evaluations"]}
        assert by_solver["euler(steps=2)"]["nfe"] == 2 and by_solver["dopri5(atol=0.01, rtol=0.01)"]["nfe"] >= 6
        metrics = by_solver["midpoint(steps=1)"]["metrics"]
        assert {"energy_distance", "sliced_w2", "energy_distance_floor", "sliced_w2_floor"} <= set(metrics)
        assert "fid" not in metrics
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "FID skipped: no Inception feature network" in summary and FID_NETWORK_ENV in summary
    assert "bits/dim s.e." in summary
