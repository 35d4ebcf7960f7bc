"""Training telemetry: a progress bar, a JSON-lines metrics file and TensorBoard when installed.

Every logged record is a flat ``{name: number}`` dict with at least ``step``. It is appended as
one JSON line to ``metrics.jsonl`` (flushed at once, so a crash loses nothing already logged;
after a resume, steps past the last checkpoint may appear twice and the later line wins),
written as TensorBoard scalars when the ``tensorboard`` package is installed, kept in memory,
and shown on a ``tqdm`` progress bar (loss and steps/s). The bar is shown only on a terminal
unless asked for; a process other than rank 0 logs nothing.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, TextIO

from tqdm.auto import tqdm

__all__ = ["METRICS_FILE", "TENSORBOARD_DIR", "TrainingMonitor", "tensorboard_writer"]

METRICS_FILE = "metrics.jsonl"
TENSORBOARD_DIR = "tensorboard"


def tensorboard_writer(directory: Path) -> Any | None:
    """A ``SummaryWriter`` for ``directory``, or ``None`` when TensorBoard is not installed."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        return None
    return SummaryWriter(log_dir=str(directory))


class TrainingMonitor:
    """Shows and records training progress between ``initial_step`` and ``total_steps``.

    ``out``: run directory for ``metrics.jsonl`` and ``tensorboard/`` (nothing is written when
    ``None``); ``progress``: show the bar (``None``: only when stderr is a terminal);
    ``enabled``: whether this process reports at all (rank 0 under ``torchrun``).
    """

    def __init__(
        self,
        *,
        initial_step: int,
        total_steps: int,
        out: Path | None,
        progress: bool | None,
        enabled: bool = True,
    ):
        self.history: list[dict[str, float]] = []
        self.enabled = enabled
        self._file: TextIO | None = None
        self._writer: Any | None = None
        if enabled and out is not None:
            out.mkdir(parents=True, exist_ok=True)
            self._file = open(out / METRICS_FILE, "a", encoding="utf-8")
            self._writer = tensorboard_writer(out / TENSORBOARD_DIR)
        if progress is None:
            progress = sys.stderr.isatty()
        self._bar = tqdm(
            total=total_steps,
            initial=initial_step,
            unit="step",
            dynamic_ncols=True,
            disable=not (enabled and progress),
            leave=True,
        )

    def advance(self, steps: int = 1) -> None:
        """Move the progress bar by ``steps``."""
        self._bar.update(steps)

    def log(self, record: dict[str, float]) -> None:
        """Record one set of metrics (``record["step"]`` is the step they belong to)."""
        if not self.enabled:
            return
        self.history.append(record)
        if self._file is not None:
            self._file.write(json.dumps(record) + "\n")
            self._file.flush()
        if self._writer is not None:
            for name, value in record.items():
                if name != "step":
                    self._writer.add_scalar(f"train/{name}", value, global_step=int(record["step"]))
        if "loss" in record:
            self._bar.set_postfix(
                loss=f"{record['loss']:.4g}", it_s=f"{record.get('steps_per_second', 0.0):.1f}", refresh=False
            )

    def write(self, message: str) -> None:
        """Print a message without breaking the progress bar (rank 0 only)."""
        if self.enabled:
            self._bar.write(message, file=sys.stderr)

    def close(self) -> None:
        """Close the bar and the files."""
        self._bar.close()
        if self._file is not None:
            self._file.close()
            self._file = None
        if self._writer is not None:
            self._writer.close()
            self._writer = None
