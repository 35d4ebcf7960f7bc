"""Two CPU processes under torch.distributed.run (gloo): identical weights, only rank 0 writes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from flowkit.pipeline import Pipeline

WORKER = Path(__file__).with_name("ddp_worker.py")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def torchrun(worker: Path, directory: Path) -> list[str]:
    """The command that runs ``worker`` in two processes under ``torch.distributed.run``."""
    return [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc-per-node",
        "2",
        "--master-addr",
        "127.0.0.1",
        "--master-port",
        str(free_port()),
        str(worker),
        str(directory),
    ]


@pytest.mark.slow
def test_two_process_training_keeps_ranks_identical_and_only_rank0_writes(tmp_path):
    command = torchrun(WORKER, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stdout + result.stderr

    rank0, rank1 = (load_file(str(tmp_path / f"weights-rank{r}.safetensors")) for r in (0, 1))
    assert rank0.keys() == rank1.keys()
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key

    assert not (tmp_path / "run-rank1").exists()  # rank 1 wrote nothing
    assert sorted(p.name for p in (tmp_path / "run-rank0").iterdir()) == ["checkpoint", "metrics.jsonl"]
    assert json.loads((tmp_path / "history-rank1.json").read_text()) == []
    assert [r["step"] for r in json.loads((tmp_path / "history-rank0.json").read_text())] == [4, 6, 8, 12]

    # The checkpoint holds both ranks' RNG streams; one process resumes from it, with a warning.
    with pytest.warns(UserWarning, match="written by 2 process"):
        resumed = Pipeline.load(tmp_path / "run-rank0")
    assert resumed.step == 12
    for key, value in resumed.model.state_dict().items():
        assert torch.equal(value, rank0[f"model.{key}"])


STOP_WORKER = Path(__file__).with_name("ddp_stop_worker.py")


def _train_until_signalled(tmp_path, send) -> int:
    """Run the stop worker under torchrun, call ``send(process)`` once training is under way, and
    check that both ranks stopped at the same agreed step, saved by rank 0; returns the step."""
    from flowkit.pipeline.interrupts import DEFAULT_SYNC_EVERY

    command = torchrun(STOP_WORKER, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env, start_new_session=True
    )
    log = tmp_path / "run" / "metrics.jsonl"
    try:
        deadline = time.monotonic() + 240
        while not (log.exists() and log.read_text().count("\n") >= 25 and (tmp_path / "pid-rank1").exists()):
            assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()
            time.sleep(0.01)
        send(process)
        output, _ = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    stopped = [json.loads((tmp_path / f"stopped-rank{r}.json").read_text()) for r in (0, 1)]
    assert stopped[0] == stopped[1], (stopped, output)
    step = stopped[0]["step"]
    assert stopped[0]["checkpoint_step"] == step and step >= 25 and step % DEFAULT_SYNC_EVERY == 0
    with pytest.warns(UserWarning, match="written by 2 process"):
        assert Pipeline.load(tmp_path / "run", device="cpu").step == step
    return process.returncode, stopped[0]["signal"]


@pytest.mark.slow
def test_a_signal_to_one_process_stops_every_process_at_the_same_step(tmp_path):
    """SIGTERM reaches rank 1 only; the ranks agree (an all-reduce every few steps) and both stop at
    the same step, where rank 0 writes the checkpoint."""
    rank1 = lambda _: os.kill(int((tmp_path / "pid-rank1").read_text()), signal.SIGTERM)  # noqa: E731
    assert _train_until_signalled(tmp_path, rank1) == (0, "SIGTERM")


@pytest.mark.slow
def test_ctrl_c_under_torchrun_stops_gracefully_despite_the_forwarded_copy(tmp_path):
    """Ctrl-C in a terminal: SIGINT to torchrun and both workers; torchrun forwards it again."""
    returncode, name = _train_until_signalled(tmp_path, lambda process: os.killpg(process.pid, signal.SIGINT))
    assert name == "SIGINT"


CALLBACK_STOP_WORKER = Path(__file__).with_name("ddp_callback_stop_worker.py")


@pytest.mark.slow
def test_a_stop_request_on_rank0_stops_every_rank_at_the_same_step(tmp_path):
    from flowkit.pipeline.interrupts import DEFAULT_SYNC_EVERY

    command = torchrun(CALLBACK_STOP_WORKER, tmp_path)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(command, capture_output=True, text=True, timeout=240, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    rank0, rank1 = (json.loads((tmp_path / f"stopped-rank{r}.json").read_text()) for r in (0, 1))
    # Requested on rank 0 only, after step 13; agreed at the next all-reduce of the stop flag.
    agreed = -(-13 // DEFAULT_SYNC_EVERY) * DEFAULT_SYNC_EVERY
    assert rank0["step"] == rank1["step"] == agreed
    assert rank0["logged"] == [agreed] and rank1["logged"] == []  # the stop step is logged, by rank 0
    assert json.loads((tmp_path / "run" / "checkpoint" / "state.json").read_text())["step"] == agreed
    assert f"training stopped after step {agreed} of 1000: step 13 reached" in result.stderr + result.stdout


def test_leaving_the_process_group_releases_the_ddp_wrappers_first(tmp_path):
    """What runs at exit in a torchrun worker: DDP wrappers dropped, then the group destroyed (a
    wrapper alive at interpreter teardown made gloo abort the process after a finished run)."""
    import torch.distributed as dist

    from flowkit import registry
    from flowkit.pipeline.distributed import DistributedModel, leave_process_group

    dist.init_process_group("gloo", init_method=f"file://{tmp_path / 'store'}", rank=0, world_size=1)
    try:
        model = DistributedModel(registry.create("model", "mlp", dim=2, width=8, depth=1), torch.device("cpu"))
        assert "ddp" in model._modules
        leave_process_group()
        assert "ddp" not in model._modules and not dist.is_initialized()
    finally:
        if dist.is_initialized():
            dist.destroy_process_group()
