"""Atomic file and directory writes: a reader sees the old content or the new, never a mix.

A file is written to a temporary file in the same directory, flushed to disk and moved over
the target with :func:`os.replace` (atomic on POSIX and Windows). It gets the mode any tool
would give it: an existing target's mode is kept, a new file gets ``0o666 & ~umask`` (the
temporary file is created ``0o600`` and widened before the rename). A directory is written as a
whole under a temporary sibling name and swapped in by :func:`atomic_directory`; the previous
directory is kept, renamed to ``<name>.previous``, until the new one is in place, so an
interruption at any point leaves at least one complete copy on disk.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

__all__ = [
    "PARTIAL_SUFFIX",
    "PREVIOUS_SUFFIX",
    "atomic_directory",
    "atomic_write",
    "atomic_write_bytes",
    "atomic_write_text",
    "fsync_directory",
    "new_file_mode",
]

PARTIAL_SUFFIX = ".partial"
"""Suffix of a directory that is still being written (removed or renamed when done)."""
PREVIOUS_SUFFIX = ".previous"
"""Suffix of the previous directory, kept until its replacement is complete."""


def fsync_directory(path: str | os.PathLike[str]) -> None:
    """Flush a directory entry to disk (no-op where directories cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(os.fspath(path), os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _current_umask() -> int:
    """The process's umask (read from /proc where possible: setting it to read it is racy)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def new_file_mode() -> int:
    """The mode a new file gets from ``open()``: ``0o666`` less the umask."""
    return 0o666 & ~_current_umask()


def _mode_for(target: Path) -> int:
    try:
        return stat.S_IMODE(target.stat().st_mode)
    except OSError:
        return new_file_mode()


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], object]) -> Path:
    """Call ``write(file)`` on a temporary file next to ``path``, then move it onto ``path``.

    If ``write`` raises, the temporary file is removed and ``path`` is untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            if hasattr(os, "fchmod"):
                os.fchmod(handle.fileno(), _mode_for(target))
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp_name)
        raise
    fsync_directory(target.parent)
    return target


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode("utf-8"))


@contextlib.contextmanager
def atomic_directory(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield an empty directory to fill; on success it replaces ``path`` as a whole.

    The content is written to ``<path>.partial``; then an existing ``path`` is renamed to
    ``<path>.previous``, ``<path>.partial`` is renamed to ``path`` and ``<path>.previous`` is
    deleted. If the body raises, ``<path>.partial`` is removed and ``path`` is untouched. A
    leftover ``<path>.partial`` from an earlier crash is discarded first. If a crash falls between
    the two renames, ``<path>.previous`` is the last complete copy; the next successful write
    deletes it.
    """
    target = Path(path)
    partial = target.with_name(target.name + PARTIAL_SUFFIX)
    previous = target.with_name(target.name + PREVIOUS_SUFFIX)
    target.parent.mkdir(parents=True, exist_ok=True)
    if partial.exists():
        shutil.rmtree(partial)
    partial.mkdir()
    try:
        yield partial
        for file in partial.iterdir():
            if file.is_file():
                with open(file, "rb") as handle:
                    os.fsync(handle.fileno())
        fsync_directory(partial)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if target.exists():  # complete (it got its name by a rename), so ``previous`` is stale
        if previous.exists():
            shutil.rmtree(previous)
        os.replace(target, previous)
    os.replace(partial, target)
    fsync_directory(target.parent)
    if previous.exists():
        shutil.rmtree(previous)
