"""Checkpoint directories: written atomically as a whole, verified file by file when read.

A checkpoint is a directory of named files: text (the TOML config), JSON (training progress,
optimizer hyper-parameters) and safetensors (weights, optimizer moments, RNG states). Nothing in
it is unpickled. :func:`write_checkpoint` fills ``<dir>.partial``, writes ``manifest.json``
(format version, then size and SHA-256 of every file) last, and swaps the directory in with
:func:`flowkit.atomic.atomic_directory`; the previous checkpoint stays on disk until
the new one is complete. :class:`Checkpoint` reads a directory back and checks every file
against the manifest; a missing manifest, a missing, truncated or altered file raises
:class:`flowkit.exceptions.CheckpointError` naming the file.

A training run directory holds its checkpoint in the sub-directory ``checkpoint/``;
:func:`locate_checkpoint` accepts either the run directory or the checkpoint itself, and when
neither holds a complete checkpoint says what the directory is instead: missing, a file, an
interrupted first save (``checkpoint.partial``), files without a manifest, a benchmark output
directory, or a run directory stopped before its first checkpoint.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file
from torch import Tensor

from flowkit.atomic import PARTIAL_SUFFIX, PREVIOUS_SUFFIX, atomic_directory, new_file_mode
from flowkit.exceptions import CheckpointError
from flowkit.pipeline.monitor import METRICS_FILE
from flowkit.pipeline.serialization import tensors_for_safetensors

__all__ = ["CHECKPOINT_DIR", "FORMAT_VERSION", "MANIFEST", "Checkpoint", "locate_checkpoint", "write_checkpoint"]

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
CHECKPOINT_DIR = "checkpoint"
"""The name of the checkpoint sub-directory of a training run directory."""


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checkpoint(
    directory: str | Path,
    *,
    text: Mapping[str, str] | None = None,
    json_data: Mapping[str, Any] | None = None,
    tensors: Mapping[str, Mapping[str, Tensor]] | None = None,
) -> Path:
    """Write a checkpoint directory atomically; returns its path.

    ``text``, ``json_data`` and ``tensors`` map file names to the file's content (a string, a
    JSON-compatible value, a ``{name: Tensor}`` map saved with safetensors).
    """
    directory = Path(directory)
    with atomic_directory(directory) as partial:
        for name, content in (text or {}).items():
            (partial / name).write_text(content, encoding="utf-8")
        for name, data in (json_data or {}).items():
            (partial / name).write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
        for name, group in (tensors or {}).items():
            try:
                save_file(tensors_for_safetensors(group), str(partial / name))
            except SafetensorError as exc:  # e.g. a full disk, reported by the Rust writer as text
                code = re.search(r"os error (\d+)", str(exc))
                number = int(code.group(1)) if code else errno.EIO
                raise OSError(number, os.strerror(number), str(partial / name)) from exc
            os.chmod(partial / name, new_file_mode())  # the writer creates it 0o600; honour the umask
        files = {
            path.name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for path in sorted(partial.iterdir())
        }
        manifest = {"format": FORMAT_VERSION, "files": files}
        (partial / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return directory


def locate_checkpoint(path: str | Path) -> Path:
    """The checkpoint directory for ``path``: the directory itself or its ``checkpoint/``.

    If a save was interrupted between its two renames, the complete previous copy
    (``<dir>.previous``) is used, with a warning.
    """
    path = Path(path)
    for candidate in (path, path / CHECKPOINT_DIR):
        if (candidate / MANIFEST).is_file():
            return candidate
        previous = candidate.with_name(candidate.name + PREVIOUS_SUFFIX)
        if not candidate.exists() and (previous / MANIFEST).is_file():
            warnings.warn(f"{candidate} is missing (a save was interrupted); loading {previous}", stacklevel=2)
            return previous
    raise CheckpointError(_not_a_checkpoint(path))


_BENCH_FILES = ("results.jsonl", "suite.toml")  # flowkit.bench.runner's (the bench sits above the pipeline)
_CHECKPOINT_FILES = ("config.toml", "state.json", "model.safetensors")  # flowkit.pipeline.pipeline's


def _not_a_checkpoint(path: Path) -> str:
    """Why ``path`` holds no complete checkpoint, told apart by what it does hold."""
    expected = (
        f"expected a checkpoint directory (with {MANIFEST}) or a run directory with a {CHECKPOINT_DIR}/ "
        "sub-directory, as written by `flowkit train`, `flowkit demo` or Pipeline.save"
    )
    if not path.exists():
        return f"no checkpoint at {path}: it does not exist; {expected}"
    if not path.is_dir():
        return f"no checkpoint at {path}: it is a file, not a directory; {expected}"
    for candidate in (path, path / CHECKPOINT_DIR):
        partial = candidate.with_name(candidate.name + PARTIAL_SUFFIX)
        if partial.is_dir():
            return (
                f"no complete checkpoint at {path}: the first save was interrupted ({partial} is unfinished) "
                "and no earlier checkpoint exists"
            )
        if candidate.is_dir() and any((candidate / name).exists() for name in _CHECKPOINT_FILES):
            return f"incomplete checkpoint: {candidate / MANIFEST} is missing (the save did not finish or files were removed)"
    if any((path / name).is_file() for name in _BENCH_FILES):
        return (
            f"{path} is a benchmark output directory (`flowkit bench`), not a checkpoint: it holds the "
            "suite's results and summaries, not trained pipelines; train one with `flowkit train` to sample from it"
        )
    if (path / METRICS_FILE).is_file():
        return (
            f"no checkpoint at {path}: it is a training run directory whose run stopped before its first "
            f"checkpoint (see train.checkpoint_every); resume it with `flowkit train CONFIG --out {path} --resume`"
        )
    return f"no checkpoint at {path}: it has no {MANIFEST} and no {CHECKPOINT_DIR}/ sub-directory; {expected}"


class Checkpoint:
    """A checkpoint directory whose files all match its manifest."""

    def __init__(self, path: str | Path):
        self.path = locate_checkpoint(path)
        manifest_path = self.path / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            files = manifest["files"]
            version = manifest["format"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise CheckpointError(f"corrupt checkpoint manifest {manifest_path}: {exc}") from None
        if version != FORMAT_VERSION:
            raise CheckpointError(
                f"{manifest_path}: checkpoint format {version!r} is not supported "
                f"(this flowkit reads format {FORMAT_VERSION})"
            )
        for name, expected in files.items():
            file = self.path / name
            if not file.is_file():
                raise CheckpointError(f"incomplete checkpoint: {file} is missing")
            size = file.stat().st_size
            if size != expected["bytes"]:
                raise CheckpointError(f"corrupt checkpoint file {file}: {size} bytes, expected {expected['bytes']}")
            if _sha256(file) != expected["sha256"]:
                raise CheckpointError(f"corrupt checkpoint file {file}: its SHA-256 does not match the manifest")
        self.files: tuple[str, ...] = tuple(files)

    def has(self, name: str) -> bool:
        """Whether the checkpoint holds file ``name``."""
        return name in self.files

    def _file(self, name: str) -> Path:
        if name not in self.files:
            raise CheckpointError(f"incomplete checkpoint: {self.path / name} is missing")
        return self.path / name

    def read_text(self, name: str) -> str:
        """The text of file ``name``."""
        return self._file(name).read_text(encoding="utf-8")

    def read_json(self, name: str) -> Any:
        """The JSON value stored in file ``name``."""
        file = self._file(name)
        try:
            return json.loads(file.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise CheckpointError(f"corrupt checkpoint file {file}: {exc}") from None

    def read_tensors(self, name: str, device: torch.device | str | None = None) -> dict[str, Tensor]:
        """The tensors of safetensors file ``name``, on ``device`` (host memory if ``None``)."""
        file = self._file(name)
        try:
            return load_file(str(file), device=str(device) if device is not None else "cpu")
        except (SafetensorError, OSError, ValueError) as exc:
            raise CheckpointError(f"corrupt checkpoint file {file}: {exc}") from None
