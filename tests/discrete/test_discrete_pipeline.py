"""Discrete flow matching through Pipeline: fit, sample, evaluate, save/load, and the state check."""

from __future__ import annotations

import warnings

import pytest
import torch

from flowkit import Pipeline
from flowkit.core import EvaluationContext
from flowkit.discrete import TotalVariation
from flowkit.exceptions import ConfigError


def _config(source: str = "uniform", steps: int = 400) -> dict:
    return {
        "seed": 0,
        "device": "cpu",
        "path": {"name": "mixture", "source": source, "exponent": 2.0},
        "objective": "discrete-ce",
        "model": {"name": "discrete-mlp", "width": 64, "embed_dim": 16, "depth": 2},
        "solver": {"name": "discrete-euler", "steps": 20, "seed": 0},
        "data": {"name": "discrete-checkerboard", "grid": 8, "cells": 4, "n_train": 8192, "n_test": 4000},
        "train": {"steps": steps, "batch_size": 256, "lr": 3e-3, "ema_decay": 0.0},
        "eval": {"metrics": ["discrete-tv"], "num_samples": 4000},
    }


@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_training_on_the_discrete_checkerboard_lowers_tv_well_below_the_prior(source):
    pipeline = Pipeline(_config(source))
    assert pipeline.vocab_size == 8 and pipeline.model.length == 2 and pipeline.path.vocab_size == 8
    prior = pipeline.prior_sample(4000, generator=torch.Generator().manual_seed(0))
    prior_tv = TotalVariation().measure(EvaluationContext(samples=prior, reference=prior), pipeline.dataset)["tv"]
    # the prior: uniform on 64 cells (TV 1/2 from the 32 black ones) or all masked (TV 1)
    assert prior_tv == pytest.approx(0.5 if source == "uniform" else 1.0, abs=0.05)
    untrained = pipeline.evaluate()
    pipeline.fit(progress=False)
    after = pipeline.evaluate()
    assert after["tv"] < 0.2 < 0.4 < untrained["tv"]
    assert after["tv-marginal"] < 0.08
    samples = pipeline.sample(16)
    assert samples.dtype == torch.long and samples.shape == (16, 2) and bool((samples < 8).all())


def test_save_and_load_keep_the_tokens(tmp_path):
    pipeline = Pipeline(_config(steps=3))
    pipeline.fit(progress=False)
    pipeline.save(tmp_path / "run")
    loaded = Pipeline.load(tmp_path / "run")
    assert loaded.vocab_size == 8
    seeded = lambda p: p.sample(32, generator=torch.Generator().manual_seed(1))  # noqa: E731
    assert torch.equal(seeded(loaded), seeded(pipeline))


def test_a_continuous_solver_on_a_discrete_path_is_refused():
    pipeline = Pipeline(_config(steps=1))
    with pytest.raises(ConfigError, match="discrete-euler"):
        pipeline.sample(4, solver="euler")
    with pytest.raises(ConfigError, match="integer tokens"):
        Pipeline({**_config(steps=1), "path": "ot"})
    continuous = Pipeline(
        {"data": {"name": "moons", "n_train": 64, "n_test": 16}, "train": {"steps": 1, "batch_size": 16}}
    )
    with pytest.raises(ConfigError, match="tokens"):
        continuous.sample(4, solver="discrete-euler")


def test_own_token_tensors_train_through_tensor_data():
    from flowkit.data import TensorData
    from flowkit.exceptions import InvalidParameterError, ShapeError

    tokens = torch.randint(5, (256, 3), generator=torch.Generator().manual_seed(0))
    data = TensorData(tokens, vocab_size=5)
    config = {
        "path": {"name": "mixture"},
        "objective": "discrete-ce",
        "model": "discrete-mlp",
        "solver": {"name": "discrete-euler", "steps": 4},
        "train": {"steps": 2, "batch_size": 32},
    }
    pipeline = Pipeline(config, data=data)
    pipeline.fit(progress=False)
    assert pipeline.model.vocab_size == 5 and pipeline.sample(8).shape == (8, 3)
    with pytest.raises(InvalidParameterError, match="0..4"):
        TensorData(tokens + 1, vocab_size=5)
    with pytest.raises(ShapeError, match="integer tokens"):
        TensorData(tokens.float(), vocab_size=5)


def test_log_prob_is_refused_with_the_reason():
    from flowkit.exceptions import InvalidParameterError

    pipeline = Pipeline(_config(steps=1))
    with pytest.raises(InvalidParameterError, match="log_prob"):
        pipeline.log_prob(pipeline.dataset.split("test").x[:4])


@pytest.mark.parametrize("source", ["uniform", "mask"])
def test_training_on_markov_text_approaches_the_sampling_floor(source):
    config = {
        **_config(source),
        "path": {"name": "mixture", "source": source},
        "data": {"name": "markov-text", "vocab_size": 4, "length": 4, "n_train": 8192, "n_test": 4000},
    }
    pipeline = Pipeline(config)
    untrained = pipeline.evaluate()
    pipeline.fit(progress=False)
    after = pipeline.evaluate()
    # 256 sequences; 4000 exact draws would show a TV of about 0.044
    assert after["tv"] < 3 * after["tv-floor"] < 0.2 < 0.6 < untrained["tv"]
    assert after["tv-marginal"] < 0.05


def test_metrics_that_cannot_measure_tokens_are_left_out():
    pipeline = Pipeline({**_config(steps=1), "eval": {"num_samples": 64}})  # eval.metrics = "all"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        everything = pipeline.evaluate()
    assert {"tv", "nfe", "sampling_seconds"} <= set(everything) and "energy_distance" not in everything
    with pytest.warns(UserWarning, match=r"\['energy-distance'\] cannot measure tokens samples"):
        named = pipeline.evaluate(metrics=["energy-distance", "discrete-tv"])
    assert "tv" in named and "energy_distance" not in named
