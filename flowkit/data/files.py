"""Where a file-backed data set looks for its files, and the error when they are missing.

flowkit never downloads data. A data set read from files (``cifar10``, ``imagenet32``,
``imagenet64``, ``image-folder``) takes a ``root`` folder; without one it uses the folder named
by the environment variable :data:`DATA_ENV` (``FLOWKIT_DATA``). The files are looked for in
``root`` itself and in ``root/<subdir>`` (the folder name of the official archive, e.g.
``cifar-10-batches-bin``), so both ``root=".../cifar-10-batches-bin"`` and the parent folder work.
A missing file raises :class:`~flowkit.exceptions.DataFilesError` naming the files, the folders
searched and where to get them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from flowkit.exceptions import DataFilesError, InvalidParameterError

DATA_ENV = "FLOWKIT_DATA"
"""Environment variable naming the default data folder of file-backed data sets."""


def data_root(root: str | os.PathLike[str] | None, dataset: str) -> Path:
    """``root`` as a path, else ``$FLOWKIT_DATA``; neither set raises DataFilesError."""
    if root is None:
        root = os.environ.get(DATA_ENV)
        if not root:
            raise DataFilesError(
                f"data set {dataset!r} reads files from disk (nothing is downloaded): pass root=FOLDER "
                f"or set the environment variable {DATA_ENV} to the folder holding them"
            )
    if not isinstance(root, (str, os.PathLike)):
        raise InvalidParameterError(f"root must be a folder path (str), got {type(root).__name__}: {root!r}")
    return Path(root).expanduser()


def find_files(root: Path, subdir: str, names: Sequence[str], *, dataset: str, source: str) -> list[Path]:
    """The paths of ``names`` in ``root`` or ``root/subdir`` (whichever holds all of them).

    ``source`` tells the user where the official files come from; a missing file raises
    :class:`DataFilesError` listing the missing names and both folders searched.
    """
    folders = [root, root / subdir]
    for folder in folders:
        if all((folder / name).is_file() for name in names):
            return [folder / name for name in names]
    missing = [name for name in names if not any((folder / name).is_file() for folder in folders)] or list(names)
    raise DataFilesError(
        f"data set {dataset!r}: missing {', '.join(missing)} (all of {', '.join(names)} must be in one folder); "
        f"searched {folders[0]} and {folders[1]}. Put the files of {source} there, or pass root= "
        f"(or set {DATA_ENV}) to the folder that holds them; flowkit downloads nothing"
    )
