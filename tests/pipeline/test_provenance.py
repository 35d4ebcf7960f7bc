"""Provenance: checkpoints, reports and bench cells name the distribution and version of each component."""

from __future__ import annotations

import json
import shutil

import pytest

import flowkit
from flowkit import Pipeline, registry
from flowkit.bench import load_suite, run_suite
from flowkit.exceptions import ProviderVersionWarning, UnknownComponentError

TRIG_PLUGIN = """
    import flowkit

    @flowkit.hookimpl
    def flowkit_register_paths(register):
        register("trig", flowkit.CosinePath, description="x_t = sin(pi t / 2) x1 + cos(pi t / 2) x0")
"""

CONFIG = {
    "path": "trig",
    "model": {"name": "mlp", "width": 16, "depth": 1},
    "solver": {"name": "euler", "steps": 4},
    "data": {"name": "moons", "n_train": 256, "n_test": 64},
    "device": "cpu",
    "train": {"steps": 3, "batch_size": 32, "log_every": 1, "warmup_steps": 0},
}


def _install_trig(make_distribution, version: str) -> None:
    """Install (or replace) the distribution ``flowkit-trig`` at ``version`` and reload the registry."""
    site = make_distribution("flowkit-trig", "flowkit_trig", TRIG_PLUGIN, version=version)
    for old in site.glob("flowkit_trig-*.dist-info"):
        if old.name != f"flowkit_trig-{version}.dist-info":
            shutil.rmtree(old)
    registry.reload()


def _entry(entries, key):
    return next(e for e in entries if e["key"] == key)


def test_checkpoint_names_the_provider_and_loading_without_it_says_what_to_install(make_distribution, tmp_path):
    with registry.scoped():
        _install_trig(make_distribution, "0.3.0")
        pipeline = Pipeline(CONFIG)
        pipeline.fit(progress=False)
        pipeline.save(tmp_path / "ckpt")
        state = json.loads((tmp_path / "ckpt" / "state.json").read_text())
        trig = _entry(state["providers"], "path")
        assert (trig["name"], trig["distribution"], trig["version"], trig["entry_point"]) == (
            "trig",
            "flowkit-trig",
            "0.3.0",
            "flowkit_trig",
        )
        mlp = _entry(state["providers"], "model")
        assert (mlp["distribution"], mlp["version"]) == ("flowkit", flowkit.__version__)
        assert state["providers"] == pipeline.provenance()
        reloaded = Pipeline.load(tmp_path / "ckpt")  # the plugin is there: loads as saved
        assert reloaded.step == 3
    assert "trig" not in registry.names("path")  # the scope ended: the plugin is "not installed"
    with pytest.raises(UnknownComponentError) as caught:
        Pipeline.load(tmp_path / "ckpt")
    message = str(caught.value)
    assert "flowkit-trig 0.3.0" in message and "pip install 'flowkit-trig==0.3.0'" in message
    assert "path=... to Pipeline.load" in message


def test_another_installed_version_loads_with_a_warning(make_distribution, tmp_path):
    with registry.scoped():
        _install_trig(make_distribution, "0.3.0")
        Pipeline(CONFIG).save(tmp_path / "ckpt")
        _install_trig(make_distribution, "0.4.0")
        assert registry.get("path", "trig").provider.version == "0.4.0"
        with pytest.warns(ProviderVersionWarning, match=r"path 'trig' \(path\): flowkit-trig 0.3.0 -> 0.4.0"):
            Pipeline.load(tmp_path / "ckpt")


def trig_path():
    """The in-process path of the test below."""
    return flowkit.CosinePath()


def test_an_in_process_component_names_its_module(tmp_path):
    with registry.scoped():
        flowkit.register("path", "trig", trig_path)
        pipeline = Pipeline(CONFIG)
        entry = _entry(pipeline.provenance(), "path")
        assert (entry["module"], entry["entry_point"], entry["distribution"]) == (__name__, None, None)
        pipeline.save(tmp_path / "ckpt")
    with pytest.raises(UnknownComponentError, match=f"registered in process by the module '{__name__}'"):
        Pipeline.load(tmp_path / "ckpt")


def test_demo_report_names_the_providers(tmp_path):
    from flowkit.cli import main

    assert main(["demo", "--out", str(tmp_path), "--steps", "2", "--num-samples", "64", "--no-progress"]) == 0
    report = json.loads((tmp_path / "metrics.json").read_text())
    assert {e["key"] for e in report["providers"]} == {"path", "coupling", "objective", "model", "solver", "data"}
    assert all(e["distribution"] == "flowkit" and e["version"] == flowkit.__version__ for e in report["providers"])


SUITE = {
    "name": "trig",
    "axes": {
        "path": ["trig", "ot"],
        "model": [{"name": "mlp", "width": 16, "depth": 1}],
        "data": [{"name": "moons", "n_train": 256, "n_test": 64}],
        "solver": [{"name": "euler", "steps": 2}],
    },
    "train": {"steps": 2, "batch_size": 32, "log_every": 1, "warmup_steps": 0},
    "eval": {"num_samples": 32, "metrics": ["energy-distance"], "likelihood_points": 0, "plot_samples": 0},
}


def test_upgrading_a_plugin_reruns_its_cells_only(make_distribution, tmp_path):
    quiet = lambda line: None  # noqa: E731
    with registry.scoped():
        _install_trig(make_distribution, "0.3.0")
        suite = load_suite(SUITE)
        trig_cell, ot_cell = suite.cells()
        assert trig_cell.providers == {"path trig": "flowkit-trig==0.3.0"}
        assert ot_cell.providers == {} and "providers" not in ot_cell.identity()  # built-in ids unchanged
        first = run_suite(suite, tmp_path, summarize=False, log=quiet)
        assert (first.ran, first.errors) == (2, 0)
        records = [json.loads(line) for line in (tmp_path / "results.jsonl").read_text().splitlines()]
        trig_record = next(r for r in records if r["cell_id"] == trig_cell.id)
        assert _entry(trig_record["providers"], "path")["version"] == "0.3.0"
        assert _entry(trig_record["providers"], "solvers[0]")["distribution"] == "flowkit"
        assert run_suite(suite, tmp_path, summarize=False, log=quiet).ran == 0

        _install_trig(make_distribution, "0.4.0")
        upgraded = load_suite(SUITE)
        assert upgraded.cells()[0].providers == {"path trig": "flowkit-trig==0.4.0"}
        assert upgraded.cells()[0].id != trig_cell.id and upgraded.cells()[1].id == ot_cell.id
        rerun = run_suite(upgraded, tmp_path, summarize=False, log=quiet)
        assert (rerun.skipped, rerun.ran) == (1, 1)
