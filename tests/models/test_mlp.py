"""The ``mlp`` vector field: shapes, dtypes, boundary checks, gradients, determinism, parameter count."""

from __future__ import annotations

import pytest
import torch
from model_builders import small_mlp

from flowkit import VectorFieldModel, registry
from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.models import MLPVectorField, count_parameters
from flowkit.models.mlp import ACTIVATIONS


@pytest.mark.parametrize("batch", [1, 3, 17])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_has_shape_and_dtype_of_x(batch, dtype):
    model = small_mlp().to(dtype)
    x = torch.randn(batch, 3, dtype=dtype)
    out = model(torch.rand(batch, dtype=dtype), x)
    assert isinstance(model, VectorFieldModel) and model.num_classes is None
    assert out.shape == x.shape and out.dtype == dtype
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("activation", sorted(ACTIVATIONS))
@pytest.mark.parametrize("embedding", ["sinusoidal", "fourier"])
def test_every_activation_and_time_embedding(activation, embedding):
    model = small_mlp(activation=activation, time_embedding=embedding)
    assert model(torch.rand(4), torch.randn(4, 3)).shape == (4, 3)


@pytest.mark.parametrize("num_classes", [None, 10])
@pytest.mark.parametrize("depth", [1, 3])
def test_parameter_count_matches_closed_form(num_classes, depth):
    d, w = 3, 16
    model = small_mlp(depth=depth, num_classes=num_classes)
    condition = 2 * (w * w + w) + (0 if num_classes is None else (num_classes + 1) * w)
    hidden = (d * w + w) + (depth - 1) * (w * w + w) + depth * w * w
    output = w * d + d
    assert count_parameters(model) == condition + hidden + output
    model.output.requires_grad_(False)
    assert count_parameters(model, trainable_only=True) == condition + hidden
    assert count_parameters(model) == condition + hidden + output


def test_wrong_x_shape_names_x():
    model = small_mlp()
    with pytest.raises(ShapeError, match="'x'"):
        model(torch.rand(4), torch.randn(4, 2))  # wrong feature count
    with pytest.raises(ShapeError, match="'x'"):
        model(torch.rand(4), torch.randn(4, 3, 1))  # wrong rank


@pytest.mark.parametrize("t", [torch.rand(4, 1), torch.rand(()), torch.rand(5), torch.zeros(4, dtype=torch.long)])
def test_wrong_t_names_t(t):
    with pytest.raises(ShapeError, match="parameter 't'"):
        small_mlp()(t, torch.randn(4, 3))


def test_dtype_mismatch_with_parameters_is_refused():
    with pytest.raises(ShapeError, match="dtype"):
        small_mlp()(torch.rand(4, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64))


def test_labels_refused_by_unconditional_model():
    with pytest.raises(InvalidParameterError, match="unconditional"):
        small_mlp()(torch.rand(4), torch.randn(4, 3), torch.zeros(4, dtype=torch.long))


def test_gradients_reach_every_parameter():
    model = small_mlp(num_classes=4, time_embedding="fourier")
    y = torch.tensor([0, 1, 2, 3, -1, 1])  # -1: the null token gets a gradient too
    model(torch.rand(6), torch.randn(6, 3), y).square().sum().backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_same_seed_same_model_and_output():
    t, x = torch.rand(5), torch.randn(5, 3)
    outputs = []
    for seed in (7, 7, 8):
        torch.manual_seed(seed)
        model = small_mlp(time_embedding="fourier", num_classes=3)
        outputs.append(model(t, x, torch.tensor([0, 1, 2, 0, 1])))
    torch.testing.assert_close(outputs[0], outputs[1], rtol=0, atol=0)
    assert not torch.allclose(outputs[0], outputs[2])


def test_dropout_is_active_only_in_training_mode():
    model = small_mlp(dropout=0.5)
    t, x = torch.rand(8), torch.randn(8, 3)
    model.eval()
    torch.testing.assert_close(model(t, x), model(t, x), rtol=0, atol=0)
    model.train()
    assert not torch.equal(model(t, x), model(t, x))


@pytest.mark.parametrize(
    "params,word",
    [
        ({"depth": 0}, "depth"),
        ({"width": 2.5}, "width"),
        ({"activation": "swish"}, "activation"),
        ({"dropout": 1.0}, "dropout"),
        ({"num_classes": 0}, "num_classes"),
        ({"condition_dropout": -0.1}, "condition_dropout"),
        ({"time_embedding": "learned"}, "time_embedding"),
    ],
)
def test_invalid_parameters_are_named(params, word):
    with pytest.raises(InvalidParameterError, match=word):
        registry.create("model", "mlp", dim=2, **params)


def test_registered_factory_is_the_class():
    assert registry.get("model", "mlp").factory is MLPVectorField
