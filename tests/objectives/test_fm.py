"""The FM objective: its target, and the paper's theorem that FM and CFM gradients agree in expectation."""

from __future__ import annotations

import pytest
import torch
from scipy import stats

from flowkit import registry
from flowkit.exceptions import InvalidParameterError

F64 = torch.float64
REFERENCE = torch.tensor([[-2.0, 0.0], [-1.0, 1.5], [0.5, -1.0], [1.5, 1.0], [2.0, -0.5], [0.0, 2.0]], dtype=F64)


def test_target_is_the_marginal_field(tiny_field):
    path = registry.create("path", "cosine")
    objective = registry.create("objective", "fm", reference=REFERENCE, path=path)
    model = tiny_field()
    x1 = REFERENCE[torch.tensor([0, 1, 1, 3, 5, 2, 4, 0])]
    loss = objective.loss(model=model, x1=x1, generator=torch.Generator().manual_seed(2))
    sample = objective.draw(x1, torch.Generator().manual_seed(2))
    target = path.marginal_vector_field(x=sample.x_t, t=sample.t, data=REFERENCE)
    torch.testing.assert_close(loss, (model(sample.t, sample.x_t) - target).square().mean())


def test_reference_follows_the_batch_dtype(tiny_field):
    objective = registry.create("objective", "fm", reference=REFERENCE.float(), chunk_size=2)
    loss = objective.loss(model=tiny_field(), x1=REFERENCE)
    assert loss.dtype == F64 and torch.isfinite(loss)


def test_images(tiny_field):
    reference = torch.rand(20, 1, 3, 3, dtype=F64)
    objective = registry.create("objective", "fm", reference=reference)
    loss = objective.loss(model=tiny_field(event_shape=(1, 3, 3)), x1=reference[:8])
    assert loss.shape == () and torch.isfinite(loss)


def _gradient_differences(fm, cfm, model, groups, batch, seed=0):
    """Per group of ``batch`` samples: grad L_FM - grad L_CFM on the same draws (x1, x0, t), flattened."""
    params = list(model.parameters())
    differences = []
    for k in range(groups):
        generator = torch.Generator().manual_seed(seed + k)
        x1 = REFERENCE[torch.randint(REFERENCE.shape[0], (batch,), generator=generator)]
        state = generator.get_state()
        grad_cfm = torch.autograd.grad(cfm.loss(model=model, x1=x1, generator=generator), params)
        generator.set_state(state)
        grad_fm = torch.autograd.grad(fm.loss(model=model, x1=x1, generator=generator), params)
        differences.append(torch.cat([(a - b).reshape(-1) for a, b in zip(grad_fm, grad_cfm)]))
    return torch.stack(differences)


def _max_abs_z(differences):
    """The largest |mean / standard error| over parameters, and the Bonferroni threshold at level 1e-3."""
    groups, parameters = differences.shape
    z = differences.mean(dim=0) / (differences.std(dim=0) / groups**0.5)
    threshold = stats.t.isf(1e-3 / (2 * parameters), df=groups - 1)
    return z.abs().max().item(), threshold


@pytest.mark.parametrize("path_name", ["ot", "cosine", "vp"])
def test_fm_and_cfm_gradients_agree_in_expectation(tiny_field, path_name):
    """Lipman et al., Theorem 2: E grad L_FM = E grad L_CFM. Each parameter's mean paired difference,
    over 64 independent groups of 128 draws, is within the Bonferroni-corrected Student-t bound."""
    path = registry.create("path", path_name)
    model = tiny_field()
    fm = registry.create("objective", "fm", reference=REFERENCE, path=path)
    cfm = registry.create("objective", "cfm", path=path)
    differences = _gradient_differences(fm, cfm, model, groups=64, batch=128)
    z, threshold = _max_abs_z(differences)
    assert z < threshold
    # the differences are not trivially zero: per-sample FM and CFM gradients differ
    assert differences.abs().mean().item() > 1e-3


def test_gradient_check_detects_a_wrong_marginal(tiny_field):
    """Negative control: FM against a shifted reference set has a different expected gradient."""
    model = tiny_field()
    fm = registry.create("objective", "fm", reference=REFERENCE + 0.3)
    cfm = registry.create("objective", "cfm")
    z, threshold = _max_abs_z(_gradient_differences(fm, cfm, model, groups=64, batch=128))
    assert z > threshold


def test_fm_requires_a_gaussian_path(midpoint_path):
    with pytest.raises(InvalidParameterError, match="marginal_vector_field"):
        registry.create("objective", "fm", reference=REFERENCE, path=midpoint_path)


@pytest.mark.parametrize(
    "reference, match",
    [
        (torch.zeros(0, 2), "at least one"),
        (torch.zeros(4), "reference must be"),
        (torch.zeros(4, 2, dtype=torch.long), "reference must be"),
        (torch.full((4, 2), float("nan")), "finite"),
    ],
)
def test_bad_reference(reference, match):
    with pytest.raises(InvalidParameterError, match=match):
        registry.create("objective", "fm", reference=reference)


def test_reference_is_required():
    with pytest.raises(InvalidParameterError, match="reference"):
        registry.create("objective", "fm")
