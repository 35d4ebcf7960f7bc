"""Pipeline configuration: plain-data, TOML and JSON round trips; every bad case raises ConfigError."""

from __future__ import annotations

import pytest

from flowkit import registry
from flowkit.exceptions import ConfigError, UnknownComponentError
from flowkit.pipeline import ComponentConfig, EvalConfig, Pipeline, PipelineConfig, TrainConfig
from flowkit.pipeline.config import config_differences

FULL = {
    "path": {"name": "ot", "sigma_min": 1e-4},
    "coupling": "independent",
    "objective": {"name": "cfm", "time_distribution": "logit-normal", "logit_normal_std": 0.8},
    "model": {"name": "mlp", "width": 256, "depth": 4, "activation": "gelu"},
    "solver": {"name": "rk4", "steps": 50},
    "data": {"name": "checkerboard", "n_train": 1000},
    "device": "cpu",
    "seed": 7,
    "train": {"steps": 123, "batch_size": 64, "lr": 3e-4, "betas": [0.8, 0.95], "lr_schedule": "linear"},
    "eval": {"num_samples": 10, "metrics": ["nll", "nfe"]},
}


@pytest.mark.parametrize("data", [{}, {"data": "moons"}, FULL])
def test_round_trips_through_dict_toml_and_json(data, tmp_path):
    config = PipelineConfig.from_dict(data)
    assert PipelineConfig.from_dict(config.to_dict()) == config
    assert PipelineConfig.from_toml(config.to_toml()) == config
    assert PipelineConfig.from_json(config.to_json()) == config
    for name in ("config.toml", "config.json"):
        config.save(tmp_path / name)
        assert PipelineConfig.load(tmp_path / name) == config


def test_plain_data_form():
    config = PipelineConfig.from_dict(FULL)
    assert config.path == ComponentConfig("ot", {"sigma_min": 1e-4})
    assert config.coupling.to_data() == "independent"
    assert config.train.betas == (0.8, 0.95)
    assert config.eval.metrics == ("nll", "nfe")
    data = config.to_dict()
    assert data["path"] == {"name": "ot", "sigma_min": 1e-4}
    assert data["train"]["betas"] == [0.8, 0.95]
    assert "data" not in PipelineConfig().to_dict()  # unset data is left out (TOML has no null)


def test_defaults_and_overrides():
    config = PipelineConfig()
    assert config.train == TrainConfig() and config.eval == EvalConfig()
    changed = config.with_train(steps=5, lr=0.1)
    assert (changed.train.steps, changed.train.lr) == (5, 0.1)
    assert config_differences(config, changed) == ["train.lr", "train.steps"]
    with pytest.raises(ConfigError, match="unknown key 'stepz'.*accepted keys: steps, batch_size"):
        config.with_train(stepz=5)


def test_component_params_are_read_only():
    component = ComponentConfig("mlp", {"width": 3})
    with pytest.raises(TypeError):
        component.params["width"] = 4  # type: ignore[index]


BAD = [
    ({"paths": "ot"}, "unknown key 'paths' in the pipeline config; accepted keys: path, coupling"),
    ({"train": {"stepz": 1}}, "unknown key 'stepz' in \\[train\\]; accepted keys: steps"),
    ({"eval": {"sample": 3}}, "unknown key 'sample' in \\[eval\\]; accepted keys: num_samples"),
    ({"path": {"sigma_min": 0.1}}, "path is a table without 'name'"),
    ({"path": {"name": ""}}, "path.name must be a non-empty string"),
    ({"model": 3}, "model must be a component name or a table"),
    ({"model": ""}, "model must name a component"),
    ({"model": {"name": "mlp", "width": None}}, "model.width is None"),
    ({"model": {"name": "mlp", "act": object()}}, "model.act must be plain data"),
    ({"model": {"name": "mlp", "scale": float("nan")}}, "model.scale must be finite"),
    ({"train": {"steps": 0}}, "train.steps must be an integer >= 1, got 0"),
    ({"train": {"steps": 1.5}}, "train.steps must be an integer >= 1, got 1.5"),
    ({"train": {"steps": True}}, "train.steps must be an integer"),
    ({"train": {"lr": -1}}, "train.lr must be a finite number > 0, got -1"),
    ({"train": {"lr": "fast"}}, "train.lr must be a finite number > 0"),
    ({"train": {"weight_decay": -0.1}}, "train.weight_decay must be a finite number >= 0"),
    ({"train": {"betas": [0.9]}}, "train.betas must be a pair"),
    ({"train": {"betas": [0.9, 1.0]}}, r"train.betas must be a finite number in \[0, 1\), got 1.0"),
    ({"train": {"eps": 0}}, "train.eps must be a finite number > 0"),
    ({"train": {"warmup_steps": -1}}, "train.warmup_steps must be an integer >= 0"),
    ({"train": {"lr_schedule": "exp"}}, "train.lr_schedule must be one of 'cosine', 'linear', 'constant'"),
    ({"train": {"min_lr_ratio": 2}}, r"train.min_lr_ratio must be a finite number in \[0, 1\]"),
    ({"train": {"grad_clip": -1}}, "train.grad_clip must be a finite number >= 0"),
    ({"train": {"ema_decay": 1.0}}, r"train.ema_decay must be a finite number in \[0, 1\)"),
    ({"train": {"log_every": 0}}, "train.log_every must be an integer >= 1"),
    ({"train": {"checkpoint_every": -5}}, "train.checkpoint_every must be an integer >= 0"),
    ({"train": [1, 2]}, "train must be a table"),
    ({"eval": {"num_samples": 0}}, "eval.num_samples must be an integer >= 1"),
    ({"eval": {"metrics": "nll"}}, 'eval.metrics must be "all" or a list'),
    ({"eval": {"divergence": "approx"}}, "eval.divergence must be one of 'auto', 'exact', 'hutchinson'"),
    ({"device": ""}, 'device must be "auto" or a torch device string'),
    ({"seed": -1}, "seed must be an integer >= 0"),
    (["ot"], "the pipeline config must be a table"),
]


@pytest.mark.parametrize(("data", "message"), BAD, ids=[str(i) for i in range(len(BAD))])
def test_bad_config_raises_config_error(data, message):
    with pytest.raises(ConfigError, match=message):
        PipelineConfig.from_dict(data)


def test_bad_files(tmp_path):
    with pytest.raises(ConfigError, match="must end in .toml or .json"):
        PipelineConfig.load(tmp_path / "config.yaml")
    with pytest.raises(ConfigError, match="cannot read config file"):
        PipelineConfig.load(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("path = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.toml: invalid TOML"):
        PipelineConfig.load(broken)
    broken_json = tmp_path / "broken.json"
    broken_json.write_text('{"train": ', encoding="utf-8")
    with pytest.raises(ConfigError, match="broken.json: invalid JSON"):
        PipelineConfig.load(broken_json)
    unknown = tmp_path / "unknown.json"
    unknown.write_text('{"trian": {}}', encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown.json: unknown key 'trian'"):
        PipelineConfig.load(unknown)


def test_unknown_component_fails_before_anything_is_built(monkeypatch):
    built = []
    original = registry.create
    monkeypatch.setattr(registry, "create", lambda *a, **k: built.append(a) or original(*a, **k))
    with pytest.raises(UnknownComponentError, match="unknown model 'mpl'. Did you mean 'mlp'"):
        Pipeline({"model": "mpl", "data": "checkerboard"})
    with pytest.raises(UnknownComponentError, match="unknown metric 'nlll'"):
        Pipeline({"data": "checkerboard", "eval": {"metrics": ["nlll"]}})
    assert built == []
