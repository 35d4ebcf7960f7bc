"""Building blocks of the U-Net vector field: residual block, self-attention, down/upsampling.

- :class:`ResidualBlock` (DDPM/ADM style, time-conditioned through an additive projection)::

      h   = conv_1(silu(GN(x))) + P c
      out = skip(x) + conv_2(dropout(silu(GN(h))))

  ``skip`` is a 1x1 convolution when the channel count changes, the identity otherwise.
- :class:`SelfAttention`: multi-head dot-product attention over the ``H * W`` positions ::

      out = x + proj(softmax(q k^T / sqrt(d)) v),   (q, k, v) = qkv(GN(x))

- :class:`Downsample` (3x3 convolution, stride 2) and :class:`Upsample` (nearest-neighbour x2,
  then a 3x3 convolution).

Only GroupNorm is used, never BatchNorm, so every sample is processed independently of the
others in its batch (which guidance relies on when it batches two passes together).
:class:`GroupNorm` keeps bfloat16/float16 activations in their precision under autocast (the
kernel accumulates the statistics in float32), where ``nn.GroupNorm`` would be run in float32,
costing a cast to float32 and back around every normalisation of a mixed-precision step.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["Downsample", "GroupNorm", "ResidualBlock", "SelfAttention", "Upsample"]

_LOW_PRECISIONS = (torch.bfloat16, torch.float16)


class GroupNorm(nn.GroupNorm):
    r"""GroupNorm in ``x``'s precision over groups $g$ of channels.

    $y = (x - \mu_g) / \sqrt{\sigma_g^2 + \epsilon} \cdot \mathrm{weight} + \mathrm{bias}$, with $\mu_g$, $\sigma_g^2$
    the group's mean and variance and $\epsilon$ = ``eps``.

    Outside autocast, or for float32 inputs, this is ``nn.GroupNorm``. Under autocast a bfloat16 or
    float16 ``x`` is normalised in that precision (statistics accumulated in float32 by the
    kernel) with the affine parameters cast to it, instead of autocast's float32 round trip.
    """

    def forward(self, x: Tensor) -> Tensor:
        if x.dtype in _LOW_PRECISIONS and torch.is_autocast_enabled(x.device.type):
            with torch.autocast(x.device.type, enabled=False):
                return F.group_norm(x, self.num_groups, self.weight.to(x.dtype), self.bias.to(x.dtype), self.eps)
        return super().forward(x)


class ResidualBlock(nn.Module):
    """``out = skip(x) + conv_2(dropout(silu(GN(conv_1(silu(GN(x))) + P c))))``."""

    def __init__(self, in_channels: int, out_channels: int, condition_dim: int, *, dropout: float, groups: int):
        super().__init__()
        self.norm_1 = GroupNorm(groups, in_channels)
        self.conv_1 = nn.Conv2d(in_channels, out_channels, 3, padding=1)
        self.condition_projection = nn.Linear(condition_dim, out_channels)
        self.norm_2 = GroupNorm(groups, out_channels)
        self.dropout = nn.Dropout(dropout)
        self.conv_2 = nn.Conv2d(out_channels, out_channels, 3, padding=1)
        self.skip = nn.Identity() if in_channels == out_channels else nn.Conv2d(in_channels, out_channels, 1)

    def forward(self, x: Tensor, c: Tensor) -> Tensor:
        """Apply the block to ``x`` (``[batch, in, H, W]``) conditioned on ``c`` (``[batch, condition_dim]``)."""
        h = self.conv_1(F.silu(self.norm_1(x)))
        h = h + self.condition_projection(F.silu(c))[:, :, None, None]
        h = self.conv_2(self.dropout(F.silu(self.norm_2(h))))
        return self.skip(x) + h


class SelfAttention(nn.Module):
    """``out = x + proj(attention(qkv(GN(x))))`` with ``heads`` heads over the spatial positions."""

    def __init__(self, channels: int, *, heads: int, groups: int):
        super().__init__()
        self.heads = heads
        self.norm = GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)

    def forward(self, x: Tensor) -> Tensor:
        """Attend over the ``H * W`` positions of ``x`` (``[batch, channels, H, W]``)."""
        batch, channels, height, width = x.shape
        qkv = self.qkv(self.norm(x)).reshape(batch, 3, self.heads, channels // self.heads, height * width)
        q, k, v = (qkv[:, i].transpose(-1, -2) for i in range(3))  # [batch, heads, H*W, head_dim]
        attended = F.scaled_dot_product_attention(q, k, v)
        attended = attended.transpose(-1, -2).reshape(batch, channels, height, width)
        return x + self.proj(attended)


class Downsample(nn.Module):
    """Halve the resolution with a 3x3 convolution of stride 2."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """``[batch, C, H, W] -> [batch, C, H/2, W/2]``."""
        return self.conv(x)


class Upsample(nn.Module):
    """Double the resolution: nearest-neighbour interpolation, then a 3x3 convolution."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: Tensor) -> Tensor:
        """``[batch, C, H, W] -> [batch, C, 2H, 2W]``."""
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))
