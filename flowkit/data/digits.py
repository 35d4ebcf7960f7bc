r"""``digits``: scikit-learn's 8x8 handwritten digits, shipped with flowkit.

Provenance and licence: ``digits.npz`` holds the 1797 images (``uint8`` levels 0..16,
``[1797, 8, 8]``) and labels (0..9) of ``sklearn.datasets.load_digits`` (scikit-learn 1.9,
BSD-3-Clause), written once with ``numpy.savez_compressed``. scikit-learn's copy is the test
set of the UCI "Optical Recognition of Handwritten Digits" data (E. Alpaydin and C. Kaynak,
1998; UCI Machine Learning Repository, CC BY 4.0): 32x32 bitmaps whose 4x4 blocks were
counted, giving 17 levels per pixel. It is loaded with ``allow_pickle=False``.

Points are the bin centres of the 17 levels on $[-1, 1]$ (:func:`flowkit.data.bin_centres`),
$x = 2 (k + \frac{1}{2}) / 17 - 1$, shaped ``[n, 1, 8, 8]``; labels are the digits. Training adds
uniform noise of width $2/17$ (:func:`flowkit.data.dequantize`), and bits/dim are
$(-\log p(x) + D \log(17/2)) / (D \ln 2)$ with $D = 64$. The split is a fixed seeded
permutation: ``n_test`` held-out images (default 297), the other 1500 for training.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import torch

from flowkit.core import DataSplit
from flowkit.core.quantization import bin_centres
from flowkit.data.splits import StoredSplits
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_int

NUM_IMAGES = 1797
NUM_LEVELS = 17


def load_digits_levels() -> tuple[torch.Tensor, torch.Tensor]:
    """The shipped images as integer levels ``[1797, 8, 8]`` (0..16) and labels ``[1797]`` (0..9)."""
    with resources.files("flowkit.data").joinpath("digits.npz").open("rb") as handle:
        with np.load(handle, allow_pickle=False) as archive:
            images = torch.from_numpy(archive["images"].astype(np.int64))
            labels = torch.from_numpy(archive["labels"].astype(np.int64))
    return images, labels


class Digits(StoredSplits):
    """8x8 digit images as bin centres on $[-1, 1]$: ``event_shape (1, 8, 8)``, 10 classes, 17 bins.

    ``seed`` fixes the train/test permutation; ``n_test`` images are held out.
    """

    event_shape = (1, 8, 8)
    num_classes = 10
    num_bins = NUM_LEVELS

    def __init__(self, seed: int = 0, n_test: int = 297):
        self.seed = require_int("seed", seed, minimum=0)
        self.n_test = require_int("n_test", n_test, minimum=1)
        if self.n_test >= NUM_IMAGES:
            raise InvalidParameterError(f"n_test must be below the {NUM_IMAGES} images, got {n_test}")
        levels, labels = load_digits_levels()
        x = bin_centres(levels, NUM_LEVELS).unsqueeze(1)
        order = torch.randperm(NUM_IMAGES, generator=torch.Generator().manual_seed(self.seed))
        test, train = order[: self.n_test], order[self.n_test :]
        super().__init__({"train": DataSplit(x[train], labels[train]), "test": DataSplit(x[test], labels[test])})
