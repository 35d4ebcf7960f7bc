r"""``unet``: a U-Net vector field $v(t, x\, [, y])$ for square images ``x: [batch, C, S, S]``.

The architecture follows DDPM / ADM (Ho et al. 2020; Dhariwal & Nichol 2021) at small scale.
With $L$ = ``len(channel_mult)`` levels, level $i$ works at resolution $S / 2^i$ with
``base_channels * channel_mult[i]`` channels::

    c  = c(t, y)                                  time (+ label) conditioning vector
    h  = conv_in(x)
    down:   per level, num_res_blocks x [ResidualBlock(h, c) (+ SelfAttention)], then Downsample
            (except at the last level); every intermediate h is kept as a skip connection
    middle: ResidualBlock (+ SelfAttention), ResidualBlock
    up:     per level in reverse, (num_res_blocks + 1) x [ResidualBlock(concat(h, skip), c)
            (+ SelfAttention)], then Upsample (except at the first level)
    v  = conv_out(silu(GN(h)))

Self-attention is applied at the resolutions listed in ``attention_resolutions`` (in pixels).
The input side must be divisible by the downsampling factor $2^{L-1}$; sizes that are not
are refused at construction with a message naming the factor.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import cast

import torch
import torch.nn.functional as F
from jaxtyping import Float
from torch import Tensor, nn

from flowkit.core import VectorFieldModel
from flowkit.exceptions import InvalidParameterError
from flowkit.hookspecs import Register, hookimpl
from flowkit.models.boundary import check_dtype, check_event_shape, checks_active
from flowkit.models.conditioning import ConditionEmbedding, check_labels, conditional_factory
from flowkit.models.unet_layers import Downsample, GroupNorm, ResidualBlock, SelfAttention, Upsample
from flowkit.shapes import Labels, Time, checked
from flowkit.validation import require_float, require_int, require_ints

__all__ = ["UNetVectorField"]


class _Stage(nn.Module):
    """A residual block followed, optionally, by self-attention."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        condition_dim: int,
        *,
        attention: bool,
        heads: int,
        dropout: float,
        groups: int,
    ):
        super().__init__()
        self.block = ResidualBlock(in_channels, out_channels, condition_dim, dropout=dropout, groups=groups)
        self.attention = SelfAttention(out_channels, heads=heads, groups=groups) if attention else None

    def forward(self, h: Tensor, c: Tensor) -> Tensor:
        h = self.block(h, c)
        return h if self.attention is None else self.attention(h)


class _Level(nn.Module):
    """The stages of one resolution level and the resampling (or ``None``) that follows them."""

    def __init__(self, stages: list[_Stage], resample: nn.Module | None):
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.resample = resample


class UNetVectorField(VectorFieldModel):
    r"""A U-Net vector field on ``[channels, image_size, image_size]`` images.

    Args:
        channels: image channels (1 for digits, 3 for RGB).
        image_size: side $S$ of the square images; must be divisible by $2^{L-1}$, $L$ = ``len(channel_mult)``.
        base_channels: channels of the first level; the conditioning vector has ``4 * base_channels``.
        channel_mult: channel multiplier of each resolution level (its length sets the depth).
        num_res_blocks: residual blocks per level on the way down (one more on the way up).
        attention_resolutions: resolutions (sides in pixels, each one of $S / 2^i$) with
            self-attention after the residual blocks; ``None`` means the lowest resolution only,
            ``()`` no attention.
        attention_heads: heads of each self-attention layer (must divide its channels).
        middle_attention: self-attention in the middle block; ``None`` (default) when the lowest
            resolution is in ``attention_resolutions``, ``True`` always (DDPM / ADM / torchcfm,
            whose middle block attends whatever the other resolutions).
        dropout: dropout probability inside the residual blocks, in ``[0, 1)``.
        norm_groups: GroupNorm groups (must divide every level's channels).
        time_embedding: ``"sinusoidal"`` or ``"fourier"`` (with ``base_channels`` features).
        num_classes: ``None`` for an unconditional field, or the number of classes for a
            class-conditional one (labels ``y`` in ``[0, num_classes)``, ``-1`` = no label).
        condition_dropout: probability that a label is replaced by the null token in training
            mode (used only when ``num_classes`` is set); enables classifier-free guidance.
        channels_last: on CUDA, run the convolutions in the channels-last (NHWC) memory format
            (:func:`flowkit.device.place_model` converts the weights when it moves the model to
            CUDA; inputs are converted in :meth:`forward`). Off by default: on an H200 the
            CIFAR-10 U-Net trained 13% slower in fp32 and no faster in bf16 with it, the
            GroupNorm kernels working on NCHW (``benchmarks/gpu_check.py``).
    """

    def __init__(
        self,
        *,
        channels: int,
        image_size: int,
        base_channels: int = 32,
        channel_mult: Sequence[int] = (1, 2),
        num_res_blocks: int = 2,
        attention_resolutions: Sequence[int] | None = None,
        attention_heads: int = 4,
        middle_attention: bool | None = None,
        dropout: float = 0.0,
        norm_groups: int = 8,
        time_embedding: str = "sinusoidal",
        num_classes: int | None = None,
        condition_dropout: float = 0.1,
        channels_last: bool = False,
    ):
        super().__init__()
        self.prefers_channels_last = bool(channels_last)
        self.channels = require_int("channels", channels, minimum=1)
        self.image_size = require_int("image_size", image_size, minimum=1)
        base_channels = require_int("base_channels", base_channels, minimum=1)
        multipliers = require_ints("channel_mult", channel_mult, minimum=1, allow_empty=False)
        num_res_blocks = require_int("num_res_blocks", num_res_blocks, minimum=1)
        heads = require_int("attention_heads", attention_heads, minimum=1)
        groups = require_int("norm_groups", norm_groups, minimum=1)
        dropout = require_float("dropout", dropout, minimum=0.0, below=1.0)

        factor = 2 ** (len(multipliers) - 1)
        if image_size % factor:
            raise InvalidParameterError(
                f"image_size={image_size} is not divisible by the downsampling factor {factor} "
                f"(2^(len(channel_mult) - 1) with channel_mult={multipliers}); use an image size that is "
                f"a multiple of {factor} or fewer channel_mult levels"
            )
        resolutions = [image_size // 2**i for i in range(len(multipliers))]
        if attention_resolutions is None:
            attention_at = {resolutions[-1]}
        else:
            attention_at = set(
                require_ints("attention_resolutions", attention_resolutions, minimum=1, allow_empty=True)
            )
            unknown = sorted(attention_at - set(resolutions))
            if unknown:
                raise InvalidParameterError(
                    f"attention_resolutions {unknown} are not resolutions of this U-Net; "
                    f"accepted: {resolutions} (image_size / 2^level)"
                )
        level_channels = [base_channels * m for m in multipliers]
        for width in (base_channels, *level_channels):
            if width % groups:
                raise InvalidParameterError(
                    f"norm_groups={groups} must divide every level's channels; {width} channels "
                    f"(base_channels={base_channels}, channel_mult={multipliers}) is not divisible"
                )
        if middle_attention not in (None, True, False):
            raise InvalidParameterError(
                f"middle_attention must be true, false or None (auto), got {middle_attention!r}"
            )
        attend_middle = resolutions[-1] in attention_at if middle_attention is None else middle_attention
        for resolution, width in zip(resolutions, level_channels):
            if (resolution in attention_at or (attend_middle and resolution == resolutions[-1])) and width % heads:
                raise InvalidParameterError(
                    f"attention_heads={heads} must divide the {width} channels at resolution {resolution}"
                )

        condition_dim = 4 * base_channels
        self.condition = ConditionEmbedding(
            base_channels,
            condition_dim,
            time_embedding=time_embedding,
            num_classes=num_classes,
            condition_dropout=condition_dropout,
        )
        self.num_classes = self.condition.num_classes

        def stage(c_in: int, c_out: int, resolution: int, attention: bool | None = None) -> _Stage:
            attention = resolution in attention_at if attention is None else attention
            return _Stage(c_in, c_out, condition_dim, attention=attention, heads=heads, dropout=dropout, groups=groups)

        self.input_conv = nn.Conv2d(channels, base_channels, 3, padding=1)
        skip_channels = [base_channels]
        width = base_channels
        down: list[_Level] = []
        for i, (resolution, out) in enumerate(zip(resolutions, level_channels)):
            stages = []
            for _ in range(num_res_blocks):
                stages.append(stage(width, out, resolution))
                width = out
                skip_channels.append(width)
            last = i == len(resolutions) - 1
            down.append(_Level(stages, None if last else Downsample(width)))
            if not last:
                skip_channels.append(width)
        self.down_levels = nn.ModuleList(down)
        self.middle = nn.ModuleList([stage(width, width, resolutions[-1], attend_middle), stage(width, width, -1)])
        up: list[_Level] = []
        for i in reversed(range(len(resolutions))):
            stages = []
            for _ in range(num_res_blocks + 1):
                stages.append(stage(width + skip_channels.pop(), level_channels[i], resolutions[i]))
                width = level_channels[i]
            up.append(_Level(stages, Upsample(width) if i > 0 else None))
        self.up_levels = nn.ModuleList(up)
        self.output_norm = GroupNorm(groups, width)
        self.output_conv = nn.Conv2d(width, channels, 3, padding=1)

    def forward(self, t: Tensor, x: Tensor, y: Tensor | None = None) -> Tensor:
        """``v(t, x | y)`` with ``t: [batch]``, ``x: [batch, channels, S, S]``, ``y: [batch]`` or ``None``.

        Returns a tensor with the shape and dtype of ``x``.
        """
        if checks_active():
            self._check_inputs(x, t, y)
        c = self.condition(t, y)
        if self.prefers_channels_last and x.is_cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        h = self.input_conv(x)
        skips = [h]
        for level in cast("Iterable[_Level]", self.down_levels):
            for stage in level.stages:
                h = stage(h, c)
                skips.append(h)
            if level.resample is not None:
                h = level.resample(h)
                skips.append(h)
        for stage in self.middle:
            h = stage(h, c)
        for level in cast("Iterable[_Level]", self.up_levels):
            for stage in level.stages:
                h = stage(torch.cat([h, skips.pop()], dim=1), c)
            if level.resample is not None:
                h = level.resample(h)
        out = self.output_conv(F.silu(self.output_norm(h))).to(x.dtype)
        return out.contiguous()

    @checked
    def _check_inputs(self, x: Float[Tensor, "batch channels height width"], t: Time, y: Labels | None) -> None:
        """``x`` is checked first, so a ``t`` or ``y`` whose batch disagrees with ``x`` is the one named."""
        name = type(self).__name__
        check_event_shape(name, x, (self.channels, self.image_size, self.image_size))
        check_dtype(name, x, self.output_conv.weight)
        check_labels(y, self.num_classes)


@hookimpl
def flowkit_register_models(register: Register) -> None:
    """Register ``unet`` and ``conditional-unet`` (``num_classes`` required)."""
    register(
        "unet",
        UNetVectorField,
        description="U-Net vector field for square images (channels=..., image_size=...); num_classes=K conditions on labels",
    )
    register(
        "conditional-unet",
        conditional_factory(UNetVectorField),
        description="class-conditional U-Net (num_classes required), for classifier-free guidance",
    )
