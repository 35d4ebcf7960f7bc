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

__all__ = ["learning_rate"]


def learning_rate(
    step: int, *, lr: float, steps: int, warmup_steps: int, schedule: str, min_lr_ratio: float
) -> float:
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
        raise ValueError(f"unknown learning-rate schedule {schedule!r}; accepted: cosine, linear, constant")
    return lr * (min_lr_ratio + (1.0 - min_lr_ratio) * shape)
