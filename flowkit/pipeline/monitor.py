"""Training telemetry: a progress bar or progress lines and a JSON-lines metrics file.

Every logged record is a flat ``{name: number}`` dict with at least ``step``. It is appended as
one JSON line to ``metrics.jsonl`` (flushed at once, so a crash loses nothing already logged),
kept in memory, shown as progress and handed to ``on_log`` (the training callbacks of
:mod:`flowkit.pipeline.callbacks`, e.g. ``tensorboard``). A process other than rank 0 logs nothing.

**One record per step.** A run resumed at step ``s`` (its checkpoint's) first cuts
``metrics.jsonl`` back to the records of steps ``<= s`` (atomically; a torn last line from a
crash goes too), so the log of a run that was killed and resumed any number of times holds each
step once. A fresh run (step 0) in a directory with an old log moves the old ``metrics.jsonl``
aside to ``metrics.jsonl.old`` (``.old1``, ``.old2``, ... if taken, :func:`move_aside`) and says so.

**Progress.** On a terminal (standard error) a ``tqdm`` bar shows loss and steps/s. Elsewhere
(output redirected to a file, a batch job) one line is printed per logged record, at most every
``interval`` seconds (and for the last record): step ``s`` of ``T``, the loss, the rate ``r``
in steps/s since the start of this run and the ETA ``(T - s) / r``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from tqdm.auto import tqdm

from flowkit.atomic import atomic_write_text
from flowkit.exceptions import OutputError

__all__ = ["METRICS_FILE", "TrainingMonitor", "format_duration", "move_aside"]

METRICS_FILE = "metrics.jsonl"


def format_duration(seconds: float) -> str:
    """``seconds`` as ``"42s"``, ``"3m05s"`` or ``"2h07m"``."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def move_aside(path: Path) -> str | None:
    """Rename ``path`` (a file or folder of an earlier run) to the first free name among
    ``<path>.old``, ``<path>.old1``, ...; returns the line that tells the user, or ``None``
    when there is nothing at ``path``."""
    if not path.exists():
        return None
    candidate, number = path.with_name(path.name + ".old"), 0
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.name}.old{number}")
    os.replace(path, candidate)
    return f"a new run starts in {path.parent}: moved the old {path.name} aside to {candidate}"


def _truncate_log(path: Path, step: int) -> int:
    """Keep the complete records of steps ``<= step`` in ``path``; returns how many were dropped."""
    kept, dropped = [], 0
    for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
        try:
            record_step = json.loads(line)["step"] if line.endswith("\n") else None
        except (ValueError, KeyError, TypeError):
            record_step = None
        if record_step is not None and record_step <= step:
            kept.append(line)
        else:
            dropped += 1
    if dropped:
        atomic_write_text(path, "".join(kept))
    return dropped


class TrainingMonitor:
    """Shows and records training progress between ``initial_step`` and ``total_steps``.

    ``out``: run directory for ``metrics.jsonl`` (nothing is written when ``None``); ``on_log``:
    called with each record after it is written (rank 0 only); ``progress``: ``True`` shows the bar, ``False`` nothing, ``None`` the bar when
    stderr is a terminal and progress lines (at most every ``interval`` seconds) otherwise;
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
        interval: float = 30.0,
        on_log: Callable[[dict[str, float]], None] | None = None,
    ):
        self.history: list[dict[str, float]] = []
        self.enabled = enabled
        self.total_steps = total_steps
        self.interval = interval
        self._file: TextIO | None = None
        self._on_log = on_log
        notes: list[str] = []
        if enabled and out is not None:
            try:
                notes = self._prepare(out, initial_step)
                self._file = open(out / METRICS_FILE, "a", encoding="utf-8")
            except OSError as exc:
                raise OutputError(f"cannot write the training log in {out}: {exc.strerror or exc}") from exc
        if progress is None:
            progress = sys.stderr.isatty()
            self._lines = not progress
        else:
            self._lines = False
        self._start_step, self._start_time, self._last_line = initial_step, time.perf_counter(), -float("inf")
        self._bar = tqdm(
            total=total_steps,
            initial=initial_step,
            unit="step",
            dynamic_ncols=True,
            disable=not (enabled and progress),
            leave=True,
        )
        for note in notes:
            self.write(note)

    @staticmethod
    def _prepare(out: Path, initial_step: int) -> list[str]:
        """Make ``out``'s log fit a run starting at ``initial_step``; returns what to tell the user."""
        out.mkdir(parents=True, exist_ok=True)
        log = out / METRICS_FILE
        if not log.exists() or log.stat().st_size == 0:
            return []
        if initial_step > 0:
            dropped = _truncate_log(log, initial_step)
            return (
                [f"{log}: dropped {dropped} line(s) past step {initial_step}, the step resumed from"] if dropped else []
            )
        note = move_aside(log)
        return [note] if note else []

    def advance(self, steps: int = 1) -> None:
        """Move the progress bar by ``steps``."""
        self._bar.update(steps)

    def log(self, record: dict[str, float]) -> None:
        """Record one set of metrics (``record["step"]`` is the step they belong to)."""
        if not self.enabled:
            return
        self.history.append(record)
        if self._file is not None:
            try:
                self._file.write(json.dumps(record) + "\n")
                self._file.flush()
            except OSError as exc:
                raise OutputError(f"cannot write the training log {self._file.name}: {exc.strerror or exc}") from exc
        if "loss" in record:
            self._bar.set_postfix(
                loss=f"{record['loss']:.4g}", it_s=f"{record.get('steps_per_second', 0.0):.1f}", refresh=False
            )
        if self._lines:
            self._progress_line(record)
        if self._on_log is not None:
            self._on_log(record)

    def _progress_line(self, record: dict[str, float]) -> None:
        now, step = time.perf_counter(), int(record["step"])
        if now - self._last_line < self.interval and step < self.total_steps:
            return
        self._last_line = now
        rate = (step - self._start_step) / max(now - self._start_time, 1e-9)
        eta = format_duration((self.total_steps - step) / rate) if rate > 0 else "?"
        loss = f"  loss {record['loss']:.4g}" if "loss" in record else ""
        self.write(
            f"step {step}/{self.total_steps} ({100 * step / self.total_steps:.0f}%){loss}  {rate:.1f} steps/s  ETA {eta}"
        )

    def write(self, message: str) -> None:
        """Print a message without breaking the progress bar (rank 0 only)."""
        if self.enabled:
            self._bar.write(message, file=sys.stderr)
            sys.stderr.flush()

    def close(self) -> None:
        """Close the bar and the file."""
        self._bar.close()
        if self._file is not None:
            self._file.close()
            self._file = None
