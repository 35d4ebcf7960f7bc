"""The cifar10 preset builds torchcfm's CIFAR-10 U-Net and training settings; middle attention."""

from __future__ import annotations

import pytest
import torch
from model_builders import small_unet

from flowkit import registry
from flowkit.exceptions import ConfigError, InvalidParameterError
from flowkit.models.unet_layers import ResidualBlock, SelfAttention
from flowkit.pipeline.build import model_params
from flowkit.presets import load_preset, preset_names


@pytest.mark.parametrize("middle,expected", [(None, 1 + 2), (True, 1 + 1 + 2), (False, 1 + 2)])
def test_middle_attention_is_forced_on_or_follows_the_lowest_resolution(middle, expected):
    # attention at 8x8 only: 1 down stage, 2 up stages; the middle block (4x4) attends only when forced
    model = small_unet(attention_resolutions=(8,), middle_attention=middle)
    assert sum(isinstance(m, SelfAttention) for m in model.modules()) == expected
    assert (model.middle[0].attention is not None) == bool(middle)


def test_middle_attention_must_be_a_boolean_and_its_heads_must_divide_the_channels():
    with pytest.raises(InvalidParameterError, match="middle_attention"):
        small_unet(middle_attention="yes")
    with pytest.raises(InvalidParameterError, match="attention_heads=3"):
        small_unet(attention_resolutions=(), middle_attention=True, attention_heads=3)


def test_cifar10_preset_is_torchcfms_recipe():
    assert "cifar10" in preset_names()
    config = load_preset("cifar10")
    train = config.train
    assert (train.batch_size, train.lr, train.warmup_steps, train.lr_schedule) == (128, 2e-4, 5000, "constant")
    assert (train.grad_clip, train.ema_decay, train.weight_decay, train.betas) == (1.0, 0.9999, 0.0, (0.9, 0.999))
    with torch.device("meta"):  # structure only: no memory for the 35.7M weights
        model = registry.create("model", config.model.name, **model_params(config.model, (3, 32, 32), None))
    attention = [m for m in model.modules() if isinstance(m, SelfAttention)]
    # 16x16 (256 channels): 2 down + 3 up stages, plus the middle block: all 4 heads of 64 channels
    assert len(attention) == 6
    assert all(m.heads == 4 and m.qkv.in_channels == 256 for m in attention)
    blocks = [m for m in model.modules() if isinstance(m, ResidualBlock)]
    assert len(blocks) == 4 * 2 + 2 + 4 * 3  # down, middle, up (one more per level on the way up)
    assert {m.dropout.p for m in blocks} == {0.1} and model.input_conv.out_channels == 128
    assert all(m.num_groups == 32 for m in model.modules() if isinstance(m, torch.nn.GroupNorm))
    assert load_preset("cifar10", data={"name": "cifar10", "root": "/x"}).data.params["root"] == "/x"
    with pytest.raises(ConfigError, match="shipped presets: cifar10"):
        load_preset("cifar100")
