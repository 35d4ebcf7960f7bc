"""The ``evaluate`` callback: :meth:`flowkit.Pipeline.evaluate` every ``every`` steps during training.

At each step ``s`` with ``s % every == 0`` (and at the last step of the run when ``at_end``) the
callback calls ``run.evaluate(num_samples=, metrics=, solver=)``: the metrics (e.g. the energy
distance between generated and held-out points) go to every callback's ``on_evaluation`` (the
trackers log them as ``eval/<name>``) and to ``run.evaluations``. Evaluation forks torch's
random state, so the training continues exactly as without it. It costs one evaluation per
``every`` steps; its step hook only compares integers.
"""

from __future__ import annotations

from typing import Any

from flowkit.core import Callback, TrainingRun
from flowkit.validation import require_int

__all__ = ["EvaluateEvery"]


class EvaluateEvery(Callback):
    """Evaluate every ``every`` steps (``num_samples``, ``metrics``, ``solver``: as in ``Pipeline.evaluate``)."""

    def __init__(
        self,
        every: int,
        *,
        num_samples: int | None = None,
        metrics: list[str] | None = None,
        solver: Any = None,
        at_end: bool = True,
    ):
        self.every = require_int("callback 'evaluate': every", every, minimum=1)
        self.options = {"num_samples": num_samples, "metrics": metrics, "solver": solver}
        self.at_end = bool(at_end)

    def on_step_end(self, run: TrainingRun, step: int) -> None:
        if step % self.every == 0 or (self.at_end and step == run.total_steps):
            run.evaluate(**self.options)
