"""The discrete objectives: zero gradient at the exact posterior (exact expectation), errors, Monte Carlo loss."""

from __future__ import annotations

import math

import pytest
import torch
from discrete_exact import conditional, posterior, states

from flowkit import registry
from flowkit.discrete import DiscreteFlowMatching, MixturePath, position_losses
from flowkit.exceptions import CapabilityError, InvalidParameterError, ShapeError

VOCAB, LENGTH = 3, 2
DATA = {(0, 0): 0.4, (1, 2): 0.35, (2, 1): 0.15, (0, 2): 0.1}


def _expected_loss(logits: torch.Tensor, path: MixturePath, t: float, source: str, form: str) -> torch.Tensor:
    """``E_{x1, x_t} l(logits[x_t], x1, x_t)`` at time ``t``, summed exactly over every (x1, x_t)."""
    kappa = float(path.scheduler.kappa(torch.tensor(t, dtype=torch.float64)))
    coefficient = path.scheduler.jump_coefficient(torch.tensor([t], dtype=torch.float64))
    total = logits.new_zeros(())
    for k, x in enumerate(states(path.num_states, LENGTH)):
        for x1, w in DATA.items():
            weight = w * conditional(x, x1, kappa, VOCAB, source)
            if weight > 0:
                loss = position_losses(
                    logits[k][None],
                    x1=torch.tensor([x1]),
                    x_t=torch.tensor([x]),
                    jump_coefficient=coefficient,
                    form=form,
                )
                total = total + weight * loss.sum()
    return total


@pytest.mark.parametrize("form", ["cross-entropy", "generalized-kl"])
@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_gradient_vanishes_at_the_exact_posterior(form, source):
    path = MixturePath(vocab_size=VOCAB, source=source, exponent=2.0)
    t = 0.55
    kappa = float(path.scheduler.kappa(torch.tensor(t, dtype=torch.float64)))
    optimum = torch.stack(
        [posterior(DATA, x, kappa, VOCAB, source).clamp_min(1e-30).log() for x in states(path.num_states, LENGTH)]
    ).requires_grad_(True)
    (gradient,) = torch.autograd.grad(_expected_loss(optimum, path, t, source, form), optimum)
    assert float(gradient.abs().max()) < 1e-9
    noise = torch.randn(optimum.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    moved = (optimum.detach() + 0.3 * noise).requires_grad_(True)
    (elsewhere,) = torch.autograd.grad(_expected_loss(moved, path, t, source, form), moved)
    assert float(elsewhere.abs().max()) > 1e-3
    assert float(_expected_loss(moved.detach(), path, t, source, form)) > float(
        _expected_loss(optimum.detach(), path, t, source, form)
    )


def test_cross_entropy_is_the_negative_log_likelihood_of_x1():
    logits = torch.randn(2, 3, 4, generator=torch.Generator().manual_seed(1))
    x1 = torch.tensor([[0, 3, 1], [2, 2, 0]])
    expected = -torch.log_softmax(logits, -1).gather(-1, x1[..., None])[..., 0]
    torch.testing.assert_close(position_losses(logits, x1=x1, x_t=x1), expected)


def test_generalized_kl_needs_the_jump_coefficient():
    logits = torch.zeros(1, 2, 3)
    x1 = torch.tensor([[0, 2]])
    with pytest.raises(InvalidParameterError, match="jump_coefficient"):
        position_losses(logits, x1=x1, x_t=x1, form="generalized-kl")


def test_objective_refuses_continuous_paths_and_real_data():
    with pytest.raises(CapabilityError, match="scheduler"):
        DiscreteFlowMatching(path=registry.create("path", "ot"))
    objective = registry.create("objective", "discrete-gkl", path=MixturePath(vocab_size=4))
    assert objective.form == "generalized-kl"
    model = lambda t, x: torch.zeros(*x.shape, 4)  # noqa: E731
    with pytest.raises(ShapeError, match="integer tokens"):
        objective.loss(model=model, x1=torch.zeros(8, 3))
    with pytest.raises(ShapeError, match="logits"):
        objective.loss(model=lambda t, x: torch.zeros(x.shape), x1=torch.zeros(8, 3, dtype=torch.long))
    with pytest.raises(ShapeError, match="vocab_size"):
        objective.loss(model=lambda t, x: torch.zeros(*x.shape, 3), x1=torch.zeros(8, 3, dtype=torch.long))
    with pytest.raises(InvalidParameterError, match="form"):
        DiscreteFlowMatching(path=MixturePath(vocab_size=4), form="l2")


@pytest.mark.parametrize("name", ["discrete-ce", "discrete-gkl"])
def test_loss_of_a_uniform_model_on_the_mask_source(name):
    """Uniform logits, kappa = t: cross-entropy is log V at every position. GKL: a masked position
    (probability 1 - t) costs c log V with c = 1/(1-t), an unmasked one c (1 - 1/V); over
    t ~ U[0, T], T = 0.99, the mean is log V + (1 - 1/V) (-T - log(1 - T)) / T."""
    path = MixturePath(vocab_size=5, source="mask")
    objective = registry.create("objective", name, path=path)
    x1 = torch.randint(5, (16384, 3), generator=torch.Generator().manual_seed(3))
    loss = objective.loss(
        model=lambda t, x: torch.zeros(*x.shape, 5), x1=x1, generator=torch.Generator().manual_seed(4)
    )
    if name == "discrete-ce":
        torch.testing.assert_close(loss, torch.tensor(torch.log(torch.tensor(5.0)).item()))
    else:
        end = 0.99
        expected = math.log(5) + 0.8 * (-end - math.log(1 - end)) / end
        assert float(loss) == pytest.approx(expected, abs=0.25)  # 4 standard deviations of the Monte Carlo mean
