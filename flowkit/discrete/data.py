r"""Token toy data with exact distributions: ``discrete-checkerboard`` and ``markov-text``.

A :class:`TokenDataset` declares ``vocab_size`` (so the pipeline keeps its integer tokens) and
knows the exact probability of every sequence, :meth:`TokenDataset.probabilities`, a tensor of
shape ``[V] * L`` ($L$ the length), used by the ``discrete-tv`` metric and as ``log_prob``.

* ``discrete-checkerboard``: two tokens per point, the column and the row of a ``grid x grid``
  board of buckets (as ``flow_matching``'s discrete 2D example discretises its checkerboard);
  ``cells x cells`` squares of ``grid / cells`` buckets each, uniform on the buckets of the
  squares with column + row even: $p(i, j) = 2 / \texttt{grid}^2$ there, $0$ elsewhere.
* ``markov-text``: sequences of ``length`` tokens of a ``vocab_size`` vocabulary from a Markov
  chain, $p(x) = \pi(x_1) \prod_k P(x_{k+1} \mid x_k)$, with initial $\pi$ and transition matrix
  $P$ drawn once from ``chain_seed`` (Dirichlet rows with concentration ``concentration``, small
  values give sparse, text-like transitions).
"""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.synthetic import SyntheticDataset
from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_float, require_int

__all__ = ["DiscreteCheckerboard", "MarkovText", "TokenDataset"]


class TokenDataset(SyntheticDataset):
    """Integer token sequences ``[n, length]`` over ``vocab_size`` tokens, with exact probabilities."""

    vocab_size: int

    @abstractmethod
    def probabilities(self) -> Tensor:
        """$p(x)$ for every sequence, ``[vocab_size] * length`` (float64, sums to 1)."""

    @property
    def has_density(self) -> bool:
        """The probability of every sequence is known exactly."""
        return True

    def log_prob(self, x: Tensor) -> Tensor:
        r"""$\log p(x)$ of tokens ``x`` ``[batch, length]`` ($-\infty$ off the support)."""
        table = self.probabilities().to(x.device)
        return table[tuple(x.long().unbind(dim=1))].log()

    def _draw(self, n: int, generator: torch.Generator | None) -> Tensor:
        flat = self.probabilities().reshape(-1)
        index = torch.multinomial(flat, n, replacement=True, generator=generator)
        return torch.stack(torch.unravel_index(index, self.probabilities().shape), dim=1)


class DiscreteCheckerboard(TokenDataset):
    """Points ``(column, row)`` on a ``grid x grid`` board, uniform on the black squares' buckets."""

    def __init__(self, n_train: int = 50_000, n_test: int = 5_000, seed: int = 0, grid: int = 32, cells: int = 4):
        self.grid = require_int("grid", grid, minimum=2)
        self.cells = require_int("cells", cells, minimum=2)
        if self.cells % 2 or self.grid % self.cells:
            raise InvalidParameterError(
                f"cells must be even and divide grid (grid={grid}, cells={cells}): half the squares are black"
            )
        self.vocab_size = self.grid
        self.event_shape = (2,)
        super().__init__(n_train, n_test, seed)

    def probabilities(self) -> Tensor:
        square = torch.arange(self.grid) // (self.grid // self.cells)
        black = (square[:, None] + square[None, :]) % 2 == 0
        return black.double() / black.sum()

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        return DataSplit(self._draw(n, generator))


class MarkovText(TokenDataset):
    """Sequences of a Markov chain on ``vocab_size`` tokens with a fixed random transition matrix."""

    def __init__(
        self,
        n_train: int = 20_000,
        n_test: int = 5_000,
        seed: int = 0,
        vocab_size: int = 6,
        length: int = 6,
        concentration: float = 0.3,
        chain_seed: int = 0,
    ):
        self.vocab_size = require_int("vocab_size", vocab_size, minimum=2)
        length = require_int("length", length, minimum=1)
        if self.vocab_size**length > 2**22:
            raise InvalidParameterError(
                f"markov-text keeps the exact probability of all vocab_size^length sequences; "
                f"{vocab_size}^{length} is too many (at most 2^22)"
            )
        self.event_shape = (length,)
        self.concentration = require_float("concentration", concentration, above=0.0)
        self.chain_seed = require_int("chain_seed", chain_seed, minimum=0)
        chain = torch.Generator().manual_seed(self.chain_seed)
        dirichlet = torch.distributions.Dirichlet(
            torch.full((self.vocab_size,), self.concentration, dtype=torch.float64)
        )
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(int(torch.randint(2**31, (), generator=chain)))
            self.initial = dirichlet.sample()
            self.transition = dirichlet.sample((self.vocab_size,))
        self._table: Tensor | None = None
        super().__init__(n_train, n_test, seed)

    def probabilities(self) -> Tensor:
        if self._table is None:
            table = self.initial
            for _ in range(1, self.event_shape[0]):
                table = table.unsqueeze(-1) * self.transition.reshape(
                    *([1] * (table.dim() - 1)), *self.transition.shape
                )
            self._table = table
        return self._table

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        tokens = [torch.multinomial(self.initial, n, replacement=True, generator=generator)]
        for _ in range(1, self.event_shape[0]):
            rows = self.transition[tokens[-1]]
            tokens.append(torch.multinomial(rows, 1, generator=generator).squeeze(1))
        return DataSplit(torch.stack(tokens, dim=1))
