"""Graceful stops of a training run on SIGINT / SIGTERM: finish the step, save, say which step was kept.

:class:`StopSignals` is a context manager that, while active, replaces the SIGINT and SIGTERM
handlers of the process (only possible in the main thread; elsewhere it does nothing):

- the **first** signal only sets a flag: the trainer asks :meth:`StopSignals.should_stop` after
  each completed step, writes a checkpoint at that step and raises
  :class:`flowkit.exceptions.TrainingInterrupted` naming the step kept;
- a **second** signal raises ``KeyboardInterrupt`` at once, wherever the program is; checkpoints
  are written atomically (:mod:`flowkit.atomic`), so the previous one stays intact.

Under ``torchrun`` each process may receive the signal at a different step (or only one of
them receives it), yet all must stop at the same step, since the checkpoint is a collective
call. The flag is therefore agreed on by an all-reduce (maximum) over the processes, made
every ``sync_every`` steps only (one tiny collective and one host synchronisation per
``sync_every`` steps, off the other steps): all processes see the same answer at the same step,
and a stop is taken at most ``sync_every`` steps after the first process got the signal. With
one process the flag is a plain Python attribute, read at no cost after every step.

A training callback's stop request (:meth:`StopSignals.request`, e.g. early stopping) takes the
same way: it is agreed on like a signal (as the code :data:`STOP_REQUEST`, below every signal
number, so a real signal on any process wins the maximum), and the trainer stops and checkpoints
at the agreed step; :attr:`StopSignals.requested_stop` then tells ``fit`` to return normally
instead of raising :class:`flowkit.exceptions.TrainingInterrupted`.

Ctrl-C in a terminal reaches ``torchrun`` and its workers at once, and ``torchrun`` then sends
the workers the same signal again; so under ``torchrun`` a repeat within
:data:`TORCHRUN_REPEAT_WINDOW` seconds of the first signal is taken as that copy, not as a
second Ctrl-C (``torchrun`` waits 30 s for its workers before killing them, time enough to save).
"""

from __future__ import annotations

import signal
import sys
import threading
import time
from types import FrameType, TracebackType

import torch
import torch.distributed as dist

from flowkit.pipeline.distributed import DistributedContext

__all__ = ["DEFAULT_SYNC_EVERY", "STOP_REQUEST", "TORCHRUN_REPEAT_WINDOW", "StopSignals"]

DEFAULT_SYNC_EVERY = 10
"""Steps between two agreements on the stop flag under ``torchrun``."""
TORCHRUN_REPEAT_WINDOW = 2.0
"""Seconds after a first signal in which a repeat is ``torchrun``'s forwarded copy (multi-process only)."""

STOP_REQUEST = 1
"""The stop flag of a callback's request (signal numbers of SIGINT / SIGTERM are larger)."""

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignals:
    """Turns SIGINT / SIGTERM into a stop request between two training steps (see the module doc).

    ``context``/``device``: the process group the decision is agreed across (the flag is
    reduced on ``device``, which NCCL requires to be the process's CUDA device);
    ``sync_every``: steps between two agreements when more than one process takes part;
    ``announce``: whether to print a line on the first signal (rank 0 only, normally).
    """

    def __init__(
        self,
        context: DistributedContext | None = None,
        *,
        device: torch.device | None = None,
        sync_every: int = DEFAULT_SYNC_EVERY,
        announce: bool = True,
    ):
        self.context = context or DistributedContext()
        self.device = device or torch.device("cpu")
        self.sync_every = max(1, int(sync_every))
        self.announce = announce
        self.repeat_window = TORCHRUN_REPEAT_WINDOW if self.context.active else 0.0
        self.received: int | None = None
        """The first signal received (its number), or ``None``."""
        self.agreed: int | None = None
        """The signal (or :data:`STOP_REQUEST`) on which every process agreed to stop, or ``None``."""
        self.reason: str | None = None
        """Why a stop was requested by :meth:`request` (this process only), or ``None``."""
        self._calls = 0
        self._received_at = 0.0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> StopSignals:
        if threading.current_thread() is threading.main_thread():
            for number in _SIGNALS:
                self._previous[number] = signal.signal(number, self._handle)
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)  # type: ignore[arg-type]
        self._previous.clear()

    def _handle(self, number: int, frame: FrameType | None) -> None:
        if self.received is not None:
            if time.monotonic() - self._received_at < self.repeat_window:
                return  # torchrun forwarding the Ctrl-C this process already got
            raise KeyboardInterrupt  # the second signal: abort at once
        self.received, self._received_at = number, time.monotonic()
        if self.announce:
            print(
                f"flowkit: {signal.Signals(number).name} received: finishing the current step and saving a "
                "checkpoint (send it again to abort at once; the previous checkpoint stays intact)",
                file=sys.stderr,
                flush=True,
            )

    def request(self, reason: str) -> None:
        """Ask to stop after the current step, without a signal (a training callback's request)."""
        if self.reason is None:
            self.reason = reason

    @property
    def requested_stop(self) -> bool:
        """Whether the agreed stop came from :meth:`request` rather than a signal."""
        return self.agreed == STOP_REQUEST

    def _local_flag(self) -> int | None:
        if self.received is not None:
            return self.received
        return STOP_REQUEST if self.reason is not None else None

    def should_stop(self) -> bool:
        """Whether to stop now (called by every process after each completed step)."""
        if self.agreed is not None:
            return True
        if not self.context.active:
            self.agreed = self._local_flag()
            return self.agreed is not None
        self._calls += 1
        if self._calls % self.sync_every:
            return False
        flag = torch.tensor([self._local_flag() or 0], device=self.device)
        dist.all_reduce(flag, op=dist.ReduceOp.MAX)
        value = int(flag.item())
        self.agreed = value or None
        return self.agreed is not None

    @property
    def signal_name(self) -> str:
        """The name of the agreed (or received) signal, e.g. ``"SIGINT"``."""
        number = self.agreed or self.received
        return signal.Signals(number).name if number and number != STOP_REQUEST else "a stop request"
