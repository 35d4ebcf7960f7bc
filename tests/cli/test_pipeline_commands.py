"""The ``flowkit train``, ``sample``, ``eval`` and ``demo`` commands, run in-process."""

from __future__ import annotations

import json
import math
import os

import numpy as np
import pytest
from PIL import Image
from safetensors.torch import load_file

from flowkit.cli import main

CONFIG = """
model = { name = "mlp", width = 16, depth = 2 }
solver = { name = "euler", steps = 4 }
data = { name = "checkerboard", n_train = 512, n_test = 128 }
device = "cpu"

[train]
steps = 10
batch_size = 64
warmup_steps = 2
log_every = 5
checkpoint_every = 5

[eval]
num_samples = 32
"""


@pytest.fixture
def config_file(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


def finite_numbers(value) -> bool:
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return math.isfinite(value)
    return True


def test_train_resume_sample_eval(tmp_path, config_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
    assert (run / "checkpoint" / "manifest.json").is_file() and (run / "metrics.jsonl").is_file()

    assert main(["train", str(config_file), "--out", str(run)]) == 2
    err = capsys.readouterr().err
    assert "already holds a checkpoint" in err and "pass --resume to continue it" in err

    assert main(["train", str(config_file), "--out", str(run), "--resume", "--steps", "15", "--no-progress"]) == 0
    err = capsys.readouterr().err
    assert "resuming" in err and "step 10" in err and "trained to step 15" in err
    steps = [json.loads(line)["step"] for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert steps == [5, 10, 15]

    changed = tmp_path / "changed.toml"
    changed.write_text(CONFIG.replace("width = 16", "width = 32"), encoding="utf-8")
    assert main(["train", str(changed), "--out", str(run), "--resume"]) == 2
    assert "differs from the checkpoint" in capsys.readouterr().err

    for suffix in (".safetensors", ".npy", ".csv"):
        out = tmp_path / f"samples{suffix}"
        assert main(["sample", str(run), "--n", "25", "--out", str(out), "--batch-size", "10"]) == 0
        if suffix == ".safetensors":
            samples = load_file(str(out))["samples"].numpy()
        elif suffix == ".npy":
            samples = np.load(out, allow_pickle=False)
        else:
            assert out.read_text().splitlines()[0] == "x0,x1"
            samples = np.loadtxt(out, delimiter=",", skiprows=1)
        assert samples.shape == (25, 2) and np.isfinite(samples).all()
    again = tmp_path / "again.npy"
    main(["sample", str(run), "--n", "25", "--out", str(again), "--solver", '{"name": "euler", "steps": 4}'])
    np.testing.assert_allclose(np.load(again), np.load(tmp_path / "samples.npy"), rtol=1e-5, atol=1e-6)

    assert (
        main(["eval", str(run), "--json", "--metrics", "nfe,energy-distance", "--out", str(tmp_path / "e.json")]) == 0
    )
    printed = json.loads(capsys.readouterr().out)
    assert set(printed) == {"nfe", "energy_distance"} and printed["nfe"] == 4
    assert json.loads((tmp_path / "e.json").read_text()) == printed


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["sample", "{run}", "--n", "5", "--out", "{tmp}/s.pt"],
            "unknown format .pt; accepted: .safetensors, .npy, .csv",
        ),
        (["sample", "{run}", "--n", "0", "--out", "{tmp}/s.npy"], "--n must be at least 1"),
        (
            ["sample", "{run}", "--n", "3", "--out", "{tmp}/s.npy", "--label", "1"],
            "unconditional; labels are not accepted",
        ),
        (["sample", "{run}", "--n", "3", "--out", "{tmp}/s.npy", "--guidance", "2"], "--guidance needs --label"),
        (["sample", "{run}", "--n", "3", "--out", "{tmp}/s.npy", "--solver", "rk5"], "unknown solver 'rk5'"),
        (["sample", "{tmp}/missing", "--n", "3", "--out", "{tmp}/s.npy"], "no checkpoint at"),
        (["eval", "{run}", "--metrics", "nlll"], "unknown metric 'nlll'"),
        (["train", "{tmp}/missing.toml", "--out", "{tmp}/r"], "cannot read config file"),
    ],
)
def test_errors_are_one_clear_message(tmp_path, config_file, capsys, argv, message):
    run = tmp_path / "run"
    main(["train", str(config_file), "--out", str(run), "--no-progress"])
    capsys.readouterr()
    assert main([a.format(run=run, tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_bad_config_file_names_the_key(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[train]\nsteps = 10\nbatchsize = 3\n", encoding="utf-8")
    assert main(["train", str(path), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "bad.toml: unknown key 'batchsize' in [train]; accepted keys:" in err and "batch_size" in err


@pytest.mark.slow
def test_demo_with_a_reduced_budget(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--steps", "40", "--num-samples", "200", "--no-progress"]) == 0
    report = json.loads((out / "metrics.json").read_text())
    assert report["steps"] == 40 and report["data"] == "checkerboard"
    assert {"energy_distance", "sliced_w2", "nll_nats", "bits_per_dim", "nfe", "sampling_seconds"} <= set(
        report["metrics"]
    )
    assert report["data_nll_nats"] == pytest.approx(math.log(32))  # uniform on half of [-4, 4]^2
    assert {"support_fraction", "energy_distance_floor", "sliced_w2_floor"} <= set(report["metrics"])
    assert {"train_seconds", "eval_seconds", "total_seconds"} <= set(report["times"])
    assert finite_numbers(report)
    for name in ("samples.png", "trajectories.png"):
        with Image.open(out / name) as image:
            image.verify()
        with Image.open(out / name) as image:
            assert image.format == "PNG" and image.size[0] > 500
    from flowkit.pipeline import Pipeline

    assert Pipeline.load(out).step == 40
    assert main(["demo", "--out", str(out), "--steps", "3", "--num-samples", "50", "--no-progress"]) == 0  # reruns
    assert json.loads((out / "metrics.json").read_text())["steps"] == 3
    assert "energy_distance" in capsys.readouterr().out


def test_resume_with_fewer_steps_than_the_checkpoint_is_an_error(tmp_path, config_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["train", str(config_file), "--out", str(run), "--resume", "--steps", "5"]) == 2
    err = capsys.readouterr().err
    assert f"the checkpoint in {run / 'checkpoint'} is at step 10 but train.steps is 5" in err
    assert "ask for at least 10 steps" in err and "resuming" not in err
    assert main(["train", str(config_file), "--out", str(run), "--resume"]) == 0
    assert "is already at step 10 of 10; nothing to train" in capsys.readouterr().err


def test_resume_with_more_steps_states_the_schedule_change(tmp_path, config_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    assert main(["train", str(config_file), "--out", str(run), "--resume", "--steps", "40", "--no-progress"]) == 0
    schedule = [line for line in capsys.readouterr().err.splitlines() if "schedule" in line]
    assert len(schedule) == 1
    assert schedule[0].startswith("schedule changed at step 10 (train.steps 10 -> 40): the cosine learning-rate")


def test_training_into_a_pipe_prints_progress_lines(tmp_path, config_file, capsys):
    assert main(["train", str(config_file), "--out", str(tmp_path / "run")]) == 0
    lines = [line for line in capsys.readouterr().err.splitlines() if line.startswith("step ")]
    assert lines[0].startswith("step 5/10 (50%)  loss ") and lines[-1].startswith("step 10/10 (100%)  loss ")
    assert all(" steps/s  ETA " in line for line in lines)


def test_training_into_an_unwritable_directory_is_a_clear_error(tmp_path, config_file, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert main(["train", str(config_file), "--out", str(blocker / "run"), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert f"error: cannot write the training log in {blocker / 'run'}: Not a directory" in err
    assert "Traceback" not in err


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only directories")
def test_a_read_only_run_directory_is_a_clear_error_and_the_checkpoint_survives(tmp_path, config_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    run.chmod(0o555)
    try:
        assert main(["train", str(config_file), "--out", str(run), "--resume", "--steps", "20", "--no-progress"]) == 2
    finally:
        run.chmod(0o755)
    err = capsys.readouterr().err
    assert "Permission denied" in err and "Traceback" not in err
    from flowkit.pipeline import Pipeline

    assert Pipeline.load(run).step == 10


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d.mkdir(), "no checkpoint at {d}: it has no manifest.json and no checkpoint/ sub-directory"),
        (lambda d: d.write_text(""), "no checkpoint at {d}: it is a file, not a directory"),
        (
            lambda d: (d.mkdir(), (d / "results.jsonl").write_text(""), (d / "suite.toml").write_text("")),
            "{d} is a benchmark output directory (`flowkit bench`), not a checkpoint",
        ),
        (
            lambda d: (d.mkdir(), (d / "metrics.jsonl").write_text('{"step": 5}\n')),
            "it is a training run directory whose run stopped before its first checkpoint",
        ),
        (
            lambda d: (d.mkdir(), (d / "checkpoint.partial").mkdir()),
            "the first save was interrupted ({d}/checkpoint.partial is unfinished)",
        ),
        (
            lambda d: (d.mkdir(), (d / "state.json").write_text("{}")),
            "incomplete checkpoint: {d}/manifest.json is missing",
        ),
    ],
    ids=["empty-dir", "file", "bench-output", "run-without-checkpoint", "interrupted-first-save", "no-manifest"],
)
def test_sample_says_what_a_directory_is_when_it_holds_no_checkpoint(tmp_path, capsys, make, message):
    directory = tmp_path / "d"
    make(directory)
    assert main(["sample", str(directory), "--n", "3", "--out", str(tmp_path / "s.npy")]) == 2
    err = capsys.readouterr().err
    assert message.format(d=directory) in err
    assert ("did not finish" in err) == ("manifest.json is missing" in message)  # only then is a save to blame


def test_no_directory_is_created_for_an_output_file(tmp_path, config_file, capsys):
    run = tmp_path / "run"
    assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
    capsys.readouterr()
    missing = tmp_path / "nonexistent" / "dir"
    assert main(["sample", str(run), "--n", "3", "--out", str(missing / "s.npy")]) == 2
    assert f"the directory {missing} does not exist; create it first" in capsys.readouterr().err
    assert main(["eval", str(run), "--metrics", "nfe", "--out", str(missing / "e.json")]) == 2
    assert f"the directory {missing} does not exist" in capsys.readouterr().err
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("umask", [0o022, 0o077, 0o002])
def test_output_files_honour_the_umask(tmp_path, config_file, umask):
    run = tmp_path / "run"
    previous = os.umask(umask)
    try:
        assert main(["train", str(config_file), "--out", str(run), "--no-progress"]) == 0
        assert main(["sample", str(run), "--n", "4", "--out", str(tmp_path / "s.safetensors")]) == 0
        assert main(["eval", str(run), "--metrics", "nfe", "--out", str(tmp_path / "e.json")]) == 0
    finally:
        os.umask(previous)
    files = [tmp_path / "s.safetensors", tmp_path / "e.json", run / "metrics.jsonl", *(run / "checkpoint").iterdir()]
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in files}
    assert set(modes.values()) == {oct(0o666 & ~umask)}, modes
