"""The learning-rate schedule: linear warm-up, then cosine, linear or constant decay.

For base rate ``lr``, ``T`` steps in the run, ``W = min(warmup_steps, T)`` warm-up steps and
floor ratio ``r = min_lr_ratio``, the rate used at step ``s = 0, ..., T - 1`` is

    lr_s = lr (s + 1) / W                                 for s < W,
    lr_s = lr (r + (1 - r) f(p)),  p = (s - W) / (T - W)   for s >= W,

with ``f(p) = (1 + cos(pi p)) / 2`` (cosine), ``1 - p`` (linear) or ``1`` (constant). The rate
depends on the step alone, so it needs no saved state and resumes exactly.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from flowkit.exceptions import InvalidParameterError

if TYPE_CHECKING:
    from flowkit.pipeline.config import TrainConfig

__all__ = ["configured_learning_rate", "describe_schedule_change", "learning_rate"]


def learning_rate(step: int, *, lr: float, steps: int, warmup_steps: int, schedule: str, min_lr_ratio: float) -> float:
    """The learning rate ``lr_s`` of step ``step`` (0-based) in a run of ``steps`` steps."""
    warmup = min(warmup_steps, steps)
    if step < warmup:
        return lr * (step + 1) / warmup
    if schedule == "constant":
        return lr
    progress = min(1.0, (step - warmup) / max(1, steps - warmup))
    if schedule == "cosine":
        shape = 0.5 * (1.0 + math.cos(math.pi * progress))
    elif schedule == "linear":
        shape = 1.0 - progress
    else:
        raise InvalidParameterError(f"unknown learning-rate schedule {schedule!r}; accepted: cosine, linear, constant")
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * shape)


def configured_learning_rate(config: TrainConfig, step: int) -> float:
    """:func:`learning_rate` of step ``step`` under the schedule settings of ``config`` (``train.lr``, ...)."""
    return learning_rate(
        step,
        lr=config.lr,
        steps=config.steps,
        warmup_steps=config.warmup_steps,
        schedule=config.lr_schedule,
        min_lr_ratio=config.min_lr_ratio,
    )


def describe_schedule_change(before: TrainConfig, after: TrainConfig, step: int) -> str | None:
    """One line saying how the rate of the next step ``step`` changes from ``before`` to ``after``.

    ``None`` when no step has been taken yet or the schedule settings are the same.
    """
    keys = ("lr", "steps", "warmup_steps", "lr_schedule", "min_lr_ratio")
    settings = [(getattr(before, k), getattr(after, k)) for k in keys]
    if step == 0 or all(old == new for old, new in settings):
        return None
    changed = ", ".join(f"train.{k} {old} -> {new}" for k, (old, new) in zip(keys, settings) if old != new)
    return (
        f"schedule changed at step {step} ({changed}): the {after.lr_schedule} learning-rate schedule now spans "
        f"{after.steps} steps; the rate of step {step + 1} is {configured_learning_rate(after, step):.3g} instead of "
        f"{configured_learning_rate(before, step):.3g}"
    )
