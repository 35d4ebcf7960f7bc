"""Riemannian flow matching through the unchanged Pipeline: fit, sample, log_prob, save / load."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit import Pipeline
from flowkit.manifolds import FlatTorus, Sphere


def _config(manifold: str, data: str, steps: int) -> dict:
    return {
        "path": {"name": "geodesic", "manifold": manifold},
        "model": {"name": "manifold-mlp", "manifold": manifold, "width": 64, "depth": 3},
        "solver": {"name": "riemannian-rk4", "steps": 20},
        "data": {"name": data, "n_train": 4000, "n_test": 400},
        "train": {
            "steps": steps,
            "batch_size": 256,
            "lr": 3e-3,
            "warmup_steps": 20,
            "ema_decay": 0.98,
            "log_every": 100,
        },
        "device": "cpu",
        "seed": 0,
    }


@pytest.mark.slow
def test_sphere_mixture_is_learned_and_samples_stay_on_the_sphere(tmp_path):
    pipeline = Pipeline(_config("sphere", "sphere-mixture", 1500))
    pipeline.fit(progress=False)
    data = pipeline.dataset
    x = pipeline.sample(2000, generator=torch.Generator().manual_seed(1))
    assert Sphere().distance_to_manifold(x).max() < 1e-5
    # the mixture's mean log-density of the samples: uniform draws score -7.4, the data itself -1.09
    uniform = float(data.log_prob(pipeline.prior_sample(2000, generator=torch.Generator().manual_seed(2))).mean())
    truth = float(data.log_prob(data.split("test").x).mean())
    learned = float(data.log_prob(x).mean())
    assert learned > truth - 0.25 and truth - uniform > 5
    # log p of held-out data: better than the uniform prior's -log(4 pi), not better than the entropy bound
    test = data.split("test").x[:200]
    nats = pipeline.log_prob(test).log_prob_nats
    assert torch.isfinite(nats).all()
    assert -math.log(4 * math.pi) + 0.5 < float(nats.mean()) < float(data.log_prob(test).mean()) + 0.2
    # the configured projecting solver runs unbound (plain RK4) on the likelihood's augmented state
    assert torch.allclose(nats, pipeline.log_prob(test, solver={"name": "rk4", "steps": 20}).log_prob_nats)
    # bits/dim per dimension of the sphere S^2 (2), not of its ambient R^3
    assert pipeline.num_dims == 2
    assert torch.allclose(pipeline.log_prob(test).nll_bits_per_dim, -nats / (2 * math.log(2)))
    loaded = Pipeline.load(pipeline.save(tmp_path / "ckpt"))
    again = loaded.sample(50, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(again, pipeline.sample(50, generator=torch.Generator().manual_seed(1)), atol=1e-6)


def test_torus_pipeline_trains_and_samples_on_the_torus():
    pipeline = Pipeline(_config("flat-torus", "torus-mixture", 60))
    records = pipeline.fit(progress=False)
    assert records and all(math.isfinite(r["loss"]) for r in records)
    x = pipeline.sample(500, solver={"name": "riemannian-euler", "steps": 200})
    assert FlatTorus().distance_to_manifold(x).max() == 0
    nats = pipeline.log_prob(pipeline.dataset.split("test").x[:50])
    assert torch.isfinite(nats.log_prob_nats).all()
    assert pipeline.num_dims == math.prod(pipeline.event_shape)  # the flat torus: as many dimensions as angles
