"""Synthetic data sets: train and test splits drawn from a known sampler.

A :class:`SyntheticDataset` defines :meth:`~SyntheticDataset.sample`, one draw of ``n`` points
(and labels where the distribution has a discrete latent, e.g. its mixture component); the
``"train"`` (``n_train`` points) and ``"test"`` (``n_test`` points) splits are two independent
draws with the generators of :func:`flowkit.data.splits.split_generator`, so the same ``seed``
always gives the same tensors. Points use the default torch dtype at construction.
"""

from __future__ import annotations

from abc import abstractmethod

import torch

from flowkit.core import DataSplit
from flowkit.data.splits import SPLITS, StoredSplits, split_generator
from flowkit.validation import require_int


class SyntheticDataset(StoredSplits):
    """A data set of ``n_train`` training and ``n_test`` held-out points drawn by :meth:`sample`.

    Subclasses set their own parameters, then call ``super().__init__(n_train, n_test, seed)``.
    """

    def __init__(self, n_train: int, n_test: int, seed: int):
        self.n_train = require_int("n_train", n_train, minimum=1)
        self.n_test = require_int("n_test", n_test, minimum=1)
        self.seed = require_int("seed", seed, minimum=0)
        sizes = {"train": self.n_train, "test": self.n_test}
        super().__init__(
            {name: self.sample(sizes[name], generator=split_generator(self.seed, name)) for name in SPLITS}
        )

    def sample(self, n: int, generator: torch.Generator | None = None) -> DataSplit:
        """Draw ``n`` fresh points ``x`` (``[n, *event_shape]``) and labels ``y`` (``[n]`` or None).

        ``generator`` is a CPU ``torch.Generator`` (the global one when ``None``); the points
        have the default torch dtype.
        """
        return self._sample(require_int("n", n, minimum=1), generator)

    @abstractmethod
    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        """Draw ``n`` points (``n`` already validated); see :meth:`sample`."""
