"""Fault injection on real ``flowkit`` processes: SIGKILL at random moments, SIGINT, a full disk, a closed pipe.

Every killed or interrupted run is resumed with ``flowkit train --resume``; the end state must
equal an uninterrupted run's bit for bit and ``metrics.jsonl`` must hold every step exactly once.
The kill moments are drawn from a seeded generator: the process is killed a random number of
steps past the last step it logged before, plus a random delay of up to a few steps, so kills
fall inside steps, log writes and checkpoint saves alike. Each test prints its fault counts
(``pytest -s`` shows them).
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from flowkit.cli import main
from flowkit.pipeline import Pipeline
from flowkit.pipeline.checkpoint import Checkpoint

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
STEPS = 240
CONFIG = f"""
model = {{ name = "mlp", width = 16, depth = 2 }}
solver = {{ name = "euler", steps = 4 }}
data = {{ name = "checkerboard", n_train = 512, n_test = 128 }}
device = "cpu"
seed = 3

[train]
steps = {STEPS}
batch_size = 32
warmup_steps = 20
log_every = 1
checkpoint_every = CHECKPOINT_EVERY
"""


def write_config(directory: Path, checkpoint_every: int) -> Path:
    path = directory / f"config-{checkpoint_every}.toml"
    path.write_text(CONFIG.replace("CHECKPOINT_EVERY", str(checkpoint_every)), encoding="utf-8")
    return path


def train_command(config: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "flowkit", "train", str(config), "--out", str(out), "--resume", *extra]


def logged_steps(out: Path) -> list[int]:
    """The steps of the complete records of ``out/metrics.jsonl``, in file order."""
    try:
        lines = (out / "metrics.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    except FileNotFoundError:
        return []
    return [json.loads(line)["step"] for line in lines if line.endswith("\n")]


def final_state(directory: Path) -> dict[str, torch.Tensor]:
    """Model, EMA and optimizer tensors of the checkpoint in ``directory``, checked against its manifest."""
    checkpoint = Checkpoint(directory)
    tensors = {}
    for name in ("model.safetensors", "ema.safetensors", "optimizer.safetensors"):
        tensors |= {f"{name}:{key}": value for key, value in checkpoint.read_tensors(name).items()}
    return tensors


def assert_bitwise_equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> int:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key
    return len(a)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict[str, torch.Tensor]:
    """The end state of the uninterrupted run (in this process: the same numbers as in a child)."""
    directory = tmp_path_factory.mktemp("reference")
    assert main(["train", str(write_config(directory, 0)), "--out", str(directory / "run"), "--no-progress"]) == 0
    return final_state(directory / "run")


def wait_for_step(process: subprocess.Popen, out: Path, step: int, timeout: float = 120.0) -> bool:
    """Wait until ``out``'s log reaches ``step``; ``False`` if the process ended first."""
    deadline = time.monotonic() + timeout
    while True:
        steps = logged_steps(out)
        if steps and steps[-1] >= step:
            return True
        if process.poll() is not None:
            return False
        assert time.monotonic() < deadline, f"step {step} was not reached in {timeout} s"
        time.sleep(0.002)


def finish_and_check(config: Path, out: Path, reference: dict[str, torch.Tensor]) -> tuple[int, int]:
    """Resume ``out`` to the end; returns (tensors compared bitwise, log records checked)."""
    finished = subprocess.run(train_command(config, out, "--no-progress"), capture_output=True, text=True, env=ENV)
    assert finished.returncode == 0, finished.stderr
    assert "Traceback" not in finished.stderr
    tensors = assert_bitwise_equal(final_state(out), reference)
    steps = logged_steps(out)
    assert steps == list(range(1, STEPS + 1)), "the log must hold every step exactly once"
    return tensors, len(steps)


def kill_and_resume(tmp_path: Path, reference: dict[str, torch.Tensor], *, kills: int, seed: int) -> None:
    """Kill ``flowkit train`` ``kills`` times, resuming each time; a run that ends first is checked
    and the kills go on in a new run directory (so fast machines do not run out of steps)."""
    config = write_config(tmp_path, checkpoint_every=5)
    rng = random.Random(seed)
    killed = during_save = tensors = records = 0
    runs = 0
    while killed < kills:
        out = tmp_path / f"run{runs}"
        runs += 1
        while killed < kills:
            # Past every step the previous process logged, so the old lines (cut on resume) do not count.
            target = max(logged_steps(out), default=0) + rng.randint(1, 10)
            process = subprocess.Popen(
                train_command(config, out, "--no-progress"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=ENV
            )
            try:
                if wait_for_step(process, out, target):
                    time.sleep(rng.uniform(0.0, 0.01))
                    process.send_signal(signal.SIGKILL)
            finally:
                _, err = process.communicate(timeout=60)
            if process.returncode == 0:  # it reached the end before its kill
                break
            assert process.returncode == -signal.SIGKILL, err.decode()
            killed += 1
            during_save += any(out.glob("checkpoint.*"))  # a .partial or .previous: killed inside a save
        checked = finish_and_check(config, out, reference)
        tensors, records = tensors + checked[0], records + checked[1]
    print(
        f"\nfault matrix, flowkit train: {killed} SIGKILLs survived in {runs} run(s) ({during_save} inside a "
        f"checkpoint save); {tensors} tensors bitwise equal to the uninterrupted run; {records} log records "
        "checked, each step once"
    )


def test_train_survives_ten_sigkills_at_random_moments(tmp_path, reference):
    kill_and_resume(tmp_path, reference, kills=10, seed=13)


@pytest.mark.slow
def test_train_survives_many_sigkills_at_random_moments(tmp_path, reference):
    kill_and_resume(tmp_path, reference, kills=15, seed=1013)


def test_sigint_keeps_the_current_step_a_second_one_aborts_and_both_resume_exactly(tmp_path, reference):
    """With checkpoint_every = 0 only the end would be saved: Ctrl-C must save the step it stopped at.
    Then, in the resumed process, a second Ctrl-C after the first one was acknowledged aborts at
    once (or, if the stop finished first, is a plain graceful stop): the checkpoint stays intact."""
    config = write_config(tmp_path, checkpoint_every=0)
    out = tmp_path / "run"
    process = subprocess.Popen(train_command(config, out), stderr=subprocess.PIPE, text=True, env=ENV)
    assert wait_for_step(process, out, 40)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    kept = Pipeline.load(out).step
    assert 40 <= kept < STEPS
    assert f"SIGINT: training stopped after step {kept} of {STEPS}; checkpoint of step {kept} kept in" in err
    assert "continue with --resume" in err and "Traceback" not in err
    assert logged_steps(out) == list(range(1, kept + 1))

    process = subprocess.Popen(train_command(config, out, "--no-progress"), stderr=subprocess.PIPE, text=True, env=ENV)
    assert wait_for_step(process, out, kept + 20)
    process.send_signal(signal.SIGINT)
    lines = []
    while "SIGINT received: finishing the current step" not in (line := process.stderr.readline()):
        assert line, "".join(lines)
        lines.append(line)
    process.send_signal(signal.SIGINT)  # sent only now: two pending SIGINTs would merge into one
    err = "".join(lines) + process.communicate(timeout=60)[1]
    assert process.returncode == 130, err
    assert "Traceback" not in err
    now = Pipeline.load(out).step
    if "SIGINT received twice" in err:
        assert "training aborted after step" in err and f"(step {kept}) is intact" in err and now == kept
    else:
        assert f"checkpoint of step {now} kept in" in err and now >= kept + 20

    checked = finish_and_check(config, out, reference)
    print(
        f"\nfault matrix, SIGINT: 2 interrupts survived ({'abort' if now == kept else 'graceful'} second); "
        f"{checked[0]} tensors bitwise equal, {checked[1]} log records checked"
    )


def _limit_file_size(limit: int):
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_full_disk_is_a_clear_error_and_the_previous_checkpoint_survives(tmp_path):
    """The resumed process may write no file larger than the weights' file: its first save fails."""
    config = write_config(tmp_path, checkpoint_every=5)
    out = tmp_path / "run"
    assert main(["train", str(config), "--out", str(out), "--steps", "10", "--no-progress"]) == 0
    before = final_state(out)
    weights = (out / "checkpoint" / "model.safetensors").stat().st_size
    result = subprocess.run(
        train_command(config, out, "--no-progress"),
        capture_output=True,
        text=True,
        env=ENV,
        preexec_fn=_limit_file_size(weights - 1),
    )
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert f"error: cannot write the checkpoint of step 15 to {out / 'checkpoint'}: " in result.stderr
    assert "File too large" in result.stderr
    assert f"the previous checkpoint {out / 'checkpoint'} (step 10) is intact" in result.stderr
    assert_bitwise_equal(final_state(out), before)
    assert Pipeline.load(out).step == 10
    assert not (out / "checkpoint.partial").exists()


def test_closing_the_output_pipe_early_is_quiet(tmp_path):
    """``flowkit plugins --json | head``: the reader is gone before the listing is written."""
    process = subprocess.Popen(
        [sys.executable, "-m", "flowkit", "plugins", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=ENV,
    )
    process.stdout.close()
    err = process.stderr.read().decode()
    process.wait(timeout=60)
    assert err == "" and process.returncode == 141
