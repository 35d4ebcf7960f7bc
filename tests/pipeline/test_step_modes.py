"""``train.compile``: mode resolution, fallbacks and errors, and the capturable step form on the CPU.

CUDA graph capture itself needs a GPU (``benchmarks/gpu_check.py`` checks it); here the
capturable form of the step (batch gathered at a device offset, tensor learning rate and EMA
weight, torch's global generator) runs eagerly on the CPU, which is what a CUDA graph replays.
"""

from __future__ import annotations

import pytest
import torch

from flowkit import registry
from flowkit.exceptions import ConfigError
from flowkit.pipeline import Pipeline
from flowkit.pipeline.batches import BatchSampler
from flowkit.pipeline.config import TrainConfig
from flowkit.pipeline.ema import EMA
from flowkit.pipeline.step import EagerStep, GraphStep, InductorStep, PrefetchingEagerStep
from flowkit.pipeline.step_modes import StepMode, configure_optimizer, resolve_step_mode

CPU, CUDA = torch.device("cpu"), torch.device("cuda")


def objective(coupling: str = "independent"):
    return registry.create(
        "objective", "cfm", path=registry.create("path", "ot"), coupling=registry.create("coupling", coupling)
    )


def test_compile_defaults_to_auto_and_rejects_unknown_modes():
    assert TrainConfig().compile == "auto"
    with pytest.raises(ConfigError, match="train.compile must be one of 'auto', 'off', 'cuda-graph', 'inductor'"):
        TrainConfig(compile="fast")


def test_auto_runs_eagerly_on_the_cpu_without_a_message():
    assert resolve_step_mode("auto", device=CPU, distributed=False, objective=objective()) == StepMode("off")


def objective_with(coupling):
    return registry.create("objective", "cfm", path=registry.create("path", "ot"), coupling=coupling)


@pytest.mark.parametrize(
    "coupling",
    [
        ("independent", {}),
        ("sinkhorn", {"iterations": 50}),
        ("unbalanced-ot", {"tau": 1.0}),
        ("partial-ot", {"mass": 0.8}),
    ],
)
def test_auto_captures_on_cuda_when_every_component_allows_it(coupling):
    name, params = coupling
    chosen = resolve_step_mode(
        "auto", device=CUDA, distributed=False, objective=objective_with(registry.create("coupling", name, **params))
    )
    assert chosen == StepMode("cuda-graph")


@pytest.mark.parametrize(
    ("coupling", "distributed", "named"),
    [("ot", False, "ExactOTCoupling"), ("sinkhorn", False, "SinkhornCoupling"), ("independent", True, "torchrun")],
)
def test_auto_falls_back_on_cuda_and_says_why(coupling, distributed, named):
    mode = resolve_step_mode("auto", device=CUDA, distributed=distributed, objective=objective(coupling))
    assert mode.name == "off"
    assert named in mode.fallback_reason


def test_an_explicit_cuda_graph_that_cannot_run_names_the_obstacle():
    with pytest.raises(ConfigError, match="'cuda-graph' cannot be used: the device is cpu"):
        resolve_step_mode("cuda-graph", device=CPU, distributed=False, objective=objective())
    with pytest.raises(ConfigError, match="the coupling ExactOTCoupling works on the host"):
        resolve_step_mode("cuda-graph", device=CUDA, distributed=False, objective=objective("ot"))


def test_inductor_on_an_unsupported_device_is_an_error():
    with pytest.raises(ConfigError, match="inductor backend does not support the mps device"):
        resolve_step_mode("inductor", device=torch.device("mps"), distributed=False, objective=objective())


def test_the_optimizer_implementation_follows_the_mode_and_keeps_its_hyper_parameters():
    parameter = torch.nn.Parameter(torch.randn(3))
    optimizer = torch.optim.AdamW([parameter], lr=1e-3, betas=(0.8, 0.9))
    configure_optimizer(optimizer, "off", CPU)
    assert optimizer.param_groups[0]["fused"] is True
    parameter.grad = torch.ones(3)
    optimizer.step()
    assert optimizer.state[parameter]["step"].device == CPU
    optimizer.param_groups[0]["lr"] = torch.tensor(5e-4)  # as a CUDA graph step leaves it
    configure_optimizer(optimizer, "cuda-graph", CPU)
    group = optimizer.param_groups[0]
    assert (group["fused"], group["foreach"], group["capturable"]) == (None, False, False)
    assert isinstance(group["lr"], float) and group["lr"] == pytest.approx(5e-4) and group["betas"] == (0.8, 0.9)


def test_ema_update_by_a_weight_tensor_equals_the_update_by_step():
    model = torch.nn.Linear(3, 2)
    one, two = EMA(model, 0.99), EMA(model, 0.99)
    for step in (1, 2, 50):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        one.update(step)
        two.update_by(torch.tensor(1.0 - min(0.99, (1.0 + step) / (10.0 + step))))
        for a, b in zip(one.average.parameters(), two.average.parameters()):
            torch.testing.assert_close(a, b, rtol=0, atol=1e-6)


def test_next_range_gives_the_rows_that_next_slices():
    x = torch.arange(40.0).reshape(20, 2)
    by_slice = BatchSampler(x, None, batch_size=6, seed=3)
    by_range = BatchSampler(x, None, batch_size=6, seed=3)
    for _ in range(7):  # crosses two epoch boundaries
        expected, _ = by_slice.next()
        shuffled, _, start = by_range.next_range()
        torch.testing.assert_close(shuffled[start : start + 6], expected, rtol=0, atol=0)


@pytest.fixture
def graph_form(monkeypatch):
    """Train with ``compile = "cuda-graph"`` on the CPU: the capturable form, run eagerly."""
    monkeypatch.setattr("flowkit.pipeline.training.resolve_step_mode", lambda requested, **_: StepMode(requested))


def _train(config: dict, mode: str, steps: int) -> tuple[Pipeline, torch.Tensor]:
    config = dict(config, train=dict(config["train"], compile=mode, steps=steps, checkpoint_every=0, log_every=10))
    pipeline = Pipeline(config)
    history = pipeline.fit(progress=False)
    return pipeline, torch.tensor([record["loss"] for record in history])


def test_the_capturable_form_follows_the_eager_loss_statistics(small_config, graph_form):
    """Same seed, different random streams: the loss curves agree within their noise."""
    small_config["model"] = {"name": "mlp", "width": 64, "depth": 2}
    small_config["data"] = {"name": "checkerboard", "n_train": 4096, "n_test": 128}
    small_config["train"].update(batch_size=256, lr=3e-3, warmup_steps=10)
    eager, eager_losses = _train(small_config, "off", 400)
    captured, captured_losses = _train(small_config, "cuda-graph", 400)
    assert isinstance(eager.trainer._step_runner, EagerStep)
    assert isinstance(captured.trainer._step_runner, GraphStep)
    assert captured_losses[-1] < 0.8 * captured_losses[0]  # it trains
    a, b = eager_losses[20:], captured_losses[20:]  # each a mean over 10 steps
    difference = float(a.mean() - b.mean())
    standard_error = float(((a.var() + b.var()) / len(a)).sqrt())
    assert abs(difference) < 4 * standard_error, (difference, standard_error)


def test_the_capturable_form_resumes_bit_for_bit(small_config, graph_form, tmp_path):
    small_config["train"].update(compile="cuda-graph", steps=40, checkpoint_every=20)
    whole = Pipeline(small_config)
    whole.fit(progress=False)
    first = Pipeline(small_config)
    first.fit(stop_at=20, out=tmp_path, progress=False)
    resumed = Pipeline.load(tmp_path / "checkpoint")
    assert resumed.trainer.step_mode.name == "cuda-graph"
    resumed.fit(progress=False)
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)
    for a, b in zip(whole.ema_model.parameters(), resumed.ema_model.parameters()):
        assert torch.equal(a, b)


def test_a_checkpoint_of_the_capturable_form_loads_and_trains_eagerly(small_config, graph_form, tmp_path):
    small_config["train"].update(compile="cuda-graph", steps=20, checkpoint_every=10)
    Pipeline(small_config).fit(out=tmp_path, progress=False)
    loaded = Pipeline.load(tmp_path / "checkpoint")
    loaded.fit(steps=30, compile="off", progress=False)
    assert loaded.step == 30 and isinstance(loaded.trainer._step_runner, EagerStep)
    assert isinstance(loaded.trainer.optimizer.param_groups[0]["lr"], float)


def test_exact_ot_is_solved_one_step_ahead_and_resumes_bit_for_bit(small_config, tmp_path):
    small_config["coupling"] = "ot"
    small_config["train"].update(steps=30, checkpoint_every=15)
    whole = Pipeline(small_config)
    whole.fit(progress=False)
    runner = whole.trainer._step_runner
    assert isinstance(runner, PrefetchingEagerStep)
    assert list(runner._pending) == [30]  # the assignment of the next step is already queued
    first = Pipeline(small_config)
    first.fit(stop_at=15, out=tmp_path, progress=False)
    resumed = Pipeline.load(tmp_path / "checkpoint")
    resumed.fit(progress=False)
    for a, b in zip(whole.model.parameters(), resumed.model.parameters()):
        assert torch.equal(a, b)


def test_the_prefetched_pairs_are_the_exact_ot_pairs(small_config):
    small_config["coupling"] = "ot"
    pipeline = Pipeline(small_config)
    pipeline.fit(steps=2, progress=False)
    runner = pipeline.trainer._step_runner
    x0, x1, solved = runner._pending[2]
    expected = pipeline.coupling.assignment(x0, x1)
    assert torch.equal(solved.result(), expected)
    cost = ((x0[expected] - x1) ** 2).sum()
    assert cost <= ((x0 - x1) ** 2).sum()  # no worse than the identity pairing


def test_inductor_mode_trains_with_the_compiled_network(small_config):
    small_config["train"].update(compile="inductor", steps=8, checkpoint_every=0, log_every=4)
    pipeline = Pipeline(small_config)
    history = pipeline.fit(progress=False)
    runner = pipeline.trainer._step_runner
    assert isinstance(runner, InductorStep) and runner.network is not pipeline.model
    assert [record["step"] for record in history] == [4, 8]
    assert all(torch.isfinite(torch.tensor(record["loss"])) for record in history)
