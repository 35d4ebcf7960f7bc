"""Training callbacks: hook order and arguments, early stopping, periodic evaluation, trackers."""

from __future__ import annotations

import json
import shutil
import sys
import types

import pytest
import torch

import flowkit
from flowkit import Callback, Pipeline, PipelineConfig, registry
from flowkit.exceptions import ConfigError, InvalidParameterError, UnknownComponentError
from flowkit.pipeline.callbacks import CallbackList
from flowkit.pipeline.interrupts import StopSignals
from flowkit.pipeline.trackers import MLflowCallback, TensorBoardCallback


@pytest.fixture
def config(small_config):
    small_config["train"].update(steps=6, log_every=2, checkpoint_every=3)
    return small_config


class Recorder(Callback):
    """Records every hook call as ``(hook, argument)``."""

    def __init__(self):
        self.events = []

    def on_train_start(self, run):
        self.events.append(("start", run.initial_step, run.total_steps))

    def on_step_end(self, run, step):
        assert isinstance(step, int) and step == run.step
        self.events.append(("step", step))

    def on_log(self, run, record):
        self.events.append(("log", record["step"]))

    def on_evaluation(self, run, metrics):
        self.events.append(("evaluation", run.step, tuple(sorted(metrics))))

    def on_checkpoint(self, run, path):
        self.events.append(("checkpoint", run.step, path))

    def on_train_end(self, run):
        self.events.append(("end", run.outcome))


class Quiet(Callback):
    """Defines no step hook."""

    def on_log(self, run, record):
        pass


def test_hooks_run_in_order_with_their_arguments(tmp_path, config):
    recorder = Recorder()
    history = Pipeline(config).fit(out=tmp_path, progress=False, callbacks=[recorder])
    checkpoint = str(tmp_path / "checkpoint")
    expected = [("start", 0, 6)]
    for step in range(1, 7):
        expected.append(("step", step))
        if step % 2 == 0 or step % 3 == 0:  # logged every 2 steps and before each checkpoint
            expected.append(("log", step))
        if step % 3 == 0:
            expected.append(("checkpoint", step, checkpoint))
    expected.append(("end", "completed"))
    assert recorder.events == expected
    assert [e[1] for e in recorder.events if e[0] == "log"] == [r["step"] for r in history]


def test_no_step_hook_means_the_loop_calls_nothing_per_step(config, monkeypatch):
    assert CallbackList([Quiet()]).step_hook() is None and not Quiet().has_step_hook
    assert Recorder().has_step_hook
    pipeline = Pipeline(config)
    seen = []
    run = pipeline.trainer.run
    monkeypatch.setattr(pipeline.trainer, "run", lambda **kw: seen.append(kw["on_step"]) or run(**kw))
    pipeline.fit(progress=False, callbacks=[Quiet()])
    pipeline.fit(steps=8, progress=False)
    assert seen == [None, None]


class StopAt(Callback):
    def __init__(self, step):
        self.step = step
        self.outcome = None

    def on_step_end(self, run, step):
        if step == self.step:
            run.request_stop(f"enough at step {step}")

    def on_train_end(self, run):
        self.outcome = run.outcome


def test_a_callback_stops_training_with_a_checkpoint_and_the_run_resumes_exactly(tmp_path, config, capsys):
    config["train"]["steps"] = 10
    one_go = Pipeline(config)
    one_go.fit(progress=False)

    stopper = StopAt(4)
    pipeline = Pipeline(config)
    history = pipeline.fit(out=tmp_path, progress=False, callbacks=[stopper])  # returns: no exception
    assert pipeline.step == 4 and stopper.outcome == "stopped" and history[-1]["step"] == 4
    assert json.loads((tmp_path / "checkpoint" / "state.json").read_text())["step"] == 4
    assert "training stopped after step 4 of 10: enough at step 4" in capsys.readouterr().err

    resumed = Pipeline.load(tmp_path)
    resumed.fit(out=tmp_path, progress=False)
    assert resumed.step == 10
    for key, value in one_go.model.state_dict().items():
        assert torch.equal(resumed.model.state_dict()[key], value), key


def test_a_stop_request_is_agreed_like_a_signal_but_is_not_an_interrupt():
    stop = StopSignals()
    assert not stop.should_stop()
    stop.request("plateau")
    stop.request("second reason is ignored")
    assert stop.should_stop() and stop.requested_stop and stop.reason == "plateau"
    assert stop.signal_name == "a stop request"


def test_periodic_evaluation_reaches_every_callback_and_leaves_training_unchanged(config):
    plain = Pipeline(config)
    plain.fit(progress=False)

    config["callbacks"] = [{"name": "evaluate", "every": 3, "num_samples": 32, "metrics": ["energy-distance"]}]
    recorder = Recorder()
    pipeline = Pipeline(config)
    pipeline.fit(progress=False, callbacks=[recorder])
    evaluations = [e for e in recorder.events if e[0] == "evaluation"]
    assert [e[1] for e in evaluations] == [3, 6]
    assert all("energy_distance" in e[2] or "energy-distance" in e[2] for e in evaluations)
    for key, value in plain.model.state_dict().items():  # evaluating forked the random streams
        assert torch.equal(pipeline.model.state_dict()[key], value), key


def test_callbacks_in_the_config_round_trip_and_are_checked(config):
    config["callbacks"] = ["tensorboard", {"name": "evaluate", "every": 5}]
    parsed = PipelineConfig.from_dict(config)
    assert [c.name for c in parsed.callbacks] == ["tensorboard", "evaluate"]
    assert PipelineConfig.from_toml(parsed.to_toml()) == parsed
    assert "callbacks" not in PipelineConfig.from_dict({**config, "callbacks": []}).to_dict()
    with pytest.raises(ConfigError, match="callbacks must be a list"):
        PipelineConfig.from_dict({**config, "callbacks": "tensorboard"})
    with pytest.raises(UnknownComponentError, match="unknown callback 'tensorbord'. Did you mean 'tensorboard'"):
        Pipeline({**config, "callbacks": ["tensorbord"]})
    with pytest.raises(ConfigError, match=r"fit\(callbacks=...\)\[0\] is a object"):
        Pipeline(config).fit(progress=False, callbacks=[object()])
    with pytest.raises(InvalidParameterError, match="every must be an integer >= 1"):
        Pipeline(config).fit(progress=False, callbacks=[{"name": "evaluate", "every": 0}])


def test_a_registered_callback_is_used_by_name(config):
    made = []

    def counting():
        made.append(Recorder())
        return made[-1]

    with registry.scoped():
        flowkit.register("callback", "recorder", counting)
        Pipeline({**config, "callbacks": ["recorder"]}).fit(progress=False, callbacks=["recorder"])
    assert len(made) == 2 and made[0].events == made[1].events and made[0].events[-1] == ("end", "completed")


def test_a_failing_run_still_ends_its_callbacks(config):
    class Boom(Callback):
        def on_log(self, run, record):
            raise RuntimeError("tracker down")

    recorder = Recorder()
    with pytest.raises(RuntimeError, match="tracker down"):
        Pipeline(config).fit(progress=False, callbacks=[recorder, Boom()])
    assert recorder.events[-1] == ("end", "failed")


# -- trackers ------------------------------------------------------------------------------------
def _scalars(directory, tag):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(directory))
    events.Reload()
    return {event.step: event.value for event in events.Scalars(tag)}


def test_tensorboard_writes_the_logged_scalars(tmp_path, config):
    pytest.importorskip("tensorboard")
    history = Pipeline(config).fit(out=tmp_path, progress=False, callbacks=["tensorboard"])
    loss = _scalars(tmp_path / "tensorboard", "train/loss")
    assert loss == pytest.approx({r["step"]: r["loss"] for r in history}, rel=1e-6)
    assert set(_scalars(tmp_path / "tensorboard", "train/lr")) == {r["step"] for r in history}


def test_tensorboard_purges_the_events_past_the_resumed_step(tmp_path, config):
    pytest.importorskip("tensorboard")
    config["callbacks"] = ["tensorboard"]
    config["train"].update(log_every=1)
    pipeline = Pipeline(config)
    pipeline.fit(out=tmp_path, stop_at=3, progress=False)
    shutil.copytree(tmp_path / "checkpoint", tmp_path / "checkpoint-3")
    pipeline.fit(out=tmp_path, progress=False)  # steps 4..6 logged, then "killed": only step 3 is kept
    shutil.rmtree(tmp_path / "checkpoint")
    (tmp_path / "checkpoint-3").rename(tmp_path / "checkpoint")
    resumed = Pipeline.load(tmp_path)
    history = resumed.fit(out=tmp_path, progress=False)
    loss = _scalars(tmp_path / "tensorboard", "train/loss")
    assert sorted(loss) == [1, 2, 3, 4, 5, 6]  # each step once, steps 4..6 from the resumed run
    assert [loss[r["step"]] for r in history] == pytest.approx([r["loss"] for r in history], rel=1e-6)


@pytest.mark.slow  # MLflow creates its SQLite store by running its schema migrations (several seconds)
def test_trackers_without_a_place_to_write_say_what_to_give(config):
    with pytest.raises(
        ConfigError, match=r"callback 'tensorboard' needs a directory: train with fit\(out=...\) or give log_dir="
    ):
        Pipeline(config).fit(progress=False, callbacks=["tensorboard"])
    with pytest.raises(
        ConfigError, match=r"callback 'mlflow' needs a store: train with fit\(out=...\) or give tracking_uri="
    ):
        Pipeline(config).fit(progress=False, callbacks=["mlflow"])


def test_mlflow_logs_params_metrics_and_providers_offline(tmp_path, config):
    pytest.importorskip("mlflow")
    pytest.importorskip("sqlalchemy")
    from mlflow.tracking import MlflowClient

    tracker = flowkit.registry.create("callback", "mlflow", experiment="toy", run_name="first")
    history = Pipeline(config).fit(out=tmp_path, progress=False, callbacks=[tracker])
    client = MlflowClient(tracking_uri=f"sqlite:///{tmp_path / 'mlflow.db'}")
    experiment = client.get_experiment_by_name("toy")
    (run,) = client.search_runs([experiment.experiment_id])
    assert run.info.run_id == tracker.run_id and run.info.status == "FINISHED" and run.info.run_name == "first"
    assert run.data.params["train.lr"] == str(PipelineConfig.from_dict(config).train.lr)
    assert run.data.params["model"] == "mlp" and run.data.params["model.width"] == "16"
    assert run.data.tags["flowkit.provider.path"] == f"flowkit {flowkit.__version__}"
    assert run.data.tags["flowkit.checkpoint"] == f"{tmp_path / 'checkpoint'} (step 6)"
    losses = client.get_metric_history(run.info.run_id, "train/loss")
    assert {m.step: m.value for m in losses} == pytest.approx({r["step"]: r["loss"] for r in history})


@pytest.mark.parametrize(
    ("callback", "module", "install"),
    [
        (lambda: TensorBoardCallback(log_dir="tb"), "torch.utils.tensorboard", "tensorboard"),
        (lambda: MLflowCallback(tracking_uri="sqlite:///x.db"), "mlflow.tracking", "flowkit"),
    ],
)
def test_a_tracker_without_its_package_names_the_install_command(callback, module, install, monkeypatch):
    monkeypatch.setitem(sys.modules, module, None)  # a module set to None fails to import
    with pytest.raises(ConfigError, match=f"needs the .* package, which is not installed: pip install .*{install}"):
        callback().on_train_start(types.SimpleNamespace(out=None, initial_step=0))
