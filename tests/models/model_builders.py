"""Small model builders shared by the model tests (sized to keep the suite fast on CPU)."""

from __future__ import annotations

from flowkit import registry


def small_mlp(**overrides):
    """An MLP on R^3, width 16, depth 2."""
    return registry.create("model", "mlp", **{"dim": 3, "width": 16, "depth": 2, **overrides})


def small_unet(**overrides):
    """A U-Net on 1x8x8 images: 8 base channels, one residual block per level, attention at 4x4."""
    params = {
        "channels": 1,
        "image_size": 8,
        "base_channels": 8,
        "num_res_blocks": 1,
        "attention_heads": 2,
        "norm_groups": 4,
    }
    return registry.create("model", "unet", **{**params, **overrides})
