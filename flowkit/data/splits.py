"""Data sets whose splits are tensors held in memory, and the seeds of independent splits.

:class:`StoredSplits` implements :meth:`flowkit.Dataset.split` for a data set that builds its
``"train"`` and ``"test"`` tensors once; an unknown split name raises
:class:`~flowkit.exceptions.InvalidParameterError` listing :data:`SPLITS`.
:func:`split_generator` gives each split of a seeded data set its own ``torch.Generator``,
seeded from ``(seed, split)`` through NumPy's ``SeedSequence``, so train and test are
independent draws and every seed gives the same tensors on every machine.
"""

from __future__ import annotations

import numpy as np
import torch

from flowkit.core import Dataset, DataSplit
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_choice

SPLITS: tuple[str, ...] = ("train", "test")
"""The split names every built-in data set provides."""


def check_split_name(name: object) -> str:
    """``name`` if it is one of :data:`SPLITS`, else InvalidParameterError naming the accepted ones."""
    return require_choice("split", name, SPLITS)


def split_generator(seed: int, split: str) -> torch.Generator:
    """A CPU generator for ``split`` of a data set seeded with ``seed`` (independent per split)."""
    index = SPLITS.index(check_split_name(split))
    (state,) = np.random.SeedSequence([seed, index]).generate_state(1, dtype=np.uint64)
    return torch.Generator().manual_seed(int(state) >> 1)  # 63 bits: manual_seed takes int64


class StoredSplits(Dataset):
    """A :class:`flowkit.Dataset` whose splits are given once as :class:`DataSplit` tensors."""

    def __init__(self, splits: dict[str, DataSplit]):
        if set(splits) != set(SPLITS):
            raise InvalidParameterError(f"a data set needs exactly the splits {SPLITS}, got {tuple(splits)}")
        self._splits = dict(splits)

    def split(self, name: str) -> DataSplit:
        """The tensors of split ``name`` (``"train"`` or ``"test"``)."""
        return self._splits[check_split_name(name)]
