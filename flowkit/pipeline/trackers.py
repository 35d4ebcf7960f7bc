"""Experiment trackers as training callbacks: TensorBoard (``tensorboard``) and MLflow (``mlflow``).

Both write every logged record ``{"step": s, "loss": ..., "lr": ..., ...}`` as scalars
``train/<name>`` at step ``s``, and the metrics of each evaluation during training
(``run.evaluate()``) as ``eval/<name>`` at the step they were taken.

**TensorBoard** (:class:`TensorBoardCallback`, needs the ``tensorboard`` package): event files in
``log_dir`` (default ``<out>/tensorboard``). A run resumed at step ``s`` tells TensorBoard to
purge the events after ``s`` left by the interrupted run, so each step is shown once; a fresh run
(step 0) moves an old ``<out>/tensorboard`` aside to ``tensorboard.old`` (``.old1``, ...).

**MLflow** (:class:`MLflowCallback`, needs ``mlflow-skinny`` and, for the default SQLite store,
``sqlalchemy`` and ``alembic``: ``pip install 'flowkit[mlflow]'``): one MLflow run per ``fit`` in
``experiment``, at ``tracking_uri`` (default: the local store ``sqlite:///<out>/mlflow.db``, no
server needed; MLflow's plain-folder store is deprecated and refuses to start by default). The
run gets the flattened pipeline configuration as parameters (``train.lr``, ``path``,
``model.width``, ...), the providing distribution of each component as tags, the records as
metrics, the last checkpoint as the tag ``flowkit.checkpoint``, and ends ``FINISHED`` (or
``KILLED`` / ``FAILED``). A resumed run is a new MLflow run whose metrics continue at the steps
they belong to (tag ``flowkit.initial_step``).
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flowkit.core import Callback, TrainingRun
from flowkit.exceptions import ConfigError, InvalidParameterError
from flowkit.pipeline.monitor import move_aside

__all__ = ["MLflowCallback", "TENSORBOARD_DIR", "TensorBoardCallback", "flatten"]

TENSORBOARD_DIR = "tensorboard"
MLFLOW_DB = "mlflow.db"


def flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables as one level of dotted keys: ``{"train": {"lr": 1e-3}} -> {"train.lr": 1e-3}``;
    a component table's ``name`` goes to the component's own key (``{"model": "mlp", "model.width": 64}``)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, Mapping):
            inner = dict(value)
            if "name" in inner:
                out[dotted] = inner.pop("name")
            out.update(flatten(inner, dotted))
        else:
            out[dotted] = value
    return out


def _optional_import(module: str, name: str, package: str, install: str) -> Any:
    """``module.name`` for the callback named after ``package``; when that is not installed, a ConfigError says
    so and how to install it (``install``)."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError:
        raise ConfigError(
            f"callback {package!r} needs the {package} package, which is not installed: {install}"
        ) from None


class TensorBoardCallback(Callback):
    """TensorBoard scalars of training (``train/<name>``) and evaluations (``eval/<name>``).

    ``log_dir``: where the event files go (default ``<out>/tensorboard``; without ``fit(out=)``
    it must be given).
    """

    def __init__(self, log_dir: str | None = None):
        self.log_dir = log_dir
        self._writer: Any = None

    def on_train_start(self, run: TrainingRun) -> None:
        if self.log_dir is None and run.out is None:
            raise ConfigError("callback 'tensorboard' needs a directory: train with fit(out=...) or give log_dir=")
        summary_writer = _optional_import(
            "torch.utils.tensorboard", "SummaryWriter", "tensorboard", "pip install tensorboard"
        )
        if self.log_dir is not None:
            directory = Path(self.log_dir)
        else:
            assert run.out is not None, "checked above: log_dir or out is given"
            directory = run.out / TENSORBOARD_DIR
            if run.initial_step == 0:
                note = move_aside(directory)
                if note:
                    run.write(note)
        purge_step = run.initial_step + 1 if run.initial_step else None
        self._writer = summary_writer(log_dir=str(directory), purge_step=purge_step)

    def on_log(self, run: TrainingRun, record: Mapping[str, float]) -> None:
        step = int(record["step"])
        for name, value in record.items():
            if name != "step":
                self._writer.add_scalar(f"train/{name}", value, global_step=step)

    def on_evaluation(self, run: TrainingRun, metrics: Mapping[str, float]) -> None:
        for name, value in metrics.items():
            self._writer.add_scalar(f"eval/{name}", value, global_step=run.step)

    def on_train_end(self, run: TrainingRun) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


class MLflowCallback(Callback):
    """An MLflow run per ``fit``: parameters, metrics, provenance tags, checkpoint (see the module doc).

    ``tracking_uri``: MLflow's store (default ``sqlite:///<out>/mlflow.db``; without ``fit(out=)``
    it must be given); ``experiment``: the experiment's name (created if missing); ``run_name``:
    the MLflow run's name (default: MLflow's); ``tags``: extra tags of the run.
    """

    def __init__(
        self,
        tracking_uri: str | None = None,
        experiment: str = "flowkit",
        run_name: str | None = None,
        tags: Mapping[str, str] | None = None,
    ):
        if not isinstance(experiment, str) or not experiment:
            raise InvalidParameterError(f"callback 'mlflow': experiment must be a non-empty string, got {experiment!r}")
        self.tracking_uri = tracking_uri
        self.experiment = experiment
        self.run_name = run_name
        self.tags = dict(tags or {})
        self._client: Any = None
        self.run_id: str | None = None
        """The MLflow run's id once training started."""

    def on_train_start(self, run: TrainingRun) -> None:
        if self.tracking_uri is None and run.out is None:
            raise ConfigError("callback 'mlflow' needs a store: train with fit(out=...) or give tracking_uri=")
        client = _optional_import("mlflow.tracking", "MlflowClient", "mlflow", "pip install 'flowkit[mlflow]'")
        if self.tracking_uri is not None:
            uri, artifacts = self.tracking_uri, None
        else:
            assert run.out is not None, "checked above: tracking_uri or out is given"
            run.out.mkdir(parents=True, exist_ok=True)
            uri, artifacts = (
                f"sqlite:///{(run.out / MLFLOW_DB).resolve()}",
                (run.out / "mlartifacts").resolve().as_uri(),
            )
        self._client = client(tracking_uri=uri)
        found = self._client.get_experiment_by_name(self.experiment)
        experiment_id = (
            found.experiment_id if found is not None else self._client.create_experiment(self.experiment, artifacts)
        )
        pipeline = run.pipeline
        tags = {
            "flowkit.initial_step": str(run.initial_step),
            **({"flowkit.run_dir": str(run.out)} if run.out is not None else {}),
            **{
                f"flowkit.provider.{entry['key']}": f"{entry['distribution'] or entry['module']} {entry['version'] or ''}".strip()
                for entry in pipeline.provenance()
            },
            **self.tags,
        }
        self.run_id = self._client.create_run(experiment_id, run_name=self.run_name, tags=tags).info.run_id
        from mlflow.entities import Param

        params = [Param(key, str(value)) for key, value in flatten(pipeline.config.to_dict()).items()]
        for start in range(0, len(params), 100):  # MLflow takes at most 100 parameters per call
            self._client.log_batch(self.run_id, params=params[start : start + 100])

    def _log(self, values: Mapping[str, float], prefix: str, step: int) -> None:
        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        metrics = [
            Metric(f"{prefix}/{name}", float(value), now, step) for name, value in values.items() if name != "step"
        ]
        self._client.log_batch(self.run_id, metrics=metrics)

    def on_log(self, run: TrainingRun, record: Mapping[str, float]) -> None:
        self._log(record, "train", int(record["step"]))

    def on_evaluation(self, run: TrainingRun, metrics: Mapping[str, float]) -> None:
        self._log(metrics, "eval", run.step)

    def on_checkpoint(self, run: TrainingRun, path: str) -> None:
        self._client.set_tag(self.run_id, "flowkit.checkpoint", f"{path} (step {run.step})")

    def on_train_end(self, run: TrainingRun) -> None:
        if self.run_id is None:
            return
        status = {"completed": "FINISHED", "stopped": "FINISHED", "interrupted": "KILLED"}.get(run.outcome, "FAILED")
        self._client.set_terminated(self.run_id, status=status)
