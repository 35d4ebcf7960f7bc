"""Peak memory of one benchmark cell.

:class:`PeakMemory` measures, for the code run inside it:

- on CUDA: ``torch.cuda.max_memory_allocated`` after resetting the peak statistics
  (``measure = "cuda_max_allocated"``: tensor memory on the device);
- on Linux (CPU and other devices): the process's peak resident set size, ``VmHWM`` of
  ``/proc/self/status``, after resetting it by writing ``5`` to ``/proc/self/clear_refs``
  (``measure = "process_peak_rss"``: it includes the interpreter and libraries, so compare cells
  with each other rather than read it as the model's footprint);
- elsewhere: ``ru_maxrss`` of ``getrusage``, the peak over the whole process lifetime
  (``measure = "process_lifetime_peak_rss"``), or nothing where that is unavailable (Windows:
  ``bytes = None``, ``measure = "unavailable"``).
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch

__all__ = ["PeakMemory"]

_CLEAR_REFS = Path("/proc/self/clear_refs")
_STATUS = Path("/proc/self/status")


def _reset_rss_peak() -> bool:
    try:
        _CLEAR_REFS.write_text("5")
        return True
    except OSError:
        return False


def _rss_peak_bytes() -> int | None:
    try:
        for line in _STATUS.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


class PeakMemory:
    """A context manager; after it exits, :attr:`bytes` and :attr:`measure` hold the peak."""

    def __init__(self, device: torch.device):
        self.device = device
        self.bytes: int | None = None
        self.measure = ""
        self._rss_reset = False

    def __enter__(self) -> PeakMemory:
        if self.device.type == "cuda":
            torch.cuda.reset_peak_memory_stats(self.device)
        else:
            self._rss_reset = _reset_rss_peak()
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.device.type == "cuda":
            self.bytes, self.measure = int(torch.cuda.max_memory_allocated(self.device)), "cuda_max_allocated"
            return
        peak = _rss_peak_bytes() if self._rss_reset else None
        if peak is not None:
            self.bytes, self.measure = peak, "process_peak_rss"
            return
        try:
            import resource
        except ImportError:
            self.bytes, self.measure = None, "unavailable"
            return
        maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.bytes = int(maxrss if sys.platform == "darwin" else maxrss * 1024)
        self.measure = "process_lifetime_peak_rss"
