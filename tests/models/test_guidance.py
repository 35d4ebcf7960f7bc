"""Classifier-free guidance: v_w = v_null + w (v_y - v_null), checked against separate passes."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st
from model_builders import small_mlp

from flowkit.exceptions import InvalidParameterError, ShapeError
from flowkit.models import ClassifierFreeGuidance, guided

TOL = {"rtol": 1e-5, "atol": 1e-6}


def _inputs(event, batch=4):
    return torch.rand(batch), torch.randn(batch, *event), torch.tensor([0, 1, 2, 1][:batch])


def test_scale_zero_is_unconditional_and_one_is_conditional(builder):
    build, event = builder
    model = build(num_classes=3).eval()
    t, x, y = _inputs(event)
    torch.testing.assert_close(guided(model, 0.0)(t, x, y), model(t, x), **TOL)
    torch.testing.assert_close(guided(model, 1.0)(t, x, y), model(t, x, y), **TOL)


@pytest.mark.parametrize("scale", [0.5, 2.0, 7.5, -1.0])
def test_guided_field_follows_the_formula(builder, scale):
    build, event = builder
    model = build(num_classes=3).eval()
    t, x, y = _inputs(event)
    v_cond, v_uncond = model(t, x, y), model(t, x)
    expected = v_uncond + scale * (v_cond - v_uncond)
    result = guided(model, scale)(t, x, y)
    torch.testing.assert_close(result, expected, **TOL)
    assert result.shape == x.shape
    assert not torch.allclose(result, v_uncond)  # scale != 0 changes the prediction


@given(st.floats(-5, 5), st.floats(-5, 5))
def test_guided_field_is_affine_in_the_scale(a, b):
    model = small_mlp(num_classes=3).eval()
    t, x, y = _inputs((3,))
    with torch.no_grad():
        v_a, v_b, v_0, v_1 = (guided(model, s)(t, x, y) for s in (a, b, 0.0, 1.0))
    torch.testing.assert_close(v_a - v_b, (a - b) * (v_1 - v_0), rtol=1e-4, atol=1e-5)


def test_wrapper_is_a_module_sharing_the_parameters():
    model = small_mlp(num_classes=3)
    wrapper = guided(model, 2.0)
    assert isinstance(wrapper, ClassifierFreeGuidance) and wrapper.num_classes == 3
    assert {id(p) for p in wrapper.parameters()} == {id(p) for p in model.parameters()}
    wrapper.to(torch.float64)
    t, x, y = _inputs((3,))
    assert wrapper(t.double(), x.double(), y).dtype == torch.float64


def test_guidance_requires_labels_and_a_conditional_model():
    with pytest.raises(InvalidParameterError, match="class-conditional"):
        guided(small_mlp(), 2.0)
    with pytest.raises(InvalidParameterError, match="finite"):
        guided(small_mlp(num_classes=3), float("nan"))
    wrapper = guided(small_mlp(num_classes=3), 2.0)
    with pytest.raises(InvalidParameterError, match="labels y are required"):
        wrapper(torch.rand(4), torch.randn(4, 3))
    with pytest.raises(ShapeError, match="parameter 'y'"):
        wrapper(torch.rand(4), torch.randn(4, 3), torch.zeros(3, dtype=torch.long))
