"""Pipeline: exact resume, divergence handling, sampling, likelihood, evaluation, data handling."""

from __future__ import annotations

import json
import math

import pytest
import torch

from flowkit import VectorFieldModel
from flowkit.data import TensorData, bin_centres
from flowkit.exceptions import ConfigError, InvalidParameterError, NonFiniteError, ShapeError
from flowkit.pipeline import Pipeline


def state_of(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def assert_identical(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_resume_is_bitwise_identical_to_an_uninterrupted_run(tmp_path, small_config):
    # Dropout draws from torch's global generator: resuming must restore that stream too.
    small_config["model"] = {"name": "mlp", "width": 16, "depth": 2, "dropout": 0.1}
    small_config["train"].update(steps=200, batch_size=96, checkpoint_every=0, log_every=50)
    one_go = Pipeline(small_config)
    one_go.fit(progress=False)

    first = Pipeline(small_config)
    first.fit(stop_at=100, progress=False)
    first.save(tmp_path / "ckpt")
    torch.manual_seed(1234)  # whatever the user does in between must not matter
    torch.rand(10)
    resumed = Pipeline.load(tmp_path / "ckpt")
    assert resumed.step == 100
    resumed.fit(progress=False)

    assert resumed.step == one_go.step == 200
    assert_identical(state_of(resumed.model), state_of(one_go.model))
    assert_identical(state_of(resumed.ema_model), state_of(one_go.ema_model))
    opt_a, opt_b = one_go.trainer.optimizer.state_dict(), resumed.trainer.optimizer.state_dict()
    for index in opt_a["state"]:
        for name, value in opt_a["state"][index].items():
            assert torch.equal(value, opt_b["state"][index][name])


def test_fit_logs_and_checkpoints(tmp_path, small_config):
    pipeline = Pipeline(small_config)
    history = pipeline.fit(out=tmp_path, progress=False)
    assert [r["step"] for r in history] == [5, 10, 15, 20]
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert lines == history
    assert {"loss", "lr", "grad_norm", "steps_per_second", "samples_per_second"} <= set(lines[0])
    assert all(math.isfinite(r["loss"]) for r in lines)
    assert Pipeline.load(tmp_path).step == 20
    assert pipeline.fit(progress=False) == []  # already trained to train.steps
    history = pipeline.fit(steps=25, lr=1e-4, progress=False)  # more steps, new settings
    assert pipeline.step == 25 and pipeline.config.train.lr == 1e-4 and history[-1]["step"] == 25


def test_non_finite_loss_stops_and_keeps_the_last_good_checkpoint(tmp_path, small_config, monkeypatch):
    small_config["train"].update(steps=40, log_every=5, checkpoint_every=10)
    pipeline = Pipeline(small_config)
    loss = pipeline.objective.loss
    monkeypatch.setattr(
        pipeline.objective, "loss", lambda **kw: loss(**kw) * (float("nan") if pipeline.step >= 23 else 1.0)
    )
    with pytest.raises(
        NonFiniteError, match=r"loss became nan between steps 21 and 25.*last good checkpoint is .*checkpoint"
    ):
        pipeline.fit(out=tmp_path, progress=False)
    restored = Pipeline.load(tmp_path)
    assert restored.step == 20
    assert all(torch.isfinite(p).all() for p in restored.model.parameters())


def test_sampling_shapes_and_seeds(small_config):
    pipeline = Pipeline(small_config)
    pipeline.fit(stop_at=3, progress=False)
    a = pipeline.sample(7, generator=torch.Generator().manual_seed(1))
    b = pipeline.sample(7, generator=torch.Generator().manual_seed(1))
    assert a.shape == (7, 2) and torch.equal(a, b)
    solution = pipeline.flow(torch.zeros(3, 2), solver={"name": "euler", "steps": 2}, trajectory_times=[0.0, 0.5, 1.0])
    assert solution.nfe == 2 and solution.trajectory.shape == (3, 3, 2)
    with pytest.raises(InvalidParameterError, match="n must be an integer >= 1"):
        pipeline.sample(0)
    with pytest.raises(InvalidParameterError, match="unconditional; labels are not accepted"):
        pipeline.sample(3, y=1)


def test_conditional_sampling_with_guidance(small_config):
    small_config["data"] = {"name": "8gaussians", "n_train": 256, "n_test": 64}
    small_config["model"] = "conditional-mlp"  # num_classes is filled in from the data set
    pipeline = Pipeline(small_config)
    assert pipeline.model.num_classes == 8
    pipeline.fit(stop_at=3, progress=False)
    assert pipeline.sample(5, y=2).shape == (5, 2)
    assert pipeline.sample(4, y=[0, 1, 2, 3], guidance=2.0).shape == (4, 2)
    with pytest.raises(InvalidParameterError, match="guidance needs labels"):
        pipeline.sample(4, guidance=2.0)


class LinearField(VectorFieldModel):
    """``v(t, x) = c x``: the flow over a time span ``T`` is ``x0 e^{cT}``, ``log p = log p0(x e^{-cT}) - D c T``."""

    def __init__(self, c: float):
        super().__init__()
        self.c = c
        self.dummy = torch.nn.Parameter(torch.zeros(()))

    def forward(self, t, x, y=None):
        return self.c * x + 0 * self.dummy


@pytest.mark.parametrize(("path", "span"), [({"name": "ot"}, 1.0), ({"name": "vp", "t_max": 0.5}, 0.5)])
def test_sampling_and_log_prob_follow_the_flow_over_the_path_time_range(small_config, path, span):
    small_config.update(path=path, solver={"name": "rk4", "steps": 40})
    small_config["train"]["ema_decay"] = 0.0  # sample with the model itself
    pipeline = Pipeline(small_config)
    pipeline.model = LinearField(0.3)
    x0 = torch.randn(6, 2)
    torch.testing.assert_close(pipeline.flow(x0).x, x0 * math.exp(0.3 * span), rtol=1e-5, atol=1e-5)
    x = torch.randn(6, 2)
    result = pipeline.log_prob(x)
    prior = torch.distributions.Normal(0.0, 1.0)
    expected = prior.log_prob(x * math.exp(-0.3 * span)).sum(1) - 2 * 0.3 * span
    torch.testing.assert_close(result.log_prob_nats, expected, rtol=1e-4, atol=1e-4)
    torch.testing.assert_close(result.nll_bits_per_dim, -expected / (2 * math.log(2)), rtol=1e-4, atol=1e-4)
    assert result.nfe == 160  # rk4: 4 evaluations x 40 steps


def test_evaluate_reports_every_registered_metric(small_config):
    pipeline = Pipeline(small_config)
    pipeline.fit(stop_at=5, progress=False)
    results = pipeline.evaluate(num_samples=32)
    assert {"energy_distance", "sliced_w2", "nll_nats", "bits_per_dim", "nfe", "sampling_seconds"} <= set(results)
    assert results["nfe"] == 4  # euler, 4 steps
    assert all(math.isfinite(v) for v in results.values())
    again = pipeline.evaluate(num_samples=32)  # seeded: the same samples and probes
    assert {k: v for k, v in again.items() if k != "sampling_seconds"} == {
        k: v for k, v in results.items() if k != "sampling_seconds"
    }
    assert set(pipeline.evaluate(num_samples=8, metrics=["nfe"])) == {"nfe"}


def test_user_tensors_as_data_and_quantised_dequantisation(tmp_path, small_config, monkeypatch):
    del small_config["data"]
    levels = torch.randint(0, 5, (300, 2))
    data = TensorData(bin_centres(levels, 5), num_bins=5)
    pipeline = Pipeline(small_config, data=data)
    seen = []
    loss = pipeline.objective.loss
    monkeypatch.setattr(pipeline.objective, "loss", lambda **kw: seen.append(kw["x1"]) or loss(**kw))
    pipeline.fit(stop_at=4, progress=False)
    batch = seen[0]
    centres = bin_centres(torch.floor((batch + 1) * 5 / 2).clamp(0, 4).long(), 5)
    assert not torch.equal(batch, centres)  # uniform noise was added ...
    assert (batch - centres).abs().max() <= 1 / 5 + 1e-6  # ... within each point's bin (width 2/5)
    result = pipeline.log_prob(data.split("test").x[:4])
    torch.testing.assert_close(
        result.nll_bits_per_dim, (-result.log_prob_nats + 2 * math.log(5 / 2)) / (2 * math.log(2)), rtol=1e-5, atol=1e-5
    )

    pipeline.save(tmp_path / "ckpt")
    loaded = Pipeline.load(tmp_path / "ckpt")  # no data needed to sample
    assert loaded.sample(3).shape == (3, 2)
    with pytest.raises(ConfigError, match="this pipeline has no data set"):
        loaded.fit(progress=False)
    assert Pipeline.load(tmp_path / "ckpt", data=data).fit(steps=6, progress=False)[-1]["step"] == 6


def test_a_dataloader_is_read_into_tensors(small_config):
    del small_config["data"]
    x, y = torch.randn(300, 2), torch.randint(0, 3, (300,))
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64, shuffle=False)
    pipeline = Pipeline(small_config, data=loader)
    train, test = pipeline.dataset.split("train"), pipeline.dataset.split("test")
    assert train.x.shape[0] + test.x.shape[0] == 300
    assert torch.equal(torch.cat([train.x, test.x]).sort(0).values, x.sort(0).values)
    assert torch.equal(torch.cat([train.y, test.y]).sort().values, y.sort().values)
    pipeline.fit(stop_at=2, progress=False)
    unlabelled = torch.utils.data.DataLoader(x, batch_size=100)
    assert Pipeline(small_config, data=unlabelled).dataset.split("train").y is None

    class Ragged(torch.utils.data.Dataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return (torch.randn(2), torch.tensor(1)) if i == 0 else torch.randn(2)

    with pytest.raises(ConfigError, match="DataLoader batch 1 lacks labels, unlike batch 0"):
        Pipeline(small_config, data=torch.utils.data.DataLoader(Ragged(), batch_size=None))
    with pytest.raises(ConfigError, match="accepted batches: a tensor x or a pair"):
        Pipeline(small_config, data=torch.utils.data.DataLoader([{"x": torch.randn(2)}], batch_size=None))


def test_data_given_twice_and_bad_data(small_config):
    with pytest.raises(ConfigError, match="data is given both in the config and as an object"):
        Pipeline(small_config, data=torch.randn(10, 2))
    del small_config["data"]
    with pytest.raises(ConfigError, match="data must be a flowkit.Dataset, a tensor"):
        Pipeline(small_config, data=[1, 2, 3])
    with pytest.raises(ShapeError):
        Pipeline(small_config, data=torch.arange(10))


def test_model_shape_parameters_come_from_the_data(small_config):
    small_config["data"] = "digits"
    with pytest.raises(
        ConfigError, match=r"model 'mlp' takes vector data \(dim=...\), but the data have event shape \[1, 8, 8\]"
    ):
        Pipeline(small_config)
    small_config["model"] = {
        "name": "unet",
        "base_channels": 8,
        "channel_mult": [1],
        "num_res_blocks": 1,
        "norm_groups": 4,
    }
    pipeline = Pipeline(small_config)
    assert (pipeline.model.channels, pipeline.model.image_size) == (1, 8) and pipeline.num_bins == 17
    small_config["model"] = {"name": "mlp", "num_classes": 10}
    small_config["data"] = "moons"
    small_config["model"]["num_classes"] = 1
    with pytest.raises(ConfigError, match="has num_classes=1 but the data set has 2 classes"):
        Pipeline(small_config)
    small_config["data"] = "swissroll"
    with pytest.raises(ConfigError, match="is class-conditional, but the data set has no labels"):
        Pipeline(small_config)


def test_bf16_precision_autocasts_the_loss(small_config, monkeypatch):
    small_config["train"]["precision"] = "bf16"
    pipeline = Pipeline(small_config)
    seen = []
    loss = pipeline.objective.loss
    monkeypatch.setattr(
        pipeline.objective, "loss", lambda **kw: seen.append(torch.is_autocast_enabled("cpu")) or loss(**kw)
    )
    history = pipeline.fit(stop_at=5, progress=False)
    assert seen == [True] * 5 and math.isfinite(history[-1]["loss"])
    assert all(p.dtype == torch.float32 for p in pipeline.model.parameters())
