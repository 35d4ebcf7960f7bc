"""Checkpoints: atomic writes, verification, interrupted saves leave the previous one loadable."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open

import flowkit.pipeline.checkpoint as checkpoint_module
from flowkit._tomllib import tomllib
from flowkit.atomic import atomic_write_bytes
from flowkit.exceptions import CheckpointError
from flowkit.pipeline import Pipeline
from flowkit.pipeline.checkpoint import Checkpoint, write_checkpoint


def weights(pipeline: Pipeline) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in pipeline.model.state_dict().items()}


def assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_atomic_file_write_keeps_the_old_content_on_failure(tmp_path):
    target = tmp_path / "file.bin"
    atomic_write_bytes(target, b"old")

    def failing(handle):
        handle.write(b"half of the new")
        raise RuntimeError("killed")

    from flowkit.atomic import atomic_write

    with pytest.raises(RuntimeError, match="killed"):
        atomic_write(target, failing)
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["file.bin"]


def test_a_failed_save_leaves_the_previous_checkpoint_loadable(tmp_path, small_config, monkeypatch):
    pipeline = Pipeline(small_config)
    pipeline.fit(stop_at=10, progress=False)
    pipeline.save(tmp_path / "ckpt")
    saved = weights(pipeline)
    pipeline.fit(progress=False)  # the weights move on

    calls = []
    original = checkpoint_module.save_file

    def killed_mid_write(tensors, filename):
        calls.append(filename)
        if len(calls) == 2:  # the first tensor file is complete, the second half written
            with open(filename, "wb") as handle:
                handle.write(b"\x00" * 10)
            raise KeyboardInterrupt("simulated kill during the checkpoint write")
        original(tensors, filename)

    monkeypatch.setattr(checkpoint_module, "save_file", killed_mid_write)
    with pytest.raises(KeyboardInterrupt):
        pipeline.save(tmp_path / "ckpt")
    monkeypatch.undo()

    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt"]  # no partial directory left
    restored = Pipeline.load(tmp_path / "ckpt")
    assert restored.step == 10
    assert_same(weights(restored), saved)


def test_crash_between_the_renames_falls_back_to_the_previous_copy(tmp_path, small_config):
    pipeline = Pipeline(small_config)
    pipeline.fit(stop_at=10, progress=False)
    run = tmp_path / "run"
    pipeline.fit(out=run, progress=False)  # checkpoints at 10 and at the end (20)
    # A crash after "checkpoint -> checkpoint.previous" and before "partial -> checkpoint":
    (run / "checkpoint").rename(run / "checkpoint.previous")
    (run / "checkpoint.partial").mkdir()
    (run / "checkpoint.partial" / "model.safetensors").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="a save was interrupted"):
        restored = Pipeline.load(run)
    assert restored.step == 20
    restored.save(run / "checkpoint")  # the next save cleans up both leftovers
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint", "metrics.jsonl"]
    assert Pipeline.load(run).step == 20


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (
            lambda d: (d / "model.safetensors").write_bytes(b"short"),
            r"corrupt checkpoint file .*model.safetensors: 5 bytes",
        ),
        (lambda d: (d / "ema.safetensors").unlink(), r"incomplete checkpoint: .*ema.safetensors is missing"),
        (lambda d: (d / "manifest.json").unlink(), r"incomplete checkpoint: .*manifest.json is missing"),
        (
            lambda d: (d / "manifest.json").write_text("{", encoding="utf-8"),
            r"corrupt checkpoint manifest .*manifest.json",
        ),
        (
            lambda d: (d / "state.json").write_bytes(b"x" * (d / "state.json").stat().st_size),
            r"corrupt checkpoint file .*state.json: its SHA-256 does not match",
        ),
    ],
)
def test_damaged_checkpoints_raise_checkpoint_error_naming_the_file(tmp_path, small_config, damage, message):
    Pipeline(small_config).save(tmp_path / "ckpt")
    damage(tmp_path / "ckpt")
    with pytest.raises(CheckpointError, match=message):
        Pipeline.load(tmp_path / "ckpt")


def test_missing_checkpoint(tmp_path):
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        Pipeline.load(tmp_path / "nothing")


def test_checkpoint_files_and_no_pickle(tmp_path, small_config):
    pipeline = Pipeline(small_config)
    pipeline.fit(stop_at=5, progress=False)
    directory = pipeline.save(tmp_path / "ckpt")
    names = sorted(p.name for p in directory.iterdir())
    assert names == [
        "config.toml",
        "ema.safetensors",
        "manifest.json",
        "model.safetensors",
        "optimizer.json",
        "optimizer.safetensors",
        "rng.safetensors",
        "state.json",
    ]
    state = json.loads((directory / "state.json").read_text())
    assert state["step"] == 5 and state["event_shape"] == [2]
    for name in names:  # nothing in a checkpoint is a pickle: safetensors, JSON or TOML only
        file = directory / name
        if name.endswith(".safetensors"):
            with safe_open(str(file), framework="pt") as handle:
                assert list(handle.keys())
        elif name.endswith(".json"):
            json.loads(file.read_text())
        else:
            tomllib.loads(file.read_text())
    checkpoint = Checkpoint(directory)
    assert checkpoint.has("model.safetensors") and not checkpoint.has("other")


def test_write_checkpoint_round_trip(tmp_path):
    tensors = {"w": torch.arange(6.0).reshape(2, 3)}
    write_checkpoint(
        tmp_path / "c", text={"a.txt": "hello"}, json_data={"b.json": {"x": [1, 2]}}, tensors={"t.safetensors": tensors}
    )
    checkpoint = Checkpoint(tmp_path / "c")
    assert checkpoint.read_text("a.txt") == "hello"
    assert checkpoint.read_json("b.json") == {"x": [1, 2]}
    assert torch.equal(checkpoint.read_tensors("t.safetensors")["w"], tensors["w"])
