"""Running suites: records, resume after an interruption or a kill, failures, workers, summary consistency."""

from __future__ import annotations

import csv
import os
import random
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

import pytest
import tomli_w

from flowkit.bench import ResultStore, load_suite, run_suite
from flowkit.bench import cell as cell_module
from flowkit.bench import runner as runner_module
from flowkit.exceptions import ConfigError, OutputError

RECORD_KEYS = {
    "cell_id",
    "combination",
    "config",
    "seed",
    "status",
    "train",
    "evaluations",
    "likelihood",
    "peak_memory_bytes",
    "memory_measure",
    "environment",
    "seconds",
    "started",
}


def _quiet(_line: str) -> None:
    pass


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory, make_suite):
    """The tiny suite (ot and vp, seeds 0 and 1, a baseline) run once on one worker."""
    out = tmp_path_factory.mktemp("tiny")
    suite = load_suite(make_suite())
    report = run_suite(suite, out, threads=1, log=_quiet)
    return suite, out, report


def _metrics(records):
    """The numbers that must not depend on how cells were scheduled (no timings)."""
    return {
        r["cell_id"]: (
            r["status"],
            r["train"]["final_loss"],
            [
                (e["label"], e["nfe"], {k: v for k, v in e["metrics"].items() if k != "sampling_seconds"})
                for e in r["evaluations"]
            ],
            None if r["likelihood"] is None else (r["likelihood"]["nll_nats"], r["likelihood"]["nfe"]),
        )
        for r in records
    }


def test_run_writes_one_complete_record_per_cell_and_outputs(tiny_run):
    suite, out, report = tiny_run
    assert report.cells == report.ran == 6 and report.ok
    records = ResultStore(out / "results.jsonl").load()
    assert sorted(r["cell_id"] for r in records) == sorted(c.id for c in suite.cells())
    for record in records:
        assert RECORD_KEYS <= record.keys() and record["status"] == "ok"
        assert (
            record["environment"]["torch"]
            and record["environment"]["flowkit"]
            and record["environment"]["device"] == "cpu"
        )
        assert record["peak_memory_bytes"] > 0 and record["train"]["seconds"] > 0
        assert [e["nfe"] for e in record["evaluations"]] == [2, 4]
        assert record["likelihood"]["bits_per_dim"] > 0
    for name in ("summary.md", "summary.csv", "suite.toml", "plots/samples.png", "plots/nfe_vs_quality.png"):
        assert (out / name).stat().st_size > 0
    assert len(list((out / "plots" / "cells").glob("*.png"))) == 6
    assert not (out / ".lock").exists()  # the lock goes with the run


def test_rerun_skips_finished_cells(tiny_run):
    suite, out, _ = tiny_run
    before = (out / "results.jsonl").read_bytes()
    report = run_suite(suite, out, log=_quiet, plots=False)
    assert report.ran == 0 and report.skipped == 6
    assert (out / "results.jsonl").read_bytes() == before


def test_summary_matches_results(tiny_run):
    suite, out, _ = tiny_run
    records = ResultStore(out / "results.jsonl").load()
    rows = {(r["label"], r["solver"]): r for r in csv.DictReader((out / "summary.csv").open())}
    markdown = (out / "summary.md").read_text()
    section = markdown.split("### energy distance")[1].split("###")[0]
    for label in {r["label"] for r in records}:
        for solver in ("euler(steps=2)", "euler(steps=4)"):
            values = [
                e["metrics"]["energy_distance"]
                for r in records
                if r["label"] == label
                for e in r["evaluations"]
                if e["label"] == solver
            ]
            mean, std = statistics.fmean(values), statistics.stdev(values)
            row = rows[(label, solver)]
            assert float(row["energy_distance_mean"]) == pytest.approx(mean, rel=1e-12)
            assert float(row["energy_distance_std"]) == pytest.approx(std, rel=1e-12)
            assert f"{mean:.4g} ± {std:.4g}" in next(
                line for line in section.splitlines() if line.startswith(f"| {label} |")
            )
        bpd = statistics.fmean(r["likelihood"]["bits_per_dim"] for r in records if r["label"] == label)
        assert float(rows[(label, "euler(steps=2)")]["bits_per_dim_mean"]) == pytest.approx(bpd, rel=1e-12)
    assert "## Relative to the hand-written baseline" in markdown


def test_workers_do_not_change_the_results(tiny_run, make_suite, tmp_path):
    _, out, _ = tiny_run
    suite = load_suite(make_suite(baseline=False))  # the same four flowkit cells as the serial run
    report = run_suite(suite, tmp_path, workers=2, threads=1, log=_quiet, summarize=False)
    assert report.ran == 4 and report.ok
    parallel = _metrics(ResultStore(tmp_path / "results.jsonl").load())
    serial = _metrics(ResultStore(out / "results.jsonl").load())
    assert parallel == {cell_id: serial[cell_id] for cell_id in parallel}  # exactly: same seeds, same threads


def test_failing_cells_are_recorded_and_the_suite_goes_on(make_suite, tmp_path):
    data = make_suite(baseline=False)
    data["axes"]["data"] = [
        {"name": "moons", "n_train": 512, "n_test": 256},
        {"name": "moons", "n_train": 512, "n_test": 256, "scale": 1e20},  # the loss overflows: non-finite
        {"name": "moons", "n_train": 32, "n_test": 256},  # fewer points than a batch: an exception
    ]
    data["axes"]["path"] = ["ot"]
    data["axes"]["seed"] = [0]
    data["axes"]["solver"] = ["euler", {"name": "dopri5", "atol": 1e-9, "rtol": 1e-9, "max_steps": 2}]
    suite = load_suite(data)
    report = run_suite(suite, tmp_path, log=_quiet, plots=False)
    assert (report.ran, report.errors, report.partial) == (3, 2, 1)
    records = {r["axes"]["data"]: r for r in ResultStore(tmp_path / "results.jsonl").load()}
    good, diverged, tiny_data = records.values()
    assert good["status"] == "partial"
    assert "error" not in good["evaluations"][0] and good["evaluations"][0]["metrics"]["energy_distance"] is not None
    assert (
        good["evaluations"][1]["error"]["type"] == "SolverError"
        and "max_steps=2" in good["evaluations"][1]["error"]["message"]
    )
    assert diverged["status"] == "error" and diverged["error"]["type"] == "NonFiniteError"
    assert tiny_data["status"] == "error" and tiny_data["error"]["type"] == "ConfigError"
    summary = (tmp_path / "summary.md").read_text()
    assert "## Failures" in summary and "SolverError" in summary and "NonFiniteError" in summary
    # a rerun keeps failed cells as results; --retry-failed runs them again without duplicating records
    assert run_suite(suite, tmp_path, log=_quiet, summarize=False).ran == 0
    again = run_suite(suite, tmp_path, log=_quiet, summarize=False, retry_failed=True)
    assert again.ran == 3
    assert len(ResultStore(tmp_path / "results.jsonl").load()) == 3


def test_interrupted_run_resumes_without_losing_or_repeating_cells(make_suite, tmp_path, monkeypatch):
    data = make_suite(baseline=False)
    data["axes"]["seed"] = [0, 1, 2]
    data["axes"]["path"] = ["ot"]
    suite = load_suite(data)
    calls = []
    real = cell_module.run_cell

    def interrupted_after_one(cell, out):
        if calls:
            raise KeyboardInterrupt  # Ctrl-C while the second cell runs
        calls.append(cell.id)
        return real(cell, out)

    monkeypatch.setattr(cell_module, "run_cell", interrupted_after_one)
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, tmp_path, log=_quiet)
    monkeypatch.setattr(cell_module, "run_cell", real)
    first = ResultStore(tmp_path / "results.jsonl").load()
    assert [r["cell_id"] for r in first] == calls
    report = run_suite(suite, tmp_path, log=_quiet, summarize=False)
    assert (report.skipped, report.ran) == (1, 2)
    records = ResultStore(tmp_path / "results.jsonl").load()
    assert sorted(r["cell_id"] for r in records) == sorted(c.id for c in suite.cells())
    assert records[:1] == first


def test_killed_run_resumes(make_suite, tmp_path):
    """A real ``flowkit bench`` process is killed (SIGKILL) after its first record, a torn line is
    left behind as a crash in mid-write would, and a rerun completes the suite."""
    data = make_suite(baseline=False)
    data["axes"]["seed"] = [0, 1, 2]
    data["axes"]["path"] = ["ot"]
    data["train"]["steps"] = 150  # long enough that the kill lands before the last cell
    suite_file = tmp_path / "suite.toml"
    suite_file.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    results = out / "results.jsonl"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    process = subprocess.Popen(
        [sys.executable, "-m", "flowkit", "bench", str(suite_file), "--out", str(out), "--threads", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    try:
        deadline = time.monotonic() + 240
        while not (results.exists() and results.read_bytes().count(b"\n") >= 1):
            assert process.poll() is None, "the benchmark ended before it could be killed"
            assert time.monotonic() < deadline, "no record was written in time"
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    done = ResultStore(results).load()
    assert 1 <= len(done) < 3
    with open(results, "ab") as handle:
        handle.write(b'{"cell_id": "torn", "sta')
    suite = load_suite(data)
    report = run_suite(suite, out, threads=1, log=_quiet, plots=False)
    assert report.skipped == len(done) and report.ran == 3 - len(done)
    records = ResultStore(results).load()
    assert sorted(r["cell_id"] for r in records) == sorted(c.id for c in suite.cells())
    assert records[: len(done)] == done
    assert b"torn" not in results.read_bytes()


def _kill_bench_repeatedly(make_suite, tmp_path, *, kills: int, seed: int) -> None:
    """``flowkit bench`` killed (SIGKILL) ``kills`` times at seeded random moments, each a random
    time after the process wrote a new record, and rerun to the end: every cell once. A run that
    ends before its next kill is checked and the kills go on in a new directory."""
    data = make_suite(baseline=False)
    data["axes"]["seed"] = list(range(kills + 2))
    data["axes"]["path"] = ["ot"]
    data["train"]["steps"] = 60
    suite_file = tmp_path / "suite.toml"
    suite_file.write_text(tomli_w.dumps(data))
    suite = load_suite(data)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2]), "OMP_NUM_THREADS": "1"}
    rng = random.Random(seed)
    killed = checked = runs = 0
    while killed < kills:
        out = tmp_path / f"out{runs}"
        results = out / "results.jsonl"
        runs += 1
        while killed < kills:
            before = len(ResultStore(results).load())
            process = subprocess.Popen(
                [sys.executable, "-m", "flowkit", "bench", str(suite_file), "--out", str(out), "--no-plots"],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                env=env,
            )
            try:
                deadline = time.monotonic() + 240
                while process.poll() is None and not (results.exists() and results.read_bytes().count(b"\n") > before):
                    assert time.monotonic() < deadline, "no record was written in time"
                    time.sleep(0.01)
                time.sleep(rng.uniform(0.0, 0.3))
                process.send_signal(signal.SIGKILL)
                process.wait(timeout=30)
            finally:
                if process.poll() is None:
                    process.kill()
            if process.returncode == 0:  # the suite was complete before its kill
                break
            killed += 1
            ids = [r["cell_id"] for r in ResultStore(results).load()]
            assert len(ids) == len(set(ids)) > before
        report = run_suite(suite, out, threads=1, log=_quiet, summarize=False)
        records = ResultStore(results).load()
        assert report.ran == len(suite.cells()) - report.skipped
        assert sorted(r["cell_id"] for r in records) == sorted(c.id for c in suite.cells())
        assert not (out / ".lock").exists()
        checked += len(records)
    print(
        f"\nfault matrix, flowkit bench: {killed} SIGKILLs survived in {runs} run(s); {checked} cell records checked, each once"
    )


def test_bench_killed_at_random_moments_reruns_to_every_cell_once(make_suite, tmp_path):
    _kill_bench_repeatedly(make_suite, tmp_path, kills=3, seed=13)


@pytest.mark.slow
def test_bench_killed_many_times_reruns_to_every_cell_once(make_suite, tmp_path):
    _kill_bench_repeatedly(make_suite, tmp_path, kills=6, seed=1013)


def test_the_lock_file_is_removed_and_a_stale_one_is_taken_over(make_suite, tmp_path):
    suite = load_suite(make_suite(baseline=False))
    (tmp_path / ".lock").write_text("")  # left by a killed run: no process holds its lock
    run_suite(suite, tmp_path, log=_quiet, summarize=False)
    assert not (tmp_path / ".lock").exists()


def test_an_output_directory_that_cannot_be_made_is_a_clear_error(make_suite, tmp_path):
    (tmp_path / "file").write_text("")
    with pytest.raises(OutputError, match=f"cannot create the output directory {tmp_path / 'file' / 'out'}: "):
        run_suite(load_suite(make_suite(baseline=False)), tmp_path / "file" / "out", log=_quiet)


def test_a_second_run_on_the_same_directory_is_refused(make_suite, tmp_path):
    suite = load_suite(make_suite(baseline=False))
    with runner_module._lock(tmp_path):
        with pytest.raises(ConfigError, match="another `flowkit bench` is writing"):
            run_suite(suite, tmp_path, log=_quiet)
