"""The ``unet`` vector field: sizes, refusals, boundary checks, attention placement, gradients."""

from __future__ import annotations

import pytest
import torch
from model_builders import small_unet

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.models import UNetVectorField
from flowkit.models.unet_layers import SelfAttention


@pytest.mark.parametrize("batch", [1, 2, 5])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_digits_size_shape_and_dtype(batch, dtype):
    model = small_unet().to(dtype)
    x = torch.randn(batch, 1, 8, 8, dtype=dtype)
    out = model(torch.rand(batch, dtype=dtype), x)
    assert out.shape == x.shape and out.dtype == dtype
    assert torch.isfinite(out).all()


@pytest.mark.parametrize(
    "image_size,channel_mult,attention",
    [(16, (1, 2), (8,)), (32, (1, 2, 2), (8,)), (64, (1, 1, 2, 2), (16, 8))],
)
def test_rgb_sizes(image_size, channel_mult, attention):
    model = small_unet(channels=3, image_size=image_size, channel_mult=channel_mult, attention_resolutions=attention)
    x = torch.randn(2, 3, image_size, image_size)
    assert model(torch.rand(2), x).shape == x.shape


def test_default_registry_construction_for_digits():
    model = registry.create("model", "unet", channels=1, image_size=8)
    assert isinstance(model, UNetVectorField) and model.num_classes is None
    assert model(torch.rand(2), torch.randn(2, 1, 8, 8)).shape == (2, 1, 8, 8)


@pytest.mark.parametrize(
    "attention,expected",
    # down: 1 stage per level; middle: 1 stage that can attend; up: 2 stages per level
    [(None, 1 + 1 + 2), ((8,), 1 + 2), ((8, 4), 2 + 1 + 4), ((), 0)],
)
def test_attention_placed_at_the_requested_resolutions(attention, expected):
    model = small_unet(attention_resolutions=attention)
    assert sum(isinstance(m, SelfAttention) for m in model.modules()) == expected


@pytest.mark.parametrize(
    "params,message",
    [
        ({"image_size": 12, "channel_mult": (1, 2, 2, 2)}, "not divisible by the downsampling factor 8"),
        ({"image_size": 8, "channel_mult": (1, 2, 2, 2, 2)}, "not divisible by the downsampling factor 16"),
        ({"attention_resolutions": (2,)}, r"accepted: \[8, 4\]"),
        ({"norm_groups": 3}, "norm_groups=3"),
        ({"attention_heads": 3}, "attention_heads=3"),
        ({"channel_mult": ()}, "channel_mult must be a non-empty sequence"),
        ({"channel_mult": (1, 0)}, r"channel_mult\[1\] must be an integer >= 1"),
        ({"dropout": 2}, "dropout"),
        ({"image_size": 0}, "image_size"),
    ],
)
def test_sizes_it_cannot_handle_are_refused(params, message):
    with pytest.raises(InvalidParameterError, match=message):
        small_unet(**params)


@pytest.mark.parametrize("shape", [(2, 3, 8, 8), (2, 1, 16, 16), (2, 1, 8, 4), (2, 64), (2, 1, 8)])
def test_wrong_x_shape_names_x(shape):
    with pytest.raises(ShapeError, match="'x'"):
        small_unet()(torch.rand(2), torch.randn(*shape))


def test_wrong_t_shape_names_t():
    with pytest.raises(ShapeError, match="parameter 't'"):
        small_unet()(torch.rand(2, 1), torch.randn(2, 1, 8, 8))
    with pytest.raises(ShapeError, match="parameter 't'"):
        small_unet()(torch.rand(3), torch.randn(2, 1, 8, 8))


def test_samples_are_processed_independently():
    """No layer mixes samples (GroupNorm, not BatchNorm): a sample's output ignores its batch mates."""
    model = small_unet(num_classes=3)
    t, x, y = torch.rand(4), torch.randn(4, 1, 8, 8), torch.tensor([0, 2, -1, 1])
    full = model(t, x, y)
    torch.testing.assert_close(model(t[1:2], x[1:2], y[1:2]), full[1:2], rtol=1e-5, atol=1e-6)


def test_gradients_reach_every_parameter():
    model = small_unet(num_classes=3, attention_resolutions=(8, 4), time_embedding="fourier")
    y = torch.tensor([0, 1, 2, -1])
    model(torch.rand(4), torch.randn(4, 1, 8, 8), y).square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_same_seed_same_output():
    t, x = torch.rand(3), torch.randn(3, 1, 8, 8)
    outputs = []
    for seed in (3, 3, 4):
        torch.manual_seed(seed)
        outputs.append(small_unet()(t, x))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    assert not torch.allclose(outputs[0], outputs[2])


def test_group_norm_keeps_bf16_activations_in_bf16_under_autocast():
    from flowkit.models.unet_layers import GroupNorm

    torch.manual_seed(0)
    norm = GroupNorm(4, 16)
    with torch.no_grad():
        norm.weight.uniform_(0.5, 1.5)
        norm.bias.uniform_(-0.5, 0.5)
    x = torch.randn(3, 16, 5, 5) * 3 + 1
    reference = torch.nn.functional.group_norm(x, 4, norm.weight, norm.bias, norm.eps)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        low = norm(x.bfloat16())
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), reference, rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(norm(x), reference)  # float32 outside autocast: plain GroupNorm
