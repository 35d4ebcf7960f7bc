"""Cells on a local Dask cluster: the same records as local workers, samples gathered, resume."""

from __future__ import annotations

import dask
import pytest

from flowkit.bench import ResultStore, load_suite, run_suite
from flowkit.exceptions import ConfigError

distributed = pytest.importorskip("distributed")


def _numbers(records):
    return {
        r["cell_id"]: (
            r["status"],
            r["train"]["final_loss"],
            [
                (e["label"], e["nfe"], {k: v for k, v in e["metrics"].items() if k != "sampling_seconds"})
                for e in r["evaluations"]
            ],
        )
        for r in records
    }


@pytest.fixture(scope="module")
def client():
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None, worker_dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


@pytest.mark.slow
def test_cells_on_a_local_cluster_match_a_local_run_and_resume(client, tmp_path, make_suite):
    suite = load_suite(make_suite(baseline=False, axes={**make_suite()["axes"], "seed": [0], "path": ["ot", "vp"]}))
    assert len(suite.cells()) == 2
    lines: list[str] = []
    report = run_suite(suite, tmp_path / "cluster", cluster=client, log=lines.append)
    assert report.ran == 2 and report.ok and any("2 workers" in line for line in lines)
    records = ResultStore(tmp_path / "cluster" / "results.jsonl").load()
    for record in records:  # the samples came back from the workers into the run's folder
        assert (tmp_path / "cluster" / record["samples_file"]).is_file()
    local = run_suite(suite, tmp_path / "local", log=lambda line: None)
    assert local.ran == 2
    assert _numbers(records) == _numbers(ResultStore(tmp_path / "local" / "results.jsonl").load())
    # resume: a rerun sends nothing; a lost record is recomputed alone
    assert run_suite(suite, tmp_path / "cluster", cluster=client, log=lambda line: None).ran == 0
    ResultStore(tmp_path / "cluster" / "results.jsonl").rewrite(records[:1])
    again = run_suite(suite, tmp_path / "cluster", cluster=client, log=lambda line: None)
    assert again.ran == 1 and again.skipped == 1
    assert _numbers(ResultStore(tmp_path / "cluster" / "results.jsonl").load()) == _numbers(records)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path, make_suite):
    suite = load_suite(make_suite(baseline=False))
    with (
        dask.config.set({"distributed.comm.timeouts.connect": "1s"}),
        pytest.raises(ConfigError, match="cannot reach the Dask scheduler at tcp://127.0.0.1:9"),
    ):
        run_suite(suite, tmp_path, cluster="tcp://127.0.0.1:9", log=lambda line: None)
