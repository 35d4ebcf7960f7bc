"""``imagenet32`` and ``imagenet64``: downsampled ImageNet from its official ``.npz`` files.

The downsampled ImageNet of Chrabaszcz, Loshchilov and Hutter (2017; https://image-net.org,
"Downsampled ImageNet 32x32 / 64x64", npz format) comes as ``train_data_batch_1.npz`` ...
``train_data_batch_10.npz`` and ``val_data.npz``. Each archive holds ``data``, ``uint8``
``[n, 3 * s * s]`` with the three colour planes (red, green, blue) one after the other, each
row-major (channels-first ``[3, s, s]`` once reshaped), and ``labels``, the classes 1..1000
(training archives also hold ``mean``, the mean image, unused here). The files are loaded with
``allow_pickle=False``; labels become 0..999 and pixels bin centres on ``[-1, 1]`` with 256 levels
(:mod:`flowkit.data.images`). The training split is the ten batches (or their first
``max_train`` images: all of ImageNet 64x64 as float32 needs about 63 GB), the test split the
validation archive.

Put all eleven files in one folder: ``root`` or ``root/imagenet32`` (``imagenet64``);
``root`` defaults to ``$FLOWKIT_DATA`` (:mod:`flowkit.data.files`); nothing is downloaded.
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
from flowkit.validation import require_int

NUM_CLASSES = 1000
TRAIN_FILES = tuple(f"train_data_batch_{i}.npz" for i in range(1, 11))
TEST_FILE = "val_data.npz"


def read_downsampled_imagenet(path: str | os.PathLike[str], size: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``uint8`` images ``[n, 3, size, size]`` and 0-based labels ``[n]`` of one ``.npz`` archive."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in ("data", "labels") if key not in archive.files]
            if missing:
                raise DataFilesError(
                    f"{path} lacks the array(s) {', '.join(missing)}; it holds {', '.join(archive.files)}"
                )
            data, labels = archive["data"], archive["labels"]
    except (OSError, ValueError) as exc:  # not a zip, or object arrays (which would need pickle)
        if isinstance(exc, DataFilesError):
            raise
        raise DataFilesError(f"{path} is not a readable .npz archive of plain arrays: {exc}") from None
    width = 3 * size * size
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != width:
        raise DataFilesError(
            f"{path}: 'data' must be uint8 [n, {width}] (3 x {size} x {size} pixels), got {data.dtype} "
            f"{list(data.shape)}; is it the other resolution?"
        )
    labels = np.asarray(labels).reshape(-1).astype(np.int64)
    if labels.shape[0] != data.shape[0]:
        raise DataFilesError(f"{path}: {labels.shape[0]} labels for {data.shape[0]} images")
    if labels.size and (labels.min() < 1 or labels.max() > NUM_CLASSES):
        raise DataFilesError(f"{path}: labels must be 1..{NUM_CLASSES}, got {int(labels.min())}..{int(labels.max())}")
    return data.reshape(-1, 3, size, size), labels - 1


def _read_split(paths: list[Path], size: int, limit: int | None) -> DataSplit:
    images, labels, count = [], [], 0
    for path in paths:
        if limit is not None and count >= limit:
            break
        batch_images, batch_labels = read_downsampled_imagenet(path, size)
        images.append(batch_images)
        labels.append(batch_labels)
        count += batch_images.shape[0]
    stacked = np.concatenate(images)[:limit]
    return pixel_split(stacked, np.concatenate(labels)[:limit], where=str(paths[0].parent))


class DownsampledImageNet(StoredSplits):
    """Downsampled ImageNet at ``size`` x ``size`` (32 or 64): 1000 classes, 256 bins.

    ``root``: the folder with the eleven ``.npz`` files (default ``$FLOWKIT_DATA``);
    ``max_train``: keep only the first training images (all when ``None``).
    """

    num_classes = NUM_CLASSES
    num_bins = PIXEL_LEVELS
    size: int

    def __init__(self, root: str | None = None, max_train: int | None = None):
        name = f"imagenet{self.size}"
        self.max_train = require_int("max_train", max_train, minimum=1, optional=True)
        source = f"Downsampled ImageNet {self.size}x{self.size} in npz format (https://image-net.org, train and val)"
        paths = find_files(data_root(root, name), name, (*TRAIN_FILES, TEST_FILE), dataset=name, source=source)
        self.root = str(paths[0].parent)
        train = _read_split(paths[:-1], self.size, self.max_train)
        super().__init__({"train": train, "test": _read_split(paths[-1:], self.size, None)})


class ImageNet32(DownsampledImageNet):
    """Downsampled ImageNet 32x32: ``event_shape (3, 32, 32)``."""

    size = 32
    event_shape = (3, 32, 32)


class ImageNet64(DownsampledImageNet):
    """Downsampled ImageNet 64x64: ``event_shape (3, 64, 64)``."""

    size = 64
    event_shape = (3, 64, 64)
