"""The data-set interface: training and held-out tensors, and an exact density where known."""

from __future__ import annotations

from abc import ABC, abstractmethod

import attrs
from torch import Tensor


@attrs.frozen
class DataSplit:
    """The tensors of one split: data ``x`` (``[n, *dims]``) and optional labels ``y`` (``[n]``)."""

    x: Tensor
    y: Tensor | None = None


class Dataset(ABC):
    """A data set with a fixed event shape.

    ``num_classes`` is set for labelled data; ``num_bins`` is the number of discrete levels per
    dimension for quantised data (e.g. 17 for digits), used for dequantised bits/dim, ``None``
    for continuous data. ``vocab_size`` declares discrete data: integer tokens in
    ``{0..vocab_size-1}`` (e.g. for discrete flow matching), which the pipeline keeps as integers
    instead of casting them to the model's dtype; ``None`` for real-valued data.
    """

    event_shape: tuple[int, ...]
    num_classes: int | None = None
    num_bins: int | None = None
    vocab_size: int | None = None

    @abstractmethod
    def split(self, name: str) -> DataSplit:
        """The tensors of split ``name`` (``"train"`` or ``"test"``)."""

    @property
    def has_density(self) -> bool:
        """Whether :meth:`log_prob` gives the exact data density."""
        return False

    def log_prob(self, x: Tensor) -> Tensor:
        """The exact log-density of ``x`` (``[batch]``), for data sets where it is known."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form density")
