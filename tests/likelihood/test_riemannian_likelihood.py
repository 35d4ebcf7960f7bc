"""Log-likelihoods on manifolds against the closed-form densities of uniform priors pushed by known flows.

The fields are wrapped by :class:`flowkit.models.tangent.TangentVectorField`, so the engine's
Euclidean divergence is the Riemannian one (see that module); the flows are solved from t = 1 back
to t = 0 by the likelihood engine with a plain RK4.

- Flat torus, ``dtheta_i/dt = a_i sin(theta_i)``: ``tan(theta/2)`` grows as ``e^{a t}``, so
  ``dtheta0/dtheta1 = e^{-a} / (cos^2(theta1/2) + e^{-2a} sin^2(theta1/2))`` per coordinate and
  ``log p1 = -d log(2 pi) + sum_i log dtheta0_i/dtheta1_i``.
- Sphere ``S^2``, ``v(x) = a (e - <e, x> x)`` (the gradient of ``a <e, x>``): the polar angle
  ``phi`` from ``e`` obeys ``dphi/dt = -a sin(phi)``, so ``u = tan(phi/2)`` shrinks as ``e^{-a t}``
  and ``p1(x) = e^{2a} (1 + u1^2)^2 / (4 pi (1 + e^{2a} u1^2)^2)``.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from flowkit.likelihood import log_prob
from flowkit.manifolds import FlatTorus, Sphere
from flowkit.models.tangent import TangentVectorField

DTYPE = torch.float64


class SineField(nn.Module):
    """On the torus's embedding ``(cos x, sin x)``: ``w = (-r, 0)``, whose angle velocity is ``r sin x``."""

    def __init__(self, rates):
        super().__init__()
        self.rates = torch.tensor(rates, dtype=DTYPE)

    def forward(self, t, features):
        return torch.cat(
            [-self.rates.expand(features.shape[0], -1), torch.zeros_like(features[:, : len(self.rates)])], dim=1
        )


class ConstantField(nn.Module):
    def __init__(self, vector):
        super().__init__()
        self.vector = torch.tensor(vector, dtype=DTYPE)

    def forward(self, t, x):
        return self.vector.expand_as(x)


def test_flat_torus_sine_flow():
    rates = [0.8, -1.5]
    torus = FlatTorus()
    field = TangentVectorField(SineField(rates), torus)
    x = torus.prior.sample((64, 2), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    nats = log_prob(field, x, prior=torus.prior, solver=_rk4())
    a = torch.tensor(rates, dtype=DTYPE)
    jacobian = torch.exp(-a) / (torch.cos(x / 2) ** 2 + torch.exp(-2 * a) * torch.sin(x / 2) ** 2)
    expected = -2 * math.log(2 * math.pi) + torch.log(jacobian).sum(1)
    assert torch.allclose(nats, expected, atol=1e-6)


def test_sphere_gradient_flow_toward_a_pole():
    a = 1.2
    sphere = Sphere()
    field = TangentVectorField(ConstantField([0.0, 0.0, a]), sphere)  # proju(x, a e) = a (e - <e, x> x)
    x = sphere.prior.sample((64, 3), dtype=DTYPE, generator=torch.Generator().manual_seed(0))
    nats = log_prob(field, x, prior=sphere.prior, solver=_rk4())
    cos_phi = x[:, 2]
    u1_squared = (1 - cos_phi) / (1 + cos_phi)  # tan^2(phi/2)
    expected = (
        2 * a + 2 * torch.log1p(u1_squared) - 2 * torch.log1p(math.exp(2 * a) * u1_squared) - math.log(4 * math.pi)
    )
    assert torch.allclose(nats, expected, atol=1e-6)
    # The same field without the radial-constant extension has a different Euclidean divergence.
    naive = log_prob(
        lambda t, y: a * (torch.tensor([0.0, 0.0, 1.0], dtype=DTYPE) - y[:, 2:] * y),
        x,
        prior=sphere.prior,
        solver=_rk4(),
    )
    assert (naive - expected).abs().max() > 0.1


def _rk4():
    from flowkit import registry

    return registry.create("solver", "rk4", steps=200)
