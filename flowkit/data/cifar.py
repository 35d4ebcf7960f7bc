"""``cifar10``: CIFAR-10 from its official *binary* distribution, read with NumPy (no pickle).

The archive ``cifar-10-binary.tar.gz`` (https://www.cs.toronto.edu/~kriz/cifar.html) unpacks to
``cifar-10-batches-bin/`` holding ``data_batch_1.bin`` ... ``data_batch_5.bin`` (the 50,000
training images) and ``test_batch.bin`` (10,000 test images). Each file is a sequence of records
of ``1 + 3072`` bytes: the label (0..9), then the 32x32 image as three 1024-byte channel planes
(red, green, blue), each row-major, i.e. channels-first ``[3, 32, 32]``. Pixels become bin centres
on ``[-1, 1]`` with 256 levels (:mod:`flowkit.data.images`); labels are kept for conditioning.

Files are looked for in ``root`` or ``root/cifar-10-batches-bin`` (``root`` defaults to
``$FLOWKIT_DATA``; :mod:`flowkit.data.files`); nothing is downloaded.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from flowkit.core import DataSplit
from flowkit.data.files import data_root, find_files
from flowkit.data.images import PIXEL_LEVELS, pixel_split
from flowkit.data.splits import StoredSplits
from flowkit.exceptions import DataFilesError

IMAGE_SHAPE = (3, 32, 32)
RECORD_BYTES = 1 + 3 * 32 * 32
TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
TEST_FILE = "test_batch.bin"
SUBDIR = "cifar-10-batches-bin"
SOURCE = "the CIFAR-10 binary version (cifar-10-binary.tar.gz from https://www.cs.toronto.edu/~kriz/cifar.html)"


def read_cifar10_batch(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """The ``uint8`` images ``[n, 3, 32, 32]`` and ``int64`` labels ``[n]`` of one binary batch file."""
    raw = np.fromfile(path, dtype=np.uint8)
    if raw.size == 0 or raw.size % RECORD_BYTES:
        raise DataFilesError(
            f"{path} is not a CIFAR-10 binary batch: {raw.size} bytes is not a positive multiple of the "
            f"{RECORD_BYTES}-byte record (1 label byte + 3072 pixel bytes)"
        )
    records = raw.reshape(-1, RECORD_BYTES)
    labels = records[:, 0].astype(np.int64)
    if labels.max() > 9:
        raise DataFilesError(f"{path}: labels must be 0..9, found {int(labels.max())}; is it the CIFAR-100 file?")
    return records[:, 1:].reshape(-1, *IMAGE_SHAPE), labels


def _read_split(paths: list[Path]) -> DataSplit:
    batches = [read_cifar10_batch(path) for path in paths]
    images = np.concatenate([b[0] for b in batches])
    labels = np.concatenate([b[1] for b in batches])
    return pixel_split(images, labels, where=str(paths[0].parent))


class Cifar10(StoredSplits):
    """CIFAR-10 images as bin centres on ``[-1, 1]``: ``event_shape (3, 32, 32)``, 10 classes, 256 bins.

    ``root``: the folder with the binary batch files (or its parent); default ``$FLOWKIT_DATA``.
    The training split is the five data batches, the test split ``test_batch.bin``.
    """

    event_shape = IMAGE_SHAPE
    num_classes = 10
    num_bins = PIXEL_LEVELS

    def __init__(self, root: str | None = None):
        folder = data_root(root, "cifar10")
        paths = find_files(folder, SUBDIR, (*TRAIN_FILES, TEST_FILE), dataset="cifar10", source=SOURCE)
        self.root = str(paths[0].parent)
        super().__init__({"train": _read_split(paths[:-1]), "test": _read_split(paths[-1:])})
