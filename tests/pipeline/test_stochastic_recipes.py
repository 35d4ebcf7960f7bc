"""SDE sampling through the pipeline, the sb-cfm and sf2m recipes, and their configuration."""

from __future__ import annotations

import pytest
import torch

from flowkit.exceptions import ConfigError, InvalidParameterError
from flowkit.pipeline import Pipeline, PipelineConfig, recipe, recipe_names


def test_sde_sampler_works_from_pipeline_sample_with_the_converted_score(small_config):
    pipeline = Pipeline(small_config)
    pipeline.fit(progress=False)
    sde = {"name": "euler-maruyama", "steps": 8, "diffusion": 0.5, "schedule": "std", "seed": 1}
    first = pipeline.sample(32, solver=sde, generator=torch.Generator().manual_seed(0))
    again = pipeline.sample(32, solver=sde, generator=torch.Generator().manual_seed(0))
    euler = pipeline.sample(32, solver={"name": "euler", "steps": 8}, generator=torch.Generator().manual_seed(0))
    assert first.shape == (32, 2) and torch.isfinite(first).all()
    assert torch.equal(first, again) and not torch.equal(first, euler)
    no_noise = pipeline.sample(32, solver={**sde, "diffusion": 0.0}, generator=torch.Generator().manual_seed(0))
    assert torch.equal(no_noise, euler)
    # likelihoods integrate backwards: the SDE sampler then solves the probability-flow ODE
    torch.testing.assert_close(
        pipeline.log_prob(first[:4], solver=sde).log_prob_nats,
        pipeline.log_prob(first[:4], solver={"name": "euler", "steps": 8}).log_prob_nats,
    )


def test_sb_cfm_recipe_ties_the_absolute_temperature_to_sigma():
    assert {"sb-cfm", "sf2m"} <= set(recipe_names())
    fragment = recipe("sb-cfm", sigma=0.3)
    assert fragment["path"] == {"name": "bridge", "sigma": 0.3}
    assert fragment["coupling"] == {"name": "sinkhorn", "epsilon": pytest.approx(2 * 0.3**2)}
    config = PipelineConfig.from_dict({"recipe": {"name": "sb-cfm", "sigma": 0.3}, "objective": "fm", "data": "moons"})
    assert config.objective.name == "fm"  # a key beside the recipe wins
    assert config.coupling.params["epsilon"] == pytest.approx(0.18)
    assert "recipe" not in config.to_dict() and PipelineConfig.from_dict(config.to_dict()) == config
    with pytest.raises(ConfigError, match="unknown recipe 'sb'"):
        PipelineConfig.from_dict({"recipe": "sb"})
    with pytest.raises(ConfigError, match="no parameter 'eps'"):
        recipe("sb-cfm", eps=0.1)
    with pytest.raises(ConfigError, match="sigma"):
        recipe("sf2m", sigma=-1)


def test_sb_cfm_pipeline_pairs_by_entropic_ot_at_two_sigma_squared(small_config):
    pytest.importorskip("flowkit_bridge")
    from flowkit.couplings import sinkhorn_log_plan

    small_config.update(recipe={"name": "sb-cfm", "sigma": 0.4})
    for key in ("path", "coupling", "objective"):
        small_config.pop(key)
    pipeline = Pipeline(small_config)
    assert pipeline.path.sigma == 0.4 and pipeline.coupling.epsilon == pytest.approx(0.32)
    x0, x1 = torch.randn(2, 16, 2, dtype=torch.float64)
    expected = sinkhorn_log_plan(torch.cdist(x0, x1).square(), 0.32, max_iter=1000, tol=1e-4).exp()
    torch.testing.assert_close(pipeline.coupling.plan(x0, x1), expected)
    history = pipeline.fit(progress=False)
    assert history and all(torch.isfinite(torch.tensor(r["loss"])) for r in history)


def test_sf2m_recipe_trains_a_score_head_and_samples_with_it(small_config, tmp_path):
    pytest.importorskip("flowkit_bridge")
    for key in ("path", "coupling", "objective", "model", "solver"):
        small_config.pop(key)
    small_config["recipe"] = {"name": "sf2m", "sigma": 0.3, "steps": 6}
    pipeline = Pipeline(small_config)
    assert pipeline.solver.score == "model" and pipeline.solver.diffusion == 0.3
    pipeline.fit(progress=False)
    seeded = {"name": "euler-maruyama", "steps": 6, "diffusion": 0.3, "score": "model", "seed": 4}
    samples = pipeline.sample(16, solver=seeded, generator=torch.Generator().manual_seed(0))
    assert samples.shape == (16, 2) and torch.isfinite(samples).all()
    assert pipeline.flow(pipeline.prior_sample(8), solver=seeded).nfe == 12  # velocity + score per step
    loaded = Pipeline.load(pipeline.save(tmp_path / "ckpt"))
    torch.testing.assert_close(loaded.sample(16, solver=seeded, generator=torch.Generator().manual_seed(0)), samples)
    with pytest.raises(InvalidParameterError, match="velocity_to_score"):
        pipeline.sample(4, solver={"name": "euler-maruyama", "steps": 2})  # the bridge has no conversion
