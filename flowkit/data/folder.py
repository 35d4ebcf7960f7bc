"""``image-folder``: any folder of PNG / JPEG images as a data set, resized and centre-cropped.

Every file under ``root`` (searched recursively, in sorted path order) whose suffix is one of
``extensions`` is read with Pillow, converted to RGB, resized so that its shorter side is
``size`` (bicubic, with Pillow's antialiasing when shrinking), and cropped to the central
``size x size`` square (for a ``w x h`` image with ``w >= h``: columns
``round((w' - size) / 2)`` onwards of the resized width ``w' = round(w size / h)``). Pixels become
bin centres on ``[-1, 1]`` with 256 levels (:mod:`flowkit.data.images`).

Labels: when every image sits in a direct subfolder of ``root`` (the layout ``root/<class>/<image>``),
the subfolders are the classes, numbered in sorted name order (:attr:`ImageFolder.classes`);
otherwise the data are unlabelled. The split is that of :class:`flowkit.data.TensorData`: a seeded
permutation holds out ``round(n * test_fraction)`` images.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from flowkit.data.files import data_root
from flowkit.data.images import PIXEL_LEVELS, pixel_split
from flowkit.data.tensors import TensorData
from flowkit.exceptions import DataFilesError, InvalidParameterError
from flowkit.validation import require_int

DEFAULT_EXTENSIONS = (".png", ".jpg", ".jpeg")


def load_image(path: Path, size: int) -> np.ndarray:
    """One image as ``uint8`` ``[3, size, size]``: RGB, shorter side resized to ``size``, centre-cropped."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            rgb = image.convert("RGB")
    except (OSError, UnidentifiedImageError) as exc:
        raise DataFilesError(f"cannot read image {path}: {exc}") from None
    width, height = rgb.size
    scale = size / min(width, height)
    new_width, new_height = max(size, round(width * scale)), max(size, round(height * scale))
    resized = rgb.resize((new_width, new_height), Image.Resampling.BICUBIC)
    left, top = round((new_width - size) / 2), round((new_height - size) / 2)
    cropped = resized.crop((left, top, left + size, top + size))
    return np.asarray(cropped, dtype=np.uint8).transpose(2, 0, 1)


class ImageFolder(TensorData):
    """The images under ``root`` at ``size x size`` (``event_shape (3, size, size)``, 256 bins).

    Classes from the subfolders of ``root`` when every image is in one (:attr:`classes`), else
    no labels; ``test_fraction`` of the images (seeded by ``seed``) are held out.
    """

    def __init__(
        self,
        root: str | None = None,
        size: int = 32,
        test_fraction: float = 0.1,
        seed: int = 0,
        extensions: Sequence[str] = DEFAULT_EXTENSIONS,
    ):
        folder = data_root(root, "image-folder")
        self.size = require_int("size", size, minimum=1)
        if isinstance(extensions, str) or not all(isinstance(e, str) and e.startswith(".") for e in extensions):
            raise InvalidParameterError(
                f"extensions must be a list of suffixes such as ['.png', '.jpg'], got {extensions!r}"
            )
        wanted = {e.lower() for e in extensions}
        if not folder.is_dir():
            raise DataFilesError(f"data set 'image-folder': {folder} is not a folder; pass root= the folder of images")
        paths = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in wanted)
        if len(paths) < 2:
            raise DataFilesError(
                f"data set 'image-folder': found {len(paths)} image(s) with suffix {', '.join(sorted(wanted))} "
                f"under {folder}; at least 2 are needed (one to train on, one held out)"
            )
        parents = [p.relative_to(folder).parts for p in paths]
        labelled = all(len(parts) == 2 for parts in parents)
        self.classes: tuple[str, ...] = tuple(sorted({parts[0] for parts in parents})) if labelled else ()
        labels = np.array([self.classes.index(parts[0]) for parts in parents]) if labelled else None
        levels = np.stack([load_image(p, self.size) for p in paths])
        x = pixel_split(levels, None, where=str(folder)).x
        self.root = str(folder)
        super().__init__(
            x,
            labels,
            test_fraction=test_fraction,
            seed=seed,
            num_classes=len(self.classes) if labelled else None,
            num_bins=PIXEL_LEVELS,
        )
