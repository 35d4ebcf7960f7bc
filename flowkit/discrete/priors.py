r"""Source distributions over token sequences: ``uniform`` and ``mask``.

* ``uniform``: every position independently uniform on $\{0, \dots, V-1\}$,
  $\log p_0(x) = -L \log V$ for $x$ of length $L$;
* ``mask``: every position is the mask token $V$ (an extra state outside the vocabulary),
  $\log p_0(x) = 0$ for the all-mask sequence, $-\infty$ otherwise.

Draws are ``torch.long`` tokens whatever floating ``dtype`` is asked for (the pipeline passes the
model's dtype), so a token prior drops in wherever a prior is sampled.
"""

from __future__ import annotations

import math
from abc import abstractmethod

import torch
from torch import Tensor

from flowkit.core import DrawRequest, Prior
from flowkit.validation import require_choice, require_int

__all__ = ["SOURCES", "MaskTokens", "TokenPrior", "UniformTokens", "token_prior"]


class TokenPrior(Prior):
    """A source over sequences of tokens of a vocabulary of ``vocab_size`` values."""

    #: The number of values a position of ``x_t`` can take (``V``, or ``V + 1`` with the mask).
    num_states: int

    def __init__(self, vocab_size: int):
        self.vocab_size = require_int("vocab_size", vocab_size, minimum=1)

    @staticmethod
    def _token_dtype(dtype: torch.dtype | None) -> torch.dtype:
        return dtype if dtype is not None and not dtype.is_floating_point and dtype != torch.bool else torch.long

    def __repr__(self) -> str:
        return f"{type(self).__name__}(vocab_size={self.vocab_size})"

    @abstractmethod
    def state_probabilities(self) -> Tensor:
        """``p0`` of one position over the ``num_states`` values, ``[num_states]`` (float64)."""


class UniformTokens(TokenPrior):
    """Each position uniform on ``{0..V-1}``."""

    def __init__(self, vocab_size: int):
        super().__init__(vocab_size)
        self.num_states = self.vocab_size

    def draw(self, request: DrawRequest) -> Tensor:
        dtype = self._token_dtype(request.dtype)
        return torch.randint(
            self.vocab_size, request.shape, device=request.device, dtype=dtype, generator=request.generator
        )

    def state_probabilities(self) -> Tensor:
        """``1 / V`` for every token."""
        return torch.full((self.vocab_size,), 1.0 / self.vocab_size, dtype=torch.float64)

    def log_prob(self, x0: Tensor) -> Tensor:
        inside = ((x0 >= 0) & (x0 < self.vocab_size)).reshape(x0.shape[0], -1).all(dim=1)
        value = -math.log(self.vocab_size) * math.prod(x0.shape[1:])
        return torch.where(inside, value, -math.inf).to(torch.get_default_dtype())


class MaskTokens(TokenPrior):
    """Every position the mask token ``V``."""

    def __init__(self, vocab_size: int):
        super().__init__(vocab_size)
        self.num_states = self.vocab_size + 1

    @property
    def mask_token(self) -> int:
        """The mask token ``V``."""
        return self.vocab_size

    def draw(self, request: DrawRequest) -> Tensor:
        return torch.full(request.shape, self.mask_token, device=request.device, dtype=self._token_dtype(request.dtype))

    def state_probabilities(self) -> Tensor:
        """All mass on the mask token ``V``."""
        return torch.nn.functional.one_hot(torch.tensor(self.mask_token), self.num_states).double()

    def log_prob(self, x0: Tensor) -> Tensor:
        masked = (x0 == self.mask_token).reshape(x0.shape[0], -1).all(dim=1)
        return torch.where(masked, 0.0, -math.inf).to(torch.get_default_dtype())


SOURCES: dict[str, type[TokenPrior]] = {"uniform": UniformTokens, "mask": MaskTokens}
"""The token sources by name."""


def token_prior(source: str, vocab_size: int) -> TokenPrior:
    """The source called ``source`` (``"uniform"`` or ``"mask"``) over ``vocab_size`` tokens."""
    return SOURCES[require_choice("source", source, SOURCES)](vocab_size)
