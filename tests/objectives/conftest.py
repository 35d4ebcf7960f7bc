"""A tiny vector-field network for the objective tests (independent of flowkit's model family)."""

from __future__ import annotations

import pytest
import torch

from flowkit import PathSample, ProbabilityPath, VectorFieldModel
from flowkit.paths import StandardNormal


class TinyField(VectorFieldModel):
    """``v(t, x [, y]) = W2 tanh(W1 [x, t, onehot(y)] + b1) + b2`` on flattened events; records its inputs."""

    def __init__(self, event_shape=(2,), hidden=16, num_classes=None, dtype=torch.float64):
        super().__init__()
        self.event_shape = tuple(event_shape)
        self.num_classes = num_classes
        dim = int(torch.tensor(self.event_shape).prod())
        extra = 1 + (num_classes or 0)
        self.net = torch.nn.Sequential(
            torch.nn.Linear(dim + extra, hidden, dtype=dtype),
            torch.nn.Tanh(),
            torch.nn.Linear(hidden, dim, dtype=dtype),
        )
        self.calls = []

    def forward(self, t, x, y=None):
        self.calls.append((t.detach(), x.detach(), None if y is None else y.detach()))
        features = [x.reshape(x.shape[0], -1), t[:, None]]
        if self.num_classes:
            features.append(torch.nn.functional.one_hot(y, self.num_classes).to(x.dtype))
        return self.net(torch.cat(features, dim=1)).reshape(x.shape)


@pytest.fixture
def tiny_field():
    """``tiny_field(event_shape=(2,), ...)`` builds a :class:`TinyField`."""
    torch.manual_seed(0)
    return TinyField


class MidpointPath(ProbabilityPath):
    """A path that is not a GaussianPath: x_t = (1 - t) x0 + t x1, u_t = x1 - x0."""

    prior = StandardNormal()

    def sample(self, *, x0, x1, t, generator=None):
        tb = t.reshape(-1, *([1] * (x1.dim() - 1)))
        return PathSample(t=t, x0=x0, x1=x1, x_t=(1 - tb) * x0 + tb * x1, u_t=x1 - x0)


@pytest.fixture
def midpoint_path():
    """A non-Gaussian :class:`flowkit.ProbabilityPath` (no marginal field)."""
    return MidpointPath()
