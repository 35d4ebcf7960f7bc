r"""Time embeddings: features $\phi(t)$ of the scalar time $t \in [0, 1]$ fed to a network.

Two embeddings are provided, selected by name through :func:`time_embedding`:

- ``"sinusoidal"`` (Transformer / DDPM style), with $h$ = ``half = dim // 2`` frequencies
  $w_k = \texttt{max\_period}^{-k / h}$, $k = 0, \dots, h - 1$, and a time scale $s$ (1000, so
  that $t \in [0, 1]$ spans the range of DDPM's integer steps):

  $$
  \phi(t) = [\sin(s t w_0), \dots, \sin(s t w_{h-1}), \cos(s t w_0), \dots, \cos(s t w_{h-1})]
  $$

- ``"fourier"`` (random Gaussian Fourier features, Tancik et al. 2020; Song et al. 2021), with
  fixed frequencies $b_k \sim \mathcal{N}(0, \texttt{scale}^2)$ drawn once at construction (a persistent buffer, so
  checkpoints restore them):

  $$
  \phi(t) = [\sin(2 \pi b_0 t), \dots, \sin(2 \pi b_{h-1} t), \cos(2 \pi b_0 t), \dots, \cos(2 \pi b_{h-1} t)]
  $$

For an odd ``dim`` the last feature is $t$ itself. Features are computed in at least float32
($\sin(1000\, t)$ in bfloat16 would lose the time), whatever the input's precision.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

from flowkit.exceptions import InvalidParameterError
from flowkit.validation import require_choice, require_int

__all__ = ["TIME_EMBEDDINGS", "FourierTimeEmbedding", "SinusoidalTimeEmbedding", "time_embedding"]


def _features(angles: Tensor, t: Tensor, dim: int) -> Tensor:
    """``[sin(angles), cos(angles)]``, plus ``t`` itself as a last column when ``dim`` is odd."""
    parts = [torch.sin(angles), torch.cos(angles)]
    if dim % 2:
        parts.append(t[:, None])
    return torch.cat(parts, dim=-1)


def _at_least_float32(t: Tensor) -> Tensor:
    return t.to(torch.promote_types(t.dtype, torch.float32))


class SinusoidalTimeEmbedding(nn.Module):
    r"""$\phi(t) = [\sin(s t w_k), \cos(s t w_k)]_k$ with $w_k = \texttt{max\_period}^{-k / h}$ (no parameters).

    $h$ = ``dim // 2`` frequencies, time scale $s$ (see the module docstring).
    """

    def __init__(self, dim: int, *, max_period: float = 10_000.0, time_scale: float = 1000.0):
        super().__init__()
        require_int("time embedding dim", dim, minimum=2)
        if not max_period > 1:
            raise InvalidParameterError(f"max_period must be > 1, got {max_period!r}")
        if not time_scale > 0:
            raise InvalidParameterError(f"time_scale must be > 0, got {time_scale!r}")
        self.dim = dim
        self.max_period = float(max_period)
        self.time_scale = float(time_scale)

    def forward(self, t: Tensor) -> Tensor:
        """Features of ``t`` (``[batch]``), shape ``[batch, dim]``, in at least float32."""
        t = _at_least_float32(t)
        half = self.dim // 2
        k = torch.arange(half, device=t.device, dtype=t.dtype)
        frequencies = torch.exp(-math.log(self.max_period) * k / half)
        return _features(self.time_scale * t[:, None] * frequencies, t, self.dim)


class FourierTimeEmbedding(nn.Module):
    r"""$\phi(t) = [\sin(2 \pi b_k t), \cos(2 \pi b_k t)]_k$ with fixed $b_k \sim \mathcal{N}(0, \texttt{scale}^2)$."""

    frequencies: Tensor

    def __init__(self, dim: int, *, scale: float = 16.0):
        super().__init__()
        require_int("time embedding dim", dim, minimum=2)
        if not scale > 0:
            raise InvalidParameterError(f"Fourier feature scale must be > 0, got {scale!r}")
        self.dim = dim
        self.scale = float(scale)
        self.register_buffer("frequencies", torch.randn(dim // 2) * scale)

    def forward(self, t: Tensor) -> Tensor:
        """Features of ``t`` (``[batch]``), shape ``[batch, dim]``, in at least float32."""
        t = _at_least_float32(t)
        angles = 2 * math.pi * t[:, None] * self.frequencies.to(t.dtype)
        return _features(angles, t, self.dim)


TIME_EMBEDDINGS: dict[str, type[nn.Module]] = {
    "sinusoidal": SinusoidalTimeEmbedding,
    "fourier": FourierTimeEmbedding,
}
"""The time embeddings by name."""


def time_embedding(name: str, dim: int) -> nn.Module:
    """The time embedding called ``name`` (``"sinusoidal"`` or ``"fourier"``) with ``dim`` features."""
    return TIME_EMBEDDINGS[require_choice("time_embedding", name, TIME_EMBEDDINGS)](dim)
