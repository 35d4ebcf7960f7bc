"""Stops and restarts in one process: signals between steps, a second signal, the run directory's log.

The signals are real (``os.kill`` of this process) and sent from inside the training loop, at a
chosen step, so the step they land in is known exactly.
"""

from __future__ import annotations

import json
import os
import signal

import pytest
import torch

from flowkit.exceptions import ConfigError, OutputError, TrainingInterrupted
from flowkit.pipeline import Pipeline
from flowkit.pipeline import monitor as monitor_module
from flowkit.pipeline.monitor import TrainingMonitor, format_duration
from flowkit.pipeline.schedule import learning_rate


def state(pipeline: Pipeline) -> dict[str, torch.Tensor]:
    tensors = {f"model.{k}": v.clone() for k, v in pipeline.model.state_dict().items()}
    return tensors | {f"ema.{k}": v.clone() for k, v in pipeline.ema_model.state_dict().items()}


def assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def signal_at(monkeypatch, step: int, *signals: int) -> None:
    """Send ``signals`` to this process when the record of ``step`` is logged (log_every = 1)."""
    log = TrainingMonitor.log

    def log_and_signal(self, record):
        log(self, record)
        if record["step"] == step:
            for number in signals:
                os.kill(os.getpid(), number)

    monkeypatch.setattr(TrainingMonitor, "log", log_and_signal)


def logged_steps(out) -> list[int]:
    return [json.loads(line)["step"] for line in (out / "metrics.jsonl").read_text().splitlines()]


@pytest.fixture
def config(small_config):
    small_config["train"].update(steps=30, log_every=1, checkpoint_every=10)
    return small_config


@pytest.mark.parametrize("number", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_finishes_the_step_saves_it_and_resumes_exactly(tmp_path, config, monkeypatch, number):
    one_go = Pipeline(config)
    one_go.fit(progress=False)
    before = signal.getsignal(number)

    signal_at(monkeypatch, 13, number)
    pipeline = Pipeline(config)
    with pytest.raises(TrainingInterrupted) as caught:
        pipeline.fit(out=tmp_path, progress=False)
    name = signal.Signals(number).name
    # The signal lands while step 13 is logged; step 14 is the step in progress when it is seen.
    assert str(caught.value) == (
        f"{name}: training stopped after step 14 of 30; checkpoint of step 14 kept in {tmp_path / 'checkpoint'}"
    )
    assert (caught.value.step, caught.value.checkpoint_step, caught.value.aborted) == (14, 14, False)
    assert signal.getsignal(number) is before  # the handlers are restored
    assert logged_steps(tmp_path) == list(range(1, 15))

    monkeypatch.undo()
    resumed = Pipeline.load(tmp_path)
    assert resumed.step == 14
    resumed.fit(out=tmp_path, progress=False)
    assert_identical(state(resumed), state(one_go))
    assert logged_steps(tmp_path) == list(range(1, 31))


def test_a_second_signal_aborts_at_once_and_the_previous_checkpoint_stays(tmp_path, config, monkeypatch):
    signal_at(monkeypatch, 13, signal.SIGINT, signal.SIGINT)
    pipeline = Pipeline(config)
    with pytest.raises(TrainingInterrupted) as caught:
        pipeline.fit(out=tmp_path, progress=False)
    assert str(caught.value) == (
        f"SIGINT received twice: training aborted after step 13, which was not saved; the previous checkpoint "
        f"{tmp_path / 'checkpoint'} (step 10) is intact"
    )
    assert (caught.value.aborted, caught.value.checkpoint_step) == (True, 10)
    assert Pipeline.load(tmp_path).step == 10


def test_a_signal_without_a_run_directory_stops_between_steps(config, monkeypatch):
    signal_at(monkeypatch, 4, signal.SIGINT)
    pipeline = Pipeline(config)
    with pytest.raises(TrainingInterrupted, match="stopped after step 5 of 30; no checkpoint written"):
        pipeline.fit(progress=False)
    assert pipeline.step == 5 and pipeline.trainer.optimizer.state  # a whole step: usable, resumable in memory


def test_fewer_steps_than_taken_is_an_error(config):
    pipeline = Pipeline(config)
    pipeline.fit(stop_at=12, progress=False)
    with pytest.raises(ConfigError, match="train.steps = 8 is below the 12 steps this pipeline has already taken"):
        pipeline.fit(steps=8, progress=False)


def test_a_changed_step_count_states_the_schedule_change(config, capsys):
    pipeline = Pipeline(config)
    pipeline.fit(progress=False)
    capsys.readouterr()
    pipeline.fit(steps=60, progress=False)
    train = pipeline.config.train
    old = learning_rate(30, lr=train.lr, steps=30, warmup_steps=5, schedule="cosine", min_lr_ratio=train.min_lr_ratio)
    new = learning_rate(30, lr=train.lr, steps=60, warmup_steps=5, schedule="cosine", min_lr_ratio=train.min_lr_ratio)
    assert new > 10 * old  # the re-stretched cosine jumps back up
    lines = [line for line in capsys.readouterr().err.splitlines() if "schedule" in line]
    assert lines == [
        f"schedule changed at step 30 (train.steps 30 -> 60): the cosine learning-rate schedule now spans 60 "
        f"steps; the rate of step 31 is {new:.3g} instead of {old:.3g}"
    ]


def test_resume_cuts_the_log_back_to_the_checkpoint(tmp_path, config):
    Pipeline(config).fit(out=tmp_path, stop_at=20, progress=False)
    with open(tmp_path / "metrics.jsonl", "a") as log:  # what a process killed at step 23 leaves
        log.write("".join(json.dumps({"step": s, "loss": 1.0}) + "\n" for s in (21, 22, 23)) + '{"step": 2')
    resumed = Pipeline.load(tmp_path)
    resumed.fit(out=tmp_path, progress=False)
    assert logged_steps(tmp_path) == list(range(1, 31))


def test_a_fresh_run_moves_an_old_log_aside(tmp_path, config, capsys):
    Pipeline(config).fit(out=tmp_path, stop_at=3, progress=False)
    first = (tmp_path / "metrics.jsonl").read_text()
    (tmp_path / "tensorboard").mkdir(exist_ok=True)
    Pipeline(config).fit(out=tmp_path, stop_at=2, progress=False, callbacks=["tensorboard"])
    err = capsys.readouterr().err
    assert (
        f"a new run starts in {tmp_path}: moved the old metrics.jsonl aside to {tmp_path / 'metrics.jsonl.old'}" in err
    )
    assert f"moved the old tensorboard aside to {tmp_path / 'tensorboard.old'}" in err
    assert (tmp_path / "metrics.jsonl.old").read_text() == first
    assert logged_steps(tmp_path) == [1, 2]
    Pipeline(config).fit(out=tmp_path, stop_at=1, progress=False)
    assert (tmp_path / "metrics.jsonl.old1").is_file() and logged_steps(tmp_path) == [1]


def test_an_unwritable_run_directory_is_a_clear_error(tmp_path, config):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputError, match=f"cannot write the training log in {blocker / 'run'}: "):
        Pipeline(config).fit(out=blocker / "run", progress=False)


def test_progress_lines_when_the_output_is_not_a_terminal(capsys, monkeypatch):
    clock = iter([100.0, 105.0, 130.0])  # start, then the two records: 10 steps in 5 s, 30 more in 25 s
    monkeypatch.setattr(monitor_module.time, "perf_counter", lambda: next(clock))
    monitor = TrainingMonitor(initial_step=10, total_steps=50, out=None, progress=None, interval=0.0)
    monitor.log({"step": 20, "loss": 0.5})
    monitor.log({"step": 50, "loss": 0.25})
    monitor.close()
    lines = capsys.readouterr().err.splitlines()
    # rate = steps of this run / its time; ETA = steps left / rate: 30 / 2 = 15 s
    assert lines == [
        "step 20/50 (40%)  loss 0.5  2.0 steps/s  ETA 15s",
        "step 50/50 (100%)  loss 0.25  1.3 steps/s  ETA 0s",
    ]


def test_progress_lines_are_spaced_by_the_interval(capsys):
    monitor = TrainingMonitor(initial_step=0, total_steps=100, out=None, progress=None, interval=3600.0)
    for step in range(1, 101):
        monitor.log({"step": step, "loss": 1.0})
    monitor.close()
    lines = capsys.readouterr().err.splitlines()
    assert [line.split()[1] for line in lines] == ["1/100", "100/100"]  # the first, then only the last


def test_durations_read_as_a_person_would():
    assert [format_duration(s) for s in (0.4, 59, 60, 185, 3599, 3600, 7620)] == [
        "0s",
        "59s",
        "1m00s",
        "3m05s",
        "59m59s",
        "1h00m",
        "2h07m",
    ]
