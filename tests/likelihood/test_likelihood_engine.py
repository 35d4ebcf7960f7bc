"""The likelihood engine against closed forms: linear flows of Gaussians, Hutchinson's estimator,
forward versus backward mode, gradients, and bad input."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch

from flowkit import ODESolver, Prior, Solution, VectorFieldModel, registry
from flowkit.exceptions import InvalidParameterError, NonFiniteError, ShapeError
from flowkit.likelihood import log_prob, sample_with_log_prob
from flowkit.likelihood.divergence import basis_probes, default_chunk_size, velocity_and_divergence

A = torch.tensor([[0.3, 0.8, 0.0], [-0.4, 0.1, 0.2], [0.1, 0.0, -0.5]], dtype=torch.float64)


def linear_field(t, x):
    """``v(t, x) = (1 + t) A x``: the flow map over [0, 1] is ``exp(1.5 A)``."""
    return (1 + t)[:, None] * (x @ A.T)


def pushed_forward_gaussian() -> torch.distributions.MultivariateNormal:
    """``N(0, I)`` pushed through ``exp(1.5 A)``: ``N(0, M M^T)``."""
    flow = torch.linalg.matrix_exp(1.5 * A)
    return torch.distributions.MultivariateNormal(torch.zeros(3, dtype=torch.float64), flow @ flow.T)


class StandardNormal(Prior):
    """A flowkit prior ``N(0, I)`` over any event shape."""

    def draw(self, request):
        return request.randn()

    def log_prob(self, x0):
        return -0.5 * (x0**2).flatten(1).sum(1) - 0.5 * x0[0].numel() * math.log(2 * math.pi)


class MLPField(VectorFieldModel):
    def __init__(self, dim: int, width: int = 16):
        super().__init__()
        self.net = torch.nn.Sequential(torch.nn.Linear(dim + 1, width), torch.nn.Tanh(), torch.nn.Linear(width, dim))

    def forward(self, t, x, y=None):
        return self.net(torch.cat([x, t[:, None]], dim=1))


@pytest.fixture
def points():
    return pushed_forward_gaussian().sample((8,))


@pytest.mark.parametrize(
    "solver",
    [
        registry.create("solver", "rk4", steps=40),
        registry.create("solver", "dopri5", atol=1e-9, rtol=1e-9),
    ],
    ids=["rk4", "dopri5"],
)
@pytest.mark.parametrize(
    "prior",
    [StandardNormal(), torch.distributions.Normal(torch.tensor(0.0, dtype=torch.float64), 1.0)],
    ids=["flowkit-prior", "elementwise-torch-distribution"],
)
def test_exact_log_prob_of_a_linear_flow_matches_the_gaussian(points, solver, prior):
    expected = pushed_forward_gaussian().log_prob(points)
    torch.testing.assert_close(log_prob(linear_field, points, prior=prior, solver=solver), expected, atol=1e-4, rtol=0)


def test_any_event_shape_and_a_per_sample_torch_distribution(points):
    field = lambda t, x: linear_field(t, x.flatten(1)).reshape(x.shape)  # noqa: E731
    prior = torch.distributions.Independent(
        torch.distributions.Normal(torch.zeros(3, 1, 1, dtype=torch.float64), 1.0), 3
    )
    result = log_prob(field, points.reshape(8, 3, 1, 1), prior=prior, solver="rk4")
    torch.testing.assert_close(result, pushed_forward_gaussian().log_prob(points), atol=1e-4, rtol=0)


@pytest.mark.parametrize("distribution", ["rademacher", "gaussian"])
def test_hutchinson_mean_matches_within_its_standard_error(distribution):
    point = pushed_forward_gaussian().sample((1,))
    repeated = point.expand(4000, 3)  # every row draws its own probe
    solver = registry.create("solver", "rk4", steps=10)
    generator = torch.Generator().manual_seed(7)
    estimates = log_prob(
        linear_field,
        repeated,
        prior=StandardNormal(),
        solver=solver,
        divergence="hutchinson",
        probe_distribution=distribution,
        generator=generator,
    )
    exact = pushed_forward_gaussian().log_prob(point)
    standard_error = estimates.std() / math.sqrt(len(estimates))
    assert estimates.std() > 0.1  # the estimator is noisy per probe ...
    assert abs(estimates.mean() - exact) < 4 * standard_error  # ... and unbiased
    averaged = log_prob(
        linear_field,
        repeated,
        prior=StandardNormal(),
        solver=solver,
        divergence="hutchinson",
        probes=4,
        probe_distribution=distribution,
        generator=generator,
    )
    assert 0.15 < averaged.var() / estimates.var() < 0.4  # four probes: a quarter of the variance


def test_hutchinson_is_reproducible_with_a_seeded_generator(points):
    run = lambda: log_prob(  # noqa: E731
        linear_field,
        points,
        prior=StandardNormal(),
        solver="euler",
        divergence="hutchinson",
        probes=3,
        generator=torch.Generator().manual_seed(1),
    )
    torch.testing.assert_close(run(), run())


def test_forward_mode_agrees_with_backward_log_prob():
    torch.manual_seed(0)
    field = MLPField(2).double()
    x0 = torch.randn(32, 2, dtype=torch.float64)
    solver = registry.create("solver", "dopri5", atol=1e-9, rtol=1e-9)
    x1, forward = sample_with_log_prob(field, x0, prior=StandardNormal(), solver=solver)
    assert (x1 - x0).abs().max() > 0.05
    torch.testing.assert_close(log_prob(field, x1, prior=StandardNormal(), solver=solver), forward, atol=1e-6, rtol=0)


def test_exact_divergence_is_the_jacobian_trace_in_any_chunking():
    torch.manual_seed(0)
    field = MLPField(5).double()
    x, t = torch.randn(6, 5, dtype=torch.float64), torch.rand(6, dtype=torch.float64)
    jacobians = torch.stack(
        [torch.autograd.functional.jacobian(lambda y, i=i: field(t[i : i + 1], y[None])[0], x[i]) for i in range(6)]
    )
    for chunk_size in (None, 2):
        velocity, divergence = velocity_and_divergence(field, t, x, basis_probes(x), chunk_size=chunk_size)
        torch.testing.assert_close(velocity, field(t, x))
        torch.testing.assert_close(divergence, jacobians.diagonal(dim1=1, dim2=2).sum(1))


def test_gradients_match_finite_differences():
    torch.manual_seed(0)
    field = MLPField(2, width=8).double()
    x = torch.randn(5, 2, dtype=torch.float64)
    solver = registry.create("solver", "rk4", steps=8)
    objective = lambda: log_prob(field, x, prior=StandardNormal(), solver=solver, enable_grad=True).mean()  # noqa: E731
    weight = field.net[0].weight
    (grad,) = torch.autograd.grad(objective(), weight)
    assert grad is not None and grad.abs().sum() > 0
    direction = torch.randn_like(weight)
    eps = 1e-5
    with torch.no_grad():
        weight += eps * direction
        up = objective()
        weight -= 2 * eps * direction
        down = objective()
        weight += eps * direction
    torch.testing.assert_close((grad * direction).sum(), (up - down) / (2 * eps), atol=1e-7, rtol=1e-6)


def test_usable_under_no_grad_and_inference_mode(points):
    expected = pushed_forward_gaussian().log_prob(points)
    field = MLPField(3).double()
    reference = log_prob(field, points, prior=StandardNormal(), solver="rk4")
    assert not reference.requires_grad
    with torch.no_grad():
        torch.testing.assert_close(log_prob(field, points, prior=StandardNormal(), solver="rk4"), reference)
    with torch.inference_mode():
        result = log_prob(linear_field, points, prior=StandardNormal(), solver="rk4")
    torch.testing.assert_close(result, expected, atol=1e-4, rtol=0)


def test_a_third_party_solver_integrates_the_augmented_state(points):
    class ExplicitMidpoint(ODESolver):
        def solve(self, field, x0, *, t0=0.0, t1=1.0, trajectory_times=None, enable_grad=False):
            x, h = x0, (t1 - t0) / 200
            with torch.set_grad_enabled(enable_grad):
                for n in range(200):
                    t = torch.full((x.shape[0],), t0 + n * h, dtype=x.dtype)
                    x = x + h * field(t + h / 2, x + h / 2 * field(t, x))
            return Solution(x=x, nfe=400)

    result = log_prob(linear_field, points, prior=StandardNormal(), solver=ExplicitMidpoint())
    torch.testing.assert_close(result, pushed_forward_gaussian().log_prob(points), atol=1e-4, rtol=0)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"divergence": "trace"}, InvalidParameterError, "divergence must be one of"),
        ({"divergence": "hutchinson", "probes": 0}, InvalidParameterError, "probes must be an integer >= 1"),
        ({"probes": 3}, InvalidParameterError, "applies to divergence='hutchinson' only"),
        ({"divergence": "hutchinson", "probe_distribution": "uniform"}, InvalidParameterError, "probe_distribution"),
        ({"prior": object()}, InvalidParameterError, "prior must have a log_prob"),
        ({"solver": 3}, (InvalidParameterError, ShapeError), "solver"),
        ({"chunk_size": 0}, InvalidParameterError, "chunk_size"),
        ({"generator": 5}, (InvalidParameterError, ShapeError), "generator"),
        ({"prior": SimpleNamespace(log_prob=lambda x0: x0.sum())}, ShapeError, r"prior.log_prob returned shape \(\)"),
    ],
)
def test_bad_arguments_are_named(points, kwargs, error, message):
    arguments = {"prior": StandardNormal(), "solver": "euler", **kwargs}
    with pytest.raises(error, match=message):
        log_prob(linear_field, points, **arguments)


def test_bad_points_and_fields_are_reported(points):
    with pytest.raises(NonFiniteError, match="NaN or infinite"):
        log_prob(
            linear_field, torch.full((2, 3), float("nan"), dtype=torch.float64), prior=StandardNormal(), solver="euler"
        )
    with pytest.raises(ShapeError, match="shaped like x"):
        log_prob(lambda t, x: x[:, :1], points, prior=StandardNormal(), solver="euler")
    with pytest.raises(ShapeError):
        log_prob(linear_field, torch.ones(3, 2, dtype=torch.int64), prior=StandardNormal(), solver="euler")


def test_default_chunking_keeps_cpu_passes_cache_sized_and_accelerators_whole():
    cpu, accelerator = torch.device("cpu"), torch.device("meta")
    assert default_chunk_size(64, 1000, cpu) == 8  # 8 probes x 1,000 points = 8,192 rows per pass
    assert default_chunk_size(2, 1000, cpu) is None
    assert default_chunk_size(64, 20_000, cpu) == 1
    assert default_chunk_size(64, 1000, accelerator) is None
