"""Tangent-projected vector fields: tangent outputs that depend on x only through projx(x)."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import InvalidParameterError
from flowkit.manifolds import FlatTorus, Sphere
from flowkit.models.tangent import TangentVectorField


def test_manifold_mlp_is_tangent_and_constant_along_rays():
    model = registry.create("model", "manifold-mlp", manifold="sphere", dim=3, width=16, depth=2)
    assert isinstance(model, TangentVectorField) and model.num_classes is None
    x = Sphere().prior.sample((64, 3), generator=torch.Generator().manual_seed(0))
    t = torch.rand(64)
    v = model(t, x)
    assert (v * x).sum(1).abs().max() < 1e-6
    assert torch.allclose(model(t, 3.0 * x), v, atol=1e-6)


def test_torus_field_is_periodic():
    model = registry.create("model", "manifold-mlp", manifold="flat-torus", dim=2, width=16, depth=2, num_classes=3)
    assert model.num_classes == 3
    model.eval()  # no label dropout
    x = FlatTorus().prior.sample((32, 2), generator=torch.Generator().manual_seed(0))
    t, y = torch.rand(32), torch.randint(0, 3, (32,))
    assert torch.allclose(model(t, x + 2 * math.pi * torch.tensor([1.0, -2.0]), y), model(t, x, y), atol=1e-5)


def test_rejects_a_non_module():
    with pytest.raises(InvalidParameterError, match="torch.nn.Module"):
        TangentVectorField(lambda t, x: x, "sphere")
