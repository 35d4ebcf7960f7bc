"""Running training callbacks (:class:`flowkit.Callback`) around :meth:`flowkit.Pipeline.fit`.

Callbacks come from the configuration (``callbacks = ["tensorboard", {name = "mlflow"}]``,
registered components of kind ``callback``) followed by those passed to
``fit(callbacks=[...])`` (objects, names or ``{name, **params}`` tables), and run in that order.
:class:`Run` is what they see (:class:`flowkit.TrainingRun`); :class:`CallbackList` calls their
hooks:

- ``on_step_end`` only through :meth:`CallbackList.step_hook`, which is ``None`` when no callback
  overrides it, so the training loop then calls nothing per step;
- a stop asked for by ``run.request_stop(reason)`` goes through the trainer's ``should_stop``
  (:meth:`flowkit.pipeline.interrupts.StopSignals.request`): the run stops and checkpoints at an
  agreed step and ``fit`` returns normally, with ``run.outcome == "stopped"``;
- ``run.evaluate()`` runs :meth:`flowkit.Pipeline.evaluate` inside a fork of torch's global
  random state, so evaluating during training leaves the training's random streams (and an
  exact resume) untouched, and passes the metrics to every ``on_evaluation``.

Callbacks run only in the process that reports (rank 0 under ``torchrun``); other processes
build none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from flowkit import registry
from flowkit.core import Callback
from flowkit.exceptions import ConfigError
from flowkit.pipeline.config import ComponentConfig
from flowkit.pipeline.interrupts import StopSignals
from flowkit.pipeline.monitor import TrainingMonitor

__all__ = ["CallbackList", "Run", "build_callbacks"]


def _create(component: ComponentConfig, where: str) -> Callback:
    callback = registry.create("callback", component.name, **dict(component.params))
    if not isinstance(callback, Callback):
        raise ConfigError(
            f"{where}: callback {component.name!r} built a {type(callback).__name__}, not a flowkit.Callback"
        )
    return callback


def build_callbacks(configured: Iterable[ComponentConfig], given: Iterable[Any] = ()) -> list[Callback]:
    """The configured callbacks, then ``given`` ones (a :class:`flowkit.Callback`, a registered
    name or a ``{name, **params}`` table each)."""
    callbacks = [_create(component, f"callbacks[{index}]") for index, component in enumerate(configured)]
    if isinstance(given, (str, Mapping, Callback)):
        given = [given]
    for index, item in enumerate(given):
        where = f"fit(callbacks=...)[{index}]"
        if isinstance(item, Callback):
            callbacks.append(item)
        elif isinstance(item, (str, Mapping)):
            callbacks.append(_create(ComponentConfig.parse(item, key=where), where))
        else:
            raise ConfigError(
                f"{where} is a {type(item).__name__}; accepted: a flowkit.Callback object, a registered "
                f"callback name ({', '.join(registry.names('callback'))}) or a table {{name = ..., ...}}"
            )
    return callbacks


class Run:
    """One ``fit`` as callbacks see it (implements :class:`flowkit.TrainingRun`).

    ``history`` holds the logged records so far and ``evaluations`` the ``{"step", **metrics}``
    of each :meth:`evaluate`; ``stop_reason`` is the reason of the first stop request.
    """

    def __init__(
        self,
        pipeline: Any,
        *,
        out: Path | None,
        total_steps: int,
        stop: StopSignals,
        monitor: TrainingMonitor,
        callbacks: list[Callback],
    ):
        self.pipeline = pipeline
        self.out = out
        self.initial_step = int(pipeline.step)
        self.total_steps = int(total_steps)
        self.outcome = "running"
        self.history = monitor.history
        self.evaluations: list[dict[str, float]] = []
        self._stop = stop
        self._monitor = monitor
        self._callbacks = callbacks

    @property
    def step(self) -> int:
        """Optimisation steps taken so far."""
        return int(self.pipeline.step)

    @property
    def stop_reason(self) -> str | None:
        """The reason given to the first :meth:`request_stop`, or ``None``."""
        return self._stop.reason

    def request_stop(self, reason: str) -> None:
        """Ask training to stop after the current step (it checkpoints there and ``fit`` returns)."""
        self._stop.request(str(reason))

    def evaluate(self, **kwargs: Any) -> dict[str, float]:
        """:meth:`flowkit.Pipeline.evaluate` with ``kwargs`` now, leaving training's random streams
        untouched; the metrics go to every callback's ``on_evaluation`` and are returned."""
        device = self.pipeline.device
        devices = [device.index or 0] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):
            metrics = self.pipeline.evaluate(**kwargs)
        self.evaluations.append({"step": self.step, **metrics})
        for callback in self._callbacks:
            callback.on_evaluation(self, metrics)
        return metrics

    def write(self, message: str) -> None:
        """Print a line without breaking the progress bar."""
        self._monitor.write(message)


class CallbackList:
    """Calls the hooks of ``callbacks`` in order (see the module docstring)."""

    def __init__(self, callbacks: list[Callback]):
        self.callbacks = callbacks
        self.run: Run | None = None

    def __bool__(self) -> bool:
        return bool(self.callbacks)

    def _run(self) -> Run:
        if self.run is None:
            raise RuntimeError("CallbackList.run must be set before the hooks are called")
        return self.run

    def train_start(self) -> None:
        for callback in self.callbacks:
            callback.on_train_start(self._run())

    def step_hook(self) -> Callable[[int], None] | None:
        """``on_step(step)`` for the trainer, or ``None`` when no callback has a step hook."""
        stepping = [callback for callback in self.callbacks if callback.has_step_hook]
        if not stepping:
            return None
        run = self._run()

        def on_step(step: int) -> None:
            for callback in stepping:
                callback.on_step_end(run, step)

        return on_step

    def log(self, record: Mapping[str, float]) -> None:
        for callback in self.callbacks:
            callback.on_log(self._run(), record)

    def checkpoint(self, path: str) -> str:
        """Tell every callback about the checkpoint at ``path``; returns ``path``."""
        for callback in self.callbacks:
            callback.on_checkpoint(self._run(), path)
        return path

    def train_end(self) -> None:
        for callback in self.callbacks:
            callback.on_train_end(self._run())
