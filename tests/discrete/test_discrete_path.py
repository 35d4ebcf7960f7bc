"""The mixture path, its schedulers and its CTMC against brute-force computations on tiny state spaces."""

from __future__ import annotations

import math

import pytest
import torch
from discrete_exact import marginal, posterior, states

from flowkit import registry
from flowkit.discrete import DiscreteEuler, MixturePath, PolynomialKappa, kappa_scheduler
from flowkit.discrete.metric import empirical_probabilities, expected_sampling_tv, total_variation
from flowkit.exceptions import InvalidParameterError, ShapeError

VOCAB, LENGTH = 3, 2


def _data() -> dict[tuple[int, ...], float]:
    weights = torch.tensor([0.3, 0.0, 0.05, 0.1, 0.25, 0.0, 0.0, 0.12, 0.18], dtype=torch.float64)
    return {x: float(w) for x, w in zip(states(VOCAB, LENGTH), weights) if w > 0}


def _table(p: dict, num_states: int) -> torch.Tensor:
    return torch.tensor([p[x] for x in states(num_states, LENGTH)], dtype=torch.float64)


@pytest.mark.parametrize("scheduler", [PolynomialKappa(1.0), PolynomialKappa(2.5), kappa_scheduler("cosine")])
def test_kappa_ends_and_derivative(scheduler):
    t = torch.linspace(0.05, 0.95, 19, dtype=torch.float64, requires_grad=True)
    kappa = scheduler.kappa(t)
    (derivative,) = torch.autograd.grad(kappa.sum(), t)
    torch.testing.assert_close(scheduler.dkappa(t.detach()), derivative)
    ends = scheduler.kappa(torch.tensor([0.0, 1.0], dtype=torch.float64))
    torch.testing.assert_close(ends, torch.tensor([0.0, 1.0], dtype=torch.float64))
    assert bool((scheduler.jump_coefficient(t.detach()) > 0).all())


def test_unknown_scheduler_and_source_are_named():
    with pytest.raises(InvalidParameterError, match="polynomial"):
        kappa_scheduler("linearish")
    with pytest.raises(InvalidParameterError, match="uniform"):
        MixturePath(vocab_size=3, source="noise")
    with pytest.raises(InvalidParameterError, match="polynomial"):
        MixturePath(vocab_size=3, scheduler="cosine", exponent=2.0)


@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_path_sample_has_the_exact_marginals(source):
    q = _data()
    path = registry.create("path", "mixture", vocab_size=VOCAB, source=source, exponent=2.0)
    n, t = 40_000, 0.6
    generator = torch.Generator().manual_seed(0)
    support = list(q)
    index = torch.multinomial(torch.tensor([q[x] for x in support]), n, replacement=True, generator=generator)
    x1 = torch.tensor(support)[index]
    x0 = path.prior.sample(x1.shape, generator=generator)
    draw = path.sample(x0=x0, x1=x1, t=torch.full((n,), t), generator=generator)
    assert torch.equal(draw.u_t, x1)
    exact = _table(marginal(q, t**2, VOCAB, LENGTH, source), path.num_states).reshape([path.num_states] * LENGTH)
    found = empirical_probabilities(draw.x_t, path.num_states)
    assert total_variation(exact, found) < 3 * expected_sampling_tv(exact, n)


def test_path_rejects_real_valued_or_out_of_range_tokens():
    path = MixturePath(vocab_size=3)
    t = torch.full((4,), 0.5)
    with pytest.raises(ShapeError, match="integer tokens"):
        path.sample(x0=torch.zeros(4, 2), x1=torch.zeros(4, 2), t=t)
    with pytest.raises(InvalidParameterError, match="outside"):
        path.sample(x0=torch.zeros(4, 2, dtype=torch.long), x1=torch.full((4, 2), 3), t=t)


def _generator_matrix(path: MixturePath, q: dict, t: float, source: str, beta: float = 0.0) -> torch.Tensor:
    """The CTMC generator on whole sequences: one position jumps at a time, with the path's rates
    (only the divergence-free corrector's rates, with weight ``beta``, when ``beta > 0``)."""
    all_states = states(path.num_states, LENGTH)
    index = {x: k for k, x in enumerate(all_states)}
    kappa = float(path.scheduler.kappa(torch.tensor(t, dtype=torch.float64)))
    generator = torch.zeros(len(all_states), len(all_states), dtype=torch.float64)
    for x in all_states:
        post = posterior(q, x, kappa, VOCAB, source)[None]
        time = torch.tensor([t], dtype=torch.float64)
        if beta:
            rates = path.corrector_rates(posterior=post, x=torch.tensor([x]), t=time, beta=beta)[0]
        else:
            rates = path.rates(posterior=post, x=torch.tensor([x]), t=time)[0]
        for i in range(LENGTH):
            for y in range(path.num_states):
                if y != x[i]:
                    target = list(x)
                    target[i] = y
                    generator[index[x], index[tuple(target)]] += rates[i, y]
        generator[index[x], index[x]] = -generator[index[x]].sum()
    return generator


@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_rates_satisfy_the_kolmogorov_forward_equation(source):
    """``d/dt p_t = p_t Q_t`` with the rates from the exact posterior, ``p_t`` from its closed form."""
    q = _data()
    path = MixturePath(vocab_size=VOCAB, source=source, exponent=2.0)
    kappa = lambda s: float(path.scheduler.kappa(torch.tensor(s, dtype=torch.float64)))  # noqa: E731
    for t in (0.2, 0.5, 0.8):
        generator = _generator_matrix(path, q, t, source)
        rates = path.rates(
            posterior=posterior(q, (0,) * LENGTH, kappa(t), VOCAB, source)[None],
            x=torch.zeros(1, LENGTH, dtype=torch.long),
            t=torch.tensor([t], dtype=torch.float64),
        )
        torch.testing.assert_close(rates.sum(dim=-1), torch.zeros(1, LENGTH, dtype=torch.float64))
        assert bool((generator - torch.diag(torch.diag(generator)) >= 0).all())
        p = _table(marginal(q, kappa(t), VOCAB, LENGTH, source), path.num_states)
        eps = 1e-5
        derivative = (
            _table(marginal(q, kappa(t + eps), VOCAB, LENGTH, source), path.num_states)
            - _table(marginal(q, kappa(t - eps), VOCAB, LENGTH, source), path.num_states)
        ) / (2 * eps)
        torch.testing.assert_close(p @ generator, derivative, atol=1e-7, rtol=1e-6)


@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_the_corrector_rates_leave_every_marginal_unchanged(source):
    """``p_t V_t = 0`` for the divergence-free corrector's generator, with the exact posterior."""
    q = _data()
    path = MixturePath(vocab_size=VOCAB, source=source, exponent=2.0)
    for t in (0.2, 0.5, 0.8):
        corrector = _generator_matrix(path, q, t, source, beta=1.5)
        assert bool((corrector - torch.diag(torch.diag(corrector)) >= 0).all())
        assert float(corrector.abs().sum()) > 1.0  # it does jump
        kappa = float(path.scheduler.kappa(torch.tensor(t, dtype=torch.float64)))
        p = _table(marginal(q, kappa, VOCAB, LENGTH, source), path.num_states)
        torch.testing.assert_close(p @ corrector, torch.zeros_like(p), atol=1e-12, rtol=0)


def _euler_matrix(path: MixturePath, q: dict, t: float, h: float, source: str, beta: float = 0.0) -> torch.Tensor:
    """The solver's step on whole sequences: positions jump independently given x (path.transition)."""
    all_states = states(path.num_states, LENGTH)
    kappa = float(path.scheduler.kappa(torch.tensor(t, dtype=torch.float64)))
    matrix = torch.zeros(len(all_states), len(all_states), dtype=torch.float64)
    for a, x in enumerate(all_states):
        post = posterior(q, x, kappa, VOCAB, source)[None]
        step = path.transition(posterior=post, x=torch.tensor([x]), t=t, h=h, beta=beta)[0]
        for b, target in enumerate(all_states):
            matrix[a, b] = math.prod(float(step[i, target[i]]) for i in range(LENGTH))
    return matrix


@pytest.mark.parametrize("source, beta", [("uniform", 0.0), ("mask", 0.0), ("uniform", 2.0), ("mask", 2.0)])
def test_euler_step_reproduces_the_marginals_to_second_order(source, beta):
    """One Euler step from the exact p_t lands on p_{t+h} up to O(h^2) (local error of a first-order
    method), with or without the corrector."""
    q = _data()
    path = MixturePath(vocab_size=VOCAB, source=source, exponent=2.0)
    t = 0.4
    kappa = lambda s: float(path.scheduler.kappa(torch.tensor(s, dtype=torch.float64)))  # noqa: E731
    p_t = _table(marginal(q, kappa(t), VOCAB, LENGTH, source), path.num_states)
    errors = []
    for h in (0.04, 0.02, 0.01):
        stepped = p_t @ _euler_matrix(path, q, t, h, source, beta)
        torch.testing.assert_close(stepped.sum(), torch.tensor(1.0, dtype=torch.float64))
        exact = _table(marginal(q, kappa(t + h), VOCAB, LENGTH, source), path.num_states)
        errors.append(float((stepped - exact).abs().sum()))
    assert errors[0] / errors[1] == pytest.approx(4.0, rel=0.15)
    assert errors[1] / errors[2] == pytest.approx(4.0, rel=0.15)


class _ExactPosterior(torch.nn.Module):
    """A 'model' whose logits are the log of the exact posterior (for the solver under test)."""

    def __init__(self, path: MixturePath, q: dict, source: str):
        super().__init__()
        self.path, self.q, self.source = path, q, source

    def forward(self, t: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        kappa = float(self.path.scheduler.kappa(t[:1].double()))
        cache = {s: posterior(self.q, s, kappa, VOCAB, self.source).log() for s in states(self.path.num_states, LENGTH)}
        return torch.stack([cache[tuple(row)] for row in x.tolist()]).float()


@pytest.mark.parametrize("source, beta", [("uniform", 0.0), ("mask", 0.0), ("mask", 1.0)])
def test_solver_samples_the_distribution_its_steps_define(source, beta):
    """``discrete-euler`` with the exact posterior matches the step matrices multiplied out, which converge to q."""
    q = _data()
    path = MixturePath(vocab_size=VOCAB, source=source, exponent=1.0)
    steps, n = 8, 4_000
    solver = DiscreteEuler(steps=steps, seed=1, div_free=beta).bind(path=path)
    x0 = path.prior.sample((n, LENGTH), generator=torch.Generator().manual_seed(2))
    solution = solver.solve(_ExactPosterior(path, q, source), x0)
    assert solution.nfe == steps and solution.x.dtype == torch.long
    p = empirical_probabilities(x0, path.num_states).reshape(-1)  # the start, exactly as drawn
    for k in range(steps):
        p = p @ _euler_matrix(path, q, k / steps, 1 / steps, source, beta)
    data = _table({x: q.get(x, 0.0) for x in states(path.num_states, LENGTH)}, path.num_states)
    found = empirical_probabilities(solution.x, path.num_states).reshape(-1)
    assert total_variation(p, found) < 3 * expected_sampling_tv(p, n)
    assert total_variation(p, data) < 0.08


def test_solver_checks_its_inputs():
    path = MixturePath(vocab_size=3)
    solver = DiscreteEuler(steps=2)
    logits = lambda t, x: torch.zeros(*x.shape, 3)  # noqa: E731
    x0 = torch.zeros(5, 2, dtype=torch.long)
    with pytest.raises(InvalidParameterError, match="bind"):
        solver.solve(logits, x0)
    bound = solver.bind(path=path)
    with pytest.raises(InvalidParameterError, match="forwards only"):
        bound.solve(logits, x0, t0=1.0, t1=0.0)
    with pytest.raises(ShapeError, match="integer tokens"):
        bound.solve(logits, x0.float())
    with pytest.raises(ShapeError, match="logits"):
        bound.solve(lambda t, x: torch.zeros(x.shape), x0)
    with pytest.raises(InvalidParameterError, match="final"):
        DiscreteEuler(final="mode")
    out = bound.solve(logits, x0, trajectory_times=[0.5])
    assert out.trajectory.shape == (1, 5, 2)


def test_argmax_final_step_takes_the_mode():
    path = MixturePath(vocab_size=3, source="mask")
    logits = lambda t, x: torch.tensor([0.0, 2.0, 1.0]).expand(*x.shape, 3)  # noqa: E731
    x0 = path.prior.sample((6, 4))
    out = DiscreteEuler(steps=1, final="argmax").bind(path=path).solve(logits, x0)
    assert torch.equal(out.x, torch.ones(6, 4, dtype=torch.long))
