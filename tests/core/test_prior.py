"""Prior.sample: one place checks the shape and resolves the device for every prior."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit.core import DrawRequest, InvalidParameterError, Prior
from flowkit.discrete.priors import MaskTokens, UniformTokens
from flowkit.manifolds.sphere import Sphere
from flowkit.manifolds.torus import FlatTorus
from flowkit.paths import IsotropicGaussian, StandardNormal

PRIORS = [StandardNormal(), IsotropicGaussian(2.0), Sphere().prior, FlatTorus().prior, UniformTokens(5), MaskTokens(5)]


class Recording(Prior):
    """A prior that returns zeros and keeps the request it was given."""

    def draw(self, request: DrawRequest) -> torch.Tensor:
        self.request = request
        return torch.zeros(request.shape, device=request.device, dtype=request.dtype)

    def log_prob(self, x0: torch.Tensor) -> torch.Tensor:
        return torch.zeros(x0.shape[0])


@pytest.mark.parametrize("shape", [(5,), (), (3, -1), "ab", None, (2.5, "x")])
def test_a_bad_shape_is_refused_before_the_prior_draws(shape) -> None:
    prior = Recording()
    with pytest.raises(InvalidParameterError, match=r"shape must be \[batch, \*dims\]"):
        prior.sample(shape)
    assert not hasattr(prior, "request")


def test_the_request_carries_the_arguments_and_defaults_the_device_to_the_generator() -> None:
    prior = Recording()
    generator = torch.Generator().manual_seed(0)
    x = prior.sample([4, 3], dtype=torch.float64, generator=generator)
    assert prior.request == DrawRequest((4, 3), torch.device("cpu"), torch.float64, generator)
    assert x.shape == (4, 3) and x.dtype == torch.float64
    assert DrawRequest((2, 1)).device is None  # no generator: the default device


@pytest.mark.parametrize("prior", PRIORS, ids=lambda p: type(p).__name__)
def test_every_builtin_prior_shares_the_argument_handling(prior: Prior) -> None:
    with pytest.raises(InvalidParameterError, match="shape"):
        prior.sample((7,))
    generator = torch.Generator().manual_seed(3)
    x = prior.sample((6, 3), generator=generator)
    assert x.shape == (6, 3) and x.device == generator.device


def test_the_draws_are_the_closed_form_transforms_of_torch_draws() -> None:
    def generator() -> torch.Generator:
        return torch.Generator().manual_seed(11)

    eps = torch.randn((5, 2), generator=generator(), dtype=torch.float64)
    u = torch.rand((5, 2), generator=generator(), dtype=torch.float64)
    draws = {p: p.sample((5, 2), dtype=torch.float64, generator=generator()) for p in PRIORS[:4]}
    torch.testing.assert_close(draws[PRIORS[0]], eps)
    torch.testing.assert_close(draws[PRIORS[1]], 2.0 * eps)
    torch.testing.assert_close(draws[PRIORS[2]], eps / eps.norm(dim=1, keepdim=True))
    torch.testing.assert_close(draws[PRIORS[3]], 2 * math.pi * u - math.pi)
