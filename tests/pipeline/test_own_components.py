"""The user's own components in a pipeline, the CLI and a benchmark suite: in-process names and
factory references ``"module:factory"``."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import flowkit
from flowkit import Pipeline, registry
from flowkit.bench import load_suite, run_suite
from flowkit.cli import main
from flowkit.exceptions import ConfigError, NotRebuildableWarning, UnknownComponentError

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


@pytest.fixture(autouse=True)
def _restore_registry():
    with registry.scoped():
        yield


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


def test_cli_imports_a_module_that_registers_names(own_module, tmp_path, capsys):
    folder = tmp_path / "registering"
    folder.mkdir()
    (folder / "own_registering_flows.py").write_text(
        f"import flowkit\nfrom {own_module} import TinyField\nflowkit.register('model', 'tiny-field-cli', TinyField)\n"
    )
    config = tmp_path / "config.toml"
    config.write_text(
        'model = { name = "tiny-field-cli" }\nsolver = { name = "euler", steps = 2 }\n'
        'data = { name = "moons", n_train = 256, n_test = 64 }\ndevice = "cpu"\n'
        "[train]\nsteps = 3\nbatch_size = 32\nwarmup_steps = 1\n"
    )
    sys.path.insert(0, str(folder))
    try:
        argv = [
            "--import",
            "own_registering_flows",
            "train",
            str(config),
            "--out",
            str(tmp_path / "run"),
            "--no-progress",
        ]
        assert main(argv) == 0
    finally:
        sys.path.remove(str(folder))
        sys.modules.pop("own_registering_flows", None)
    assert (tmp_path / "run" / "checkpoint" / "manifest.json").is_file()
    assert main(["--import", "no_such_module_xyz", "plugins"]) == 2
    assert "--import no_such_module_xyz: ModuleNotFoundError" in capsys.readouterr().err


def test_bench_suite_names_a_reference_and_an_in_process_name(own_module, tmp_path):
    flowkit.register("path", "half-ot-test", lambda: flowkit.ConditionalOTPath(sigma_min=0.5))
    suite = load_suite(
        {
            "name": "own",
            "axes": {
                "path": [f"{own_module}:straight_path", "half-ot-test"],
                "model": [f"{own_module}:TinyField"],
                "data": [{"name": "moons", "n_train": 256, "n_test": 64}],
                "solver": [{"name": "euler", "steps": 2}],
            },
            "train": {"steps": 3, "batch_size": 32, "warmup_steps": 1},
            "eval": {"num_samples": 32, "likelihood_points": 8, "likelihood_solver": {"name": "euler", "steps": 2}},
        }
    )
    report = run_suite(suite, tmp_path / "bench", plots=False, log=lambda line: None)
    assert (report.cells, report.ran, report.errors) == (2, 2, 0)


def _suite(path_names):
    return load_suite(
        {
            "name": "own-workers",
            "axes": {
                "path": path_names,
                "model": ["mlp"],
                "data": [{"name": "moons", "n_train": 256, "n_test": 64}],
                "solver": [{"name": "euler", "steps": 2}],
            },
            "train": {"steps": 3, "batch_size": 32, "warmup_steps": 1},
            "eval": {"num_samples": 32, "likelihood_points": 8, "likelihood_solver": {"name": "euler", "steps": 2}},
        }
    )


@pytest.mark.slow
def test_in_process_names_reach_worker_processes(own_module, tmp_path):
    own = __import__(own_module)
    flowkit.register("path", "straight-test", own.straight_path, description="registered in the test")
    report = run_suite(
        _suite(["straight-test", "ot"]), tmp_path / "bench", workers=2, plots=False, log=lambda line: None
    )
    assert (report.cells, report.ran, report.errors) == (2, 2, 0)


def test_a_lambda_registration_cannot_reach_workers_and_says_why(tmp_path):
    flowkit.register("path", "lambda-test", lambda: flowkit.ConditionalOTPath())
    with pytest.raises(
        ConfigError, match=r"path 'lambda-test' was registered in process .* cannot be sent to worker processes"
    ):
        run_suite(_suite(["lambda-test"]), tmp_path / "bench", workers=2, plots=False, log=lambda line: None)


# -- objects -------------------------------------------------------------------------------------
LOAD_AND_FLOW = """
import sys
import numpy as np
import torch
from flowkit import Pipeline

pipeline = Pipeline.load(sys.argv[1])
x0 = torch.from_numpy(np.load(sys.argv[2]))
np.save(sys.argv[3], pipeline.flow(x0).x.numpy())
print(type(pipeline.model).__module__, pipeline.config.model.to_data(), pipeline.config.path.to_data())
"""


def test_pipeline_from_objects_saves_and_loads_in_a_new_process(own_module, small_config, tmp_path):
    own = __import__(own_module)
    small_config.pop("model")
    pipeline = Pipeline(
        small_config,
        model=own.TinyField(dim=2),
        path=flowkit.ConditionalOTPath(sigma_min=0.01),
        solver=registry.create("solver", "rk4", steps=4),
    )
    assert pipeline.config.model.to_data() == {"name": f"{own_module}:TinyField", "dim": 2}
    assert pipeline.config.path.to_data() == {"name": "ot", "sigma_min": 0.01}
    assert pipeline.config.solver.to_data() == {"name": "rk4", "steps": 4}
    pipeline.fit(steps=5)
    saved = pipeline.save(tmp_path / "checkpoint")
    x0 = pipeline.prior_sample(16, generator=torch.Generator().manual_seed(1))
    np.save(tmp_path / "x0.npy", x0.numpy())
    script = tmp_path / "load_and_flow.py"
    script.write_text(LOAD_AND_FLOW)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path / "own"), *sys.path])}
    result = subprocess.run(
        [sys.executable, str(script), str(saved), str(tmp_path / "x0.npy"), str(tmp_path / "x1.npy")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[0] == own_module
    expected = pipeline.flow(x0).x
    torch.testing.assert_close(torch.from_numpy(np.load(tmp_path / "x1.npy")), expected, rtol=0, atol=0)
    # a solver object for one call
    assert pipeline.flow(x0, solver=registry.create("solver", "euler", steps=3)).nfe == 3


def test_an_object_that_cannot_be_described_warns_and_is_given_again_on_load(small_config, tmp_path):
    class LocalField(flowkit.VectorFieldModel):
        def __init__(self, dim: int):
            super().__init__()
            self.linear = torch.nn.Linear(dim + 1, dim)

        def forward(self, t, x, y=None):
            return self.linear(torch.cat([x, t[:, None]], dim=1))

    with pytest.warns(NotRebuildableWarning, match="model: its class .*LocalField cannot be imported by that name"):
        pipeline = Pipeline(small_config, model=LocalField(2))
    saved = pipeline.save(tmp_path / "checkpoint")
    with pytest.raises(UnknownComponentError) as info:
        Pipeline.load(saved)
    assert "could not be rebuilt from the configuration" in str(info.value)
    assert "Pipeline.load(directory, model=...)" in str(info.value)
    with pytest.warns(NotRebuildableWarning):
        loaded = Pipeline.load(saved, model=LocalField(2))
    torch.testing.assert_close(loaded.model.state_dict(), pipeline.model.state_dict())


def test_an_objective_object_brings_its_path_and_mismatches_are_named(small_config):
    vp = registry.create("path", "vp")
    objective = registry.create("objective", "cfm", path=vp)
    pipeline = Pipeline(small_config, objective=objective)
    assert pipeline.path is vp and pipeline.config.path.name == "vp" and pipeline.config.objective.name == "cfm"
    with pytest.raises(ConfigError, match="built on a different path than path="):
        Pipeline(small_config, objective=objective, path=registry.create("path", "ot"))
    with pytest.raises(ConfigError, match="model= must be a flowkit.VectorFieldModel, got Linear"):
        Pipeline(small_config, model=torch.nn.Linear(2, 2))


def test_from_components_uses_the_defaults_for_the_rest():
    data = torch.randn(64, 2)
    pipeline = Pipeline.from_components(
        data=data, solver=registry.create("solver", "euler", steps=2), config={"device": "cpu"}
    )
    assert pipeline.config.solver.to_data() == {"name": "euler", "steps": 2}
    assert pipeline.config.path.name == "ot" and pipeline.sample(3).shape == (3, 2)
