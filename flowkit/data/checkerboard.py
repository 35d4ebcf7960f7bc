r"""The checkerboard: uniform on the black squares of a board on $[-\texttt{scale}, \texttt{scale})^2$.

The board has ``cells x cells`` squares of side $h = 2\, \texttt{scale} / \texttt{cells}$; the square in column
$i$ and row $j$ (0-based from the lower-left corner) is black when $i + j$ is even. With
``cells`` even, half of the squares are black, so the exact density is

$$
p(x) = \frac{1}{\texttt{cells}^2 / 2 \cdot h^2} = \frac{1}{2\, \texttt{scale}^2} \quad \text{on black squares}, \qquad
0 \text{ elsewhere}.
$$

The defaults (``scale=4``, ``cells=4``) give FFJORD's checkerboard (Grathwohl et al., 2019).
"""

from __future__ import annotations

import math

import torch
from jaxtyping import Float
from torch import Tensor

from flowkit.core import DataSplit
from flowkit.data.synthetic import SyntheticDataset
from flowkit.exceptions import InvalidParameterError
from flowkit.shapes import checked
from flowkit.validation import require_float, require_int


class Checkerboard(SyntheticDataset):
    r"""Points uniform on the black squares of a ``cells x cells`` board on $[-\texttt{scale}, \texttt{scale})^2$.

    Exact density $1 / (2\, \texttt{scale}^2)$ on black squares (column $i$ + row $j$ even), 0 elsewhere.
    """

    event_shape = (2,)

    def __init__(self, n_train: int = 50_000, n_test: int = 5_000, seed: int = 0, scale: float = 4.0, cells: int = 4):
        self.scale = require_float("scale", scale, above=0.0)
        self.cells = require_int("cells", cells, minimum=2)
        if self.cells % 2:
            raise InvalidParameterError(f"cells must be even (half the squares are black), got {cells}")
        super().__init__(n_train, n_test, seed)

    @property
    def has_density(self) -> bool:
        """The checkerboard density is known exactly."""
        return True

    def _sample(self, n: int, generator: torch.Generator | None) -> DataSplit:
        column = torch.randint(self.cells, (n,), generator=generator)
        row = 2 * torch.randint(self.cells // 2, (n,), generator=generator) + column % 2
        corner = torch.stack([column, row], dim=1).double()
        offset = torch.rand(n, 2, generator=generator, dtype=torch.float64)
        side = 2.0 * self.scale / self.cells
        x = side * (corner + offset) - self.scale
        return DataSplit(x.to(torch.get_default_dtype()))

    @checked
    def log_prob(self, x: Float[Tensor, "batch 2"]) -> Float[Tensor, " batch"]:
        r"""$\log p(x) = -\log(2\, \texttt{scale}^2)$ on black squares, $-\infty$ elsewhere."""
        side = 2.0 * self.scale / self.cells
        index = torch.floor((x + self.scale) / side)
        inside = ((index >= 0) & (index < self.cells)).all(dim=1)
        black = index.sum(dim=1).remainder(2) == 0
        value = torch.full_like(x[:, 0], -math.log(2.0 * self.scale**2))
        return torch.where(inside & black, value, torch.full_like(value, -math.inf))
