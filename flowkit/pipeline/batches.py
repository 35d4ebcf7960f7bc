"""Training batches: epochs of shuffled data, split across processes, resumable from two integers.

Epoch ``e`` shuffles the ``n`` training points by the permutation ``randperm(n)`` of a generator
seeded from ``(seed, e)`` (:func:`flowkit.pipeline.seeding.derive_seed`), so it depends on
nothing but the seed and the epoch number. A step takes the next ``B`` (global batch size) points of the epoch; process
``r`` of ``R`` gets the points ``[r B/R, (r + 1) B/R)`` of that batch, so the processes of a
``torchrun`` job see disjoint data and together see exactly what one process would. The last
``n mod B`` points of an epoch are skipped (they come first in a later epoch's random order).
The position is ``(epoch, cursor)``, saved in checkpoints, so a resumed run draws the same
batches as an uninterrupted one.
"""

from __future__ import annotations

import torch
from torch import Tensor

from flowkit.exceptions import ConfigError
from flowkit.pipeline.seeding import generator_for

__all__ = ["BatchSampler"]


class BatchSampler:
    """Draws this process's share of each global batch from training tensors on one device."""

    def __init__(
        self,
        x: Tensor,
        y: Tensor | None,
        *,
        batch_size: int,
        seed: int,
        rank: int = 0,
        world_size: int = 1,
    ):
        n = x.shape[0]
        if batch_size > n:
            raise ConfigError(f"train.batch_size ({batch_size}) exceeds the {n} training points")
        if batch_size % world_size:
            raise ConfigError(
                f"train.batch_size ({batch_size}) must be divisible by the number of processes ({world_size})"
            )
        self.x, self.y = x, y
        self.batch_size = batch_size
        self.local_batch_size = batch_size // world_size
        self.seed, self.rank = seed, rank
        self.epoch = 0
        self.cursor = 0
        self._shuffled: tuple[Tensor, Tensor | None] | None = None

    def _shuffle(self) -> None:
        order = torch.randperm(self.x.shape[0], generator=generator_for(self.seed, "data", self.epoch))
        order = order.to(self.x.device)
        self._shuffled = (self.x[order], None if self.y is None else self.y[order])

    def next_range(self) -> tuple[Tensor, Tensor | None, int]:
        """Advance by one batch: the epoch's shuffled ``x`` and labels, and where this process's rows start.

        The rows of the batch are ``[start, start + B/R)`` of the returned tensors, which stay the
        same objects for the whole epoch (a capturable step copies them once per epoch).
        """
        if self.cursor + self.batch_size > self.x.shape[0]:
            self.epoch += 1
            self.cursor = 0
            self._shuffled = None
        if self._shuffled is None:
            self._shuffle()
        x, y = self._shuffled  # type: ignore[misc]
        start = self.cursor + self.rank * self.local_batch_size
        self.cursor += self.batch_size
        return x, y, start

    def next(self) -> tuple[Tensor, Tensor | None]:
        """This process's part of the next batch: ``x`` (``[B/R, *dims]``) and labels or ``None``."""
        x, y, start = self.next_range()
        stop = start + self.local_batch_size
        return x[start:stop], None if y is None else y[start:stop]

    def peek(self) -> tuple[Tensor, Tensor | None]:
        """The batch that :meth:`next` will return, without moving the position."""
        saved = (self.epoch, self.cursor, self._shuffled)
        batch = self.next()
        self.epoch, self.cursor, self._shuffled = saved
        return batch

    def state_dict(self) -> dict[str, int]:
        """The position ``{"epoch": e, "cursor": c}``."""
        return {"epoch": self.epoch, "cursor": self.cursor}

    def load_state_dict(self, state: dict[str, int]) -> None:
        """Continue from a position saved by :meth:`state_dict`."""
        self.epoch, self.cursor = int(state["epoch"]), int(state["cursor"])
        self._shuffled = None
