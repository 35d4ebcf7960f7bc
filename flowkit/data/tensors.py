"""``TensorData``: a user's own tensors as a :class:`flowkit.Dataset`.

The points ``x`` (``[n, *event_shape]``, floating, finite; or, with ``vocab_size``, integer
tokens in ``0..vocab_size-1`` for discrete flow matching) and optional labels ``y`` (``[n]``,
integers in ``0..num_classes-1``) are split by a seeded random permutation: ``round(n *
test_fraction)`` points (at least one) are held out for testing, the rest are for training.
Tensors stay on their device and keep their dtype.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.splits import StoredSplits
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError
from flowkit.validation import require_float, require_int


def _as_tensor(name: str, value: object) -> Tensor:
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, Tensor):
        return value.detach()
    raise InvalidParameterError(f"{name} must be a torch.Tensor or numpy array, got {type(value).__name__}")


def _require_finite(x: Tensor) -> None:
    """A :class:`NonFiniteError` naming the first non-finite entry of ``x`` (row-major order) and the count."""
    bad = ~torch.isfinite(x)
    if not bad.any():
        return
    flat = int(bad.flatten().nonzero()[0])
    index = tuple(int(i) for i in np.unravel_index(flat, tuple(x.shape)))
    value = x[index].item()
    points = int(bad.flatten(1).any(dim=1).sum())
    raise NonFiniteError(
        f"x must be finite, but x[{', '.join(map(str, index))}] = {value} (point {index[0]}) is the first of "
        f"{int(bad.sum())} NaN or infinite values, in {points} of {x.shape[0]} points; remove or repair those points"
    )


def _tokens(x: Tensor, vocab_size: int) -> Tensor:
    """``x`` as ``long`` tokens, checked to be integers in ``0..vocab_size-1``."""
    if x.is_floating_point() or x.is_complex() or x.dtype == torch.bool:
        raise ShapeError(f"x must hold integer tokens when vocab_size is given, got {x.dtype}")
    if x.numel() and (int(x.min()) < 0 or int(x.max()) >= vocab_size):
        raise InvalidParameterError(
            f"tokens must lie in 0..{vocab_size - 1} (vocab_size={vocab_size}), got values in "
            f"{int(x.min())}..{int(x.max())}"
        )
    return x.long()


class TensorData(StoredSplits):
    """A data set from tensors: ``x`` ``[n, *event_shape]`` and optional labels ``y`` ``[n]``.

    ``num_classes`` defaults to ``max(y) + 1``; ``num_bins`` marks quantised data (see
    :mod:`flowkit.core.quantization`) for dequantised bits/dim; ``vocab_size`` marks integer
    token data ``x`` (values in ``0..vocab_size-1``), which the pipeline keeps as integers.
    """

    def __init__(
        self,
        x: Tensor | np.ndarray,
        y: Tensor | np.ndarray | None = None,
        test_fraction: float = 0.1,
        seed: int = 0,
        num_classes: int | None = None,
        num_bins: int | None = None,
        vocab_size: int | None = None,
    ):
        x = _as_tensor("x", x)
        if vocab_size is not None:
            x = _tokens(x, require_int("vocab_size", vocab_size, minimum=1))
        elif not x.is_floating_point():
            raise ShapeError(
                f"x must be a floating-point tensor, got {x.dtype}; map discrete levels to bin centres "
                "with flowkit.data.bin_centres, or pass vocab_size for integer tokens"
            )
        if x.ndim < 2 or x.shape[0] < 2:
            raise ShapeError(f"x must have shape [n, *event_shape] with n >= 2, got {list(x.shape)}")
        if vocab_size is None:
            _require_finite(x)
        self.vocab_size = vocab_size
        n = x.shape[0]
        if y is not None:
            y = _as_tensor("y", y)
            if y.dtype.is_floating_point or y.dtype.is_complex or y.dtype == torch.bool:
                raise ShapeError(f"y must hold integer class labels, got {y.dtype}")
            if y.shape != (n,):
                raise ShapeError(f"y must have shape [n] = [{n}] (one label per point of x), got {list(y.shape)}")
            y = y.long()
            if y.min() < 0:
                raise InvalidParameterError(f"labels must be >= 0, got {int(y.min())}")
            num_classes = int(y.max()) + 1 if num_classes is None else num_classes
            num_classes = require_int("num_classes", num_classes, minimum=1)
            if y.max() >= num_classes:
                raise InvalidParameterError(f"labels must be below num_classes={num_classes}, got {int(y.max())}")
        elif num_classes is not None:
            raise InvalidParameterError("num_classes is given but y (the labels) is not")
        self.test_fraction = require_float("test_fraction", test_fraction, above=0.0, below=1.0)
        self.seed = require_int("seed", seed, minimum=0)
        self.event_shape = tuple(x.shape[1:])
        self.num_classes = num_classes
        self.num_bins = require_int("num_bins", num_bins, minimum=2, optional=True)
        n_test = min(max(1, round(n * self.test_fraction)), n - 1)
        order = torch.randperm(n, generator=torch.Generator().manual_seed(self.seed)).to(x.device)
        test, train = order[:n_test], order[n_test:]
        super().__init__(
            {
                "train": DataSplit(x[train], None if y is None else y[train.to(y.device)]),
                "test": DataSplit(x[test], None if y is None else y[test.to(y.device)]),
            }
        )
