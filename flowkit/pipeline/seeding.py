"""Independent random streams derived from one seed.

Each stream (model initialisation, the training noise of process ``r``, the data order of
epoch ``e``, sampling, the source draws of step ``k`` paired ahead of time) gets its own 63-bit seed ``derive_seed(seed, *keys)``, mixed by NumPy's
``SeedSequence`` so that nearby seeds and keys give unrelated streams, identically on every
machine.
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["STREAMS", "derive_seed", "generator_for"]

STREAMS: dict[str, int] = {"init": 0, "train": 1, "data": 2, "sample": 3, "eval": 4, "pairs": 5}
"""The named random streams of a pipeline and their keys."""


def derive_seed(seed: int, stream: str, *keys: int) -> int:
    """A 63-bit seed for ``stream`` (one of :data:`STREAMS`) and integer ``keys`` under ``seed``."""
    (state,) = np.random.SeedSequence([seed, STREAMS[stream], *keys]).generate_state(1, dtype=np.uint64)
    return int(state) >> 1


def generator_for(seed: int, stream: str, *keys: int, device: torch.device | str | None = None) -> torch.Generator:
    """A ``torch.Generator`` on ``device`` (host if ``None``) seeded by :func:`derive_seed`."""
    generator = torch.Generator(device=device) if device is not None else torch.Generator()
    return generator.manual_seed(derive_seed(seed, stream, *keys))
