"""``results.jsonl``: the append-only store of a suite's cell records.

Each record is one JSON object on one line. :meth:`ResultStore.append` writes a complete line
(``json + "\\n"``) with a single ``write`` on a file opened in append mode, then ``fsync``, so a
crash leaves either the whole line or a torn tail without its newline — never a torn line in the
middle. :meth:`ResultStore.load` drops such a tail (truncating the file back to its last complete
line) so that the cell it belonged to runs again; earlier records are never lost, and a record
is only counted once its newline is on disk. :meth:`ResultStore.rewrite` replaces the whole file
atomically (temporary file, then rename), e.g. to drop failed records before retrying them.

Values that JSON cannot hold exactly (NaN, infinities) are written as ``null``.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from flowkit.atomic import atomic_write_text, fsync_directory
from flowkit.exceptions import ConfigError

__all__ = ["ResultStore", "finite_json"]


def finite_json(value: Any) -> Any:
    """``value`` with every non-finite float replaced by ``None`` (recursively)."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_json(v) for v in value]
    return value


def _line(record: dict[str, Any]) -> bytes:
    return (json.dumps(finite_json(record), allow_nan=False, sort_keys=False) + "\n").encode("utf-8")


class ResultStore:
    """The records of ``path`` (a JSON-lines file), read with repair and appended atomically."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    def load(self) -> list[dict[str, Any]]:
        """Every complete record in file order; a torn last line is removed from the file.

        A malformed line that *is* complete (it ends with a newline, so no crash of ours wrote
        it) raises :class:`ConfigError` naming the line, rather than being silently dropped.
        """
        try:
            data = self.path.read_bytes()
        except FileNotFoundError:
            return []
        complete = data.rfind(b"\n") + 1
        if complete < len(data):
            self._truncate(complete)
        records = []
        for number, raw in enumerate(data[:complete].splitlines(), start=1):
            if not raw.strip():
                continue
            try:
                record = json.loads(raw)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise ConfigError(
                    f"{self.path} line {number} is not a JSON record ({exc}); fix or delete that line"
                ) from None
            if not isinstance(record, dict) or "cell_id" not in record:
                raise ConfigError(f"{self.path} line {number} is not a cell record (no 'cell_id')")
            records.append(record)
        return records

    def _truncate(self, size: int) -> None:
        with open(self.path, "r+b") as handle:
            handle.truncate(size)
            handle.flush()
            os.fsync(handle.fileno())

    def append(self, record: dict[str, Any]) -> None:
        """Append one record as a complete line: one ``write`` of the whole line, then ``fsync``."""
        line = _line(record)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            written = os.write(fd, line)
            while written < len(line):  # a short write (e.g. a full disk) is continued, never left torn
                written += os.write(fd, line[written:])
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            fsync_directory(self.path.parent)

    def rewrite(self, records: Iterable[dict[str, Any]]) -> None:
        """Replace the file's content with ``records``, atomically."""
        atomic_write_text(self.path, b"".join(_line(r) for r in records).decode("utf-8"))
