"""The user's own components in a pipeline, the CLI and a benchmark suite: in-process names and
factory references ``"module:factory"``."""

from __future__ import annotations

import sys
import textwrap

import pytest
import torch

import flowkit
from flowkit import Pipeline, registry
from flowkit.bench import load_suite, run_suite
from flowkit.cli import main

MODULE = """
import torch
from flowkit import ConditionalOTPath, VectorFieldModel


def straight_path(sigma_min: float = 0.0):
    return ConditionalOTPath(sigma_min=sigma_min)


class TinyField(VectorFieldModel):
    '''v(t, x) = W [x, t] + b: a linear field, enough to train for a few steps.'''

    def __init__(self, dim: int):
        super().__init__()
        self.linear = torch.nn.Linear(dim + 1, dim)

    def forward(self, t, x, y=None):
        return self.linear(torch.cat([x, t[:, None]], dim=1))
"""


@pytest.fixture
def own_module(tmp_path, monkeypatch):
    folder = tmp_path / "own"
    folder.mkdir()
    (folder / "own_pipeline_flows.py").write_text(textwrap.dedent(MODULE))
    monkeypatch.syspath_prepend(str(folder))
    yield "own_pipeline_flows"
    sys.modules.pop("own_pipeline_flows", None)


def test_pipeline_config_names_references_and_reloads_them(own_module, small_config, tmp_path):
    small_config["path"] = {"name": f"{own_module}:straight_path", "sigma_min": 0.01}
    small_config["model"] = f"{own_module}:TinyField"
    pipeline = Pipeline(small_config)
    assert pipeline.path.sigma_min == 0.01 and type(pipeline.model).__name__ == "TinyField"
    pipeline.fit(steps=5)
    saved = pipeline.save(tmp_path / "checkpoint")
    loaded = Pipeline.load(saved)
    x0 = pipeline.prior_sample(8, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(loaded.flow(x0).x, pipeline.flow(x0).x, rtol=0, atol=0)


def test_in_process_name_in_a_pipeline(small_config):
    with registry.scoped():
        flowkit.register("path", "half-ot-test", lambda: flowkit.ConditionalOTPath(sigma_min=0.5))
        small_config["path"] = "half-ot-test"
        assert Pipeline(small_config).path.sigma_min == 0.5


def test_cli_trains_a_config_naming_a_reference(own_module, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            path = "{own_module}:straight_path"
            model = "{own_module}:TinyField"
            solver = {{ name = "euler", steps = 2 }}
            data = {{ name = "checkerboard", n_train = 256, n_test = 64 }}
            device = "cpu"

            [train]
            steps = 3
            batch_size = 32
            warmup_steps = 1
            """
        )
    )
    assert main(["train", str(config), "--out", str(tmp_path / "run"), "--no-progress"]) == 0
    assert (tmp_path / "run" / "checkpoint" / "manifest.json").is_file()


def test_bench_suite_names_a_reference(own_module, tmp_path):
    suite = load_suite(
        {
            "name": "own",
            "axes": {
                "path": [f"{own_module}:straight_path"],
                "model": [f"{own_module}:TinyField"],
                "data": [{"name": "moons", "n_train": 256, "n_test": 64}],
                "solver": [{"name": "euler", "steps": 2}],
            },
            "train": {"steps": 3, "batch_size": 32, "warmup_steps": 1},
            "eval": {"num_samples": 32, "likelihood_points": 8, "likelihood_solver": {"name": "euler", "steps": 2}},
        }
    )
    report = run_suite(suite, tmp_path / "bench", plots=False, log=lambda line: None)
    assert (report.cells, report.ran, report.errors) == (1, 1, 0)
