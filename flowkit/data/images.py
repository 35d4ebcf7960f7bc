r"""8-bit images as a quantised data set: pixel levels to bin centres on $[-1, 1]$.

An image data set holds ``uint8`` pixel levels $k = 0, \dots, 255$ shaped ``[n, C, H, W]``
(channels first); its points are the centres of 256 equal bins tiling $[-1, 1]$
(:func:`flowkit.data.bin_centres`), $x = 2 (k + \frac{1}{2}) / 256 - 1$, and ``num_bins = 256`` marks the
data as quantised, so training dequantises with uniform noise of width $2/256$ and bits/dim
include the $D \log(256/2)$ term (:mod:`flowkit.core.quantization`).
"""

from __future__ import annotations

import numpy as np
import torch

from flowkit.core import DataSplit
from flowkit.core.quantization import bin_centres
from flowkit.exceptions import DataFilesError

PIXEL_LEVELS = 256
"""Levels of an 8-bit pixel channel."""


def pixel_split(levels: np.ndarray, labels: np.ndarray | None, *, where: str) -> DataSplit:
    """A :class:`DataSplit` from ``uint8`` levels ``[n, C, H, W]`` and integer labels ``[n]`` (or None).

    ``where`` names the source in the error raised for a wrong dtype or shape.
    """
    if levels.dtype != np.uint8 or levels.ndim != 4:
        raise DataFilesError(f"{where}: expected uint8 images [n, C, H, W], got {levels.dtype} {list(levels.shape)}")
    x = bin_centres(torch.from_numpy(levels.astype(np.int16)), PIXEL_LEVELS)  # Int: signed types
    y = None if labels is None else torch.from_numpy(np.asarray(labels, dtype=np.int64))
    return DataSplit(x, y)
