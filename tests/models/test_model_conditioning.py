"""Class conditioning: null token, condition dropout, label checks, the conditional registry variants."""

from __future__ import annotations

import math

import pytest
import torch
from model_builders import small_mlp

from flowkit import registry
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.models import NULL_LABEL


def test_null_label_and_missing_labels_give_the_unconditional_field(builder):
    build, event = builder
    model = build(num_classes=5).eval()
    t, x = torch.rand(4), torch.randn(4, *event)
    unconditional = model(t, x)
    torch.testing.assert_close(model(t, x, torch.full((4,), NULL_LABEL)), unconditional)
    mixed = model(t, x, torch.tensor([NULL_LABEL, 3, NULL_LABEL, 0]))
    torch.testing.assert_close(mixed[[0, 2]], unconditional[[0, 2]])
    assert not torch.allclose(mixed[[1, 3]], unconditional[[1, 3]])
    assert not torch.allclose(model(t, x, torch.full((4,), 1)), model(t, x, torch.full((4,), 2)))


def test_condition_dropout_replaces_labels_by_the_null_token_in_training_mode():
    p, n = 0.3, 2000
    model = small_mlp(num_classes=4, condition_dropout=p)
    t, x, y = torch.rand(n), torch.randn(n, 3), torch.randint(0, 4, (n,))
    model.eval()
    conditional, unconditional = model(t, x, y), model(t, x)
    torch.testing.assert_close(model(t, x, y), conditional, rtol=0, atol=0)  # no dropout in eval mode
    model.train()
    trained = model(t, x, y)
    is_conditional = (trained - conditional).abs().amax(dim=1) < 1e-6
    is_unconditional = (trained - unconditional).abs().amax(dim=1) < 1e-6
    assert torch.all(is_conditional ^ is_unconditional)  # every row is exactly one of the two
    dropped = is_unconditional.float().mean().item()
    assert abs(dropped - p) < 4 * math.sqrt(p * (1 - p) / n)


def test_no_condition_dropout_when_probability_is_zero():
    model = small_mlp(num_classes=4, condition_dropout=0.0).train()
    t, x, y = torch.rand(64), torch.randn(64, 3), torch.randint(0, 4, (64,))
    expected = model.eval()(t, x, y)
    torch.testing.assert_close(model.train()(t, x, y), expected, rtol=0, atol=0)


@pytest.mark.parametrize("bad", [torch.tensor([0, 5, 1, 2]), torch.tensor([0, -2, 1, 2])])
def test_labels_out_of_range_are_refused(builder, bad):
    build, event = builder
    with pytest.raises(InvalidParameterError, match=r"\[0, 5\)"):
        build(num_classes=5)(torch.rand(4), torch.randn(4, *event), bad)


def test_wrong_label_shape_or_dtype_names_y(builder):
    build, event = builder
    model = build(num_classes=5)
    with pytest.raises(ShapeError, match="parameter 'y'"):
        model(torch.rand(4), torch.randn(4, *event), torch.zeros(4))
    with pytest.raises(ShapeError, match="parameter 'y'"):
        model(torch.rand(4), torch.randn(4, *event), torch.zeros(3, dtype=torch.long))


@pytest.mark.parametrize(
    "name,params",
    [("conditional-mlp", {"dim": 2}), ("conditional-unet", {"channels": 1, "image_size": 8})],
)
def test_conditional_variants_require_num_classes(name, params):
    model = registry.create("model", name, num_classes=10, **params)
    assert model.num_classes == 10
    assert "num_classes" in registry.get("model", name).parameters()
    with pytest.raises(InvalidParameterError, match="num_classes"):
        registry.create("model", name, **params)
    with pytest.raises(InvalidParameterError, match="num_classes"):
        registry.create("model", name, num_classes=None, **params)


def test_plugins_listing_names_the_models_and_conditional_variants():
    from flowkit.cli.plugins import collect

    listed = {c["name"]: c for c in collect("model")["components"]}
    assert {"mlp", "unet", "conditional-mlp", "conditional-unet"} <= set(listed)
    assert all(listed[name]["description"] for name in ("mlp", "unet", "conditional-mlp", "conditional-unet"))
