"""The training-callback interface: code that :meth:`flowkit.Pipeline.fit` runs at fixed points.

A :class:`Callback` overrides any of its hooks; each gets the :class:`TrainingRun` (the pipeline,
the run directory, the steps, a way to stop) first:

====================================  ===============================================================
``on_train_start(run)``               once, before the first step of this ``fit``
``on_step_end(run, step)``            after every optimisation step, with its number (1-based)
``on_log(run, record)``               for each logged record (``{"step", "loss", "lr", ...}``)
``on_evaluation(run, metrics)``       after each ``run.evaluate()`` (by this or another callback)
``on_checkpoint(run, path)``          after each checkpoint written to ``run.out``
``on_train_end(run)``                 once at the end (``run.outcome`` says how it ended)
====================================  ===============================================================

``on_step_end`` gets the step number only, never a tensor: the training step may be a replayed
CUDA graph, and reading a device value after every step would stall it. A callback that does
not override ``on_step_end`` costs nothing per step (the loop does not call it). Callbacks run
in the process that reports (rank 0 under ``torchrun``); ``run.request_stop(reason)`` ends the
training within the next step (within ``sync_every`` steps under ``torchrun``, where every
process agrees on it), with a checkpoint of the step it stopped at.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol

__all__ = ["Callback", "TrainingRun"]


class TrainingRun(Protocol):
    """What a callback sees of the training run (the pipeline's :class:`flowkit.pipeline.callbacks.Run`)."""

    pipeline: Any
    """The :class:`flowkit.Pipeline` being trained."""
    out: Path | None
    """The run directory given to ``fit(out=...)``, or ``None``."""
    initial_step: int
    """The step this ``fit`` started from (``> 0`` when resuming)."""
    total_steps: int
    """The steps of the whole run (``train.steps``)."""
    outcome: str
    """``"running"``, then ``"completed"``, ``"stopped"`` (a stop request), ``"interrupted"``
    (a signal) or ``"failed"`` (an exception)."""

    @property
    def step(self) -> int:
        """Optimisation steps taken so far."""

    def request_stop(self, reason: str) -> None:
        """Ask training to stop after the current step; ``fit`` then returns normally."""

    def evaluate(self, **kwargs: Any) -> dict[str, float]:
        """Run :meth:`flowkit.Pipeline.evaluate` now (training's random streams untouched) and
        pass the metrics to every callback's ``on_evaluation``."""

    def write(self, message: str) -> None:
        """Print a line without breaking the progress bar."""


class Callback:
    """Base class of training callbacks: override the hooks you need (see the module docstring)."""

    def on_train_start(self, run: TrainingRun) -> None:
        """Called once before the first step of a ``fit``."""

    def on_step_end(self, run: TrainingRun, step: int) -> None:
        """Called after every optimisation step with its number; only when overridden."""

    def on_log(self, run: TrainingRun, record: Mapping[str, float]) -> None:
        """Called for every logged record (every ``train.log_every`` steps and at checkpoints)."""

    def on_evaluation(self, run: TrainingRun, metrics: Mapping[str, float]) -> None:
        """Called with the metrics of every ``run.evaluate()`` during training."""

    def on_checkpoint(self, run: TrainingRun, path: str) -> None:
        """Called after a checkpoint was written to ``path``."""

    def on_train_end(self, run: TrainingRun) -> None:
        """Called once when the ``fit`` ends, also when it failed (``run.outcome``)."""

    @property
    def has_step_hook(self) -> bool:
        """Whether this callback overrides :meth:`on_step_end` (else the loop never calls it)."""
        return type(self).on_step_end is not Callback.on_step_end
