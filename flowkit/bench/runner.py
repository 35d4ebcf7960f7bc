"""Running a suite into an output directory, resumably, on one or more worker processes.

``run_suite(suite, out)`` writes::

    out/suite.toml          the suite as run (every default filled in)
    out/results.jsonl       one record per cell (flowkit.bench.results; flowkit.bench.cell)
    out/samples/<id>.npz    samples kept for the plots
    out/summary.md, out/summary.csv, out/plots/*.png     (flowkit.bench.summary, flowkit.bench.plots)

**Resume.** A cell whose id (a hash of its config, :attr:`flowkit.bench.grid.Cell.id`) already
has a record is skipped, so a rerun — after a finished run, a crash or a kill — runs only the
missing cells; a record is appended only when its cell is complete, so none is lost or
duplicated. Failed cells count as finished (their error is the result) unless
``retry_failed``, which first removes their records (atomically) and runs them again. Records
of cells that are not in the current suite stay in the file and are left out of the summary.

**Workers.** With ``workers > 1`` the cells run in that many spawned processes, each with
``threads`` torch threads (default 1: scale out with workers; small benchmark models gain
little from intra-op threads, and on a busy machine extra threads can slow them down many
times); only the parent writes to ``results.jsonl``. A cell's randomness comes from its own
seed, so the results do not depend on the number of workers or the order of completion (with
the same ``threads``, bit for bit; different thread counts may change floating-point summation
order). Components registered in process (``flowkit.register``) that the cells use are
registered again in each worker (:mod:`flowkit.bench.in_process`). Workers stop
by themselves when the runner process dies. Each process first trains its first cell's
pipeline for a few steps and discards it (:func:`flowkit.bench.cell.warm_up`), so one-time
costs do not count against the first timed cell.

A lock file (``out/.lock``) keeps two runs from writing the same directory at once; it is
removed when the run ends (a killed run leaves it, without its lock, and the next run clears it).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import attrs
import tomli_w
import torch

from flowkit.atomic import atomic_write_text
from flowkit.bench.cell import run_cell_after_warm_up
from flowkit.bench.grid import Cell
from flowkit.bench.in_process import Registration, install, registrations_for
from flowkit.bench.results import ResultStore
from flowkit.bench.suite import Suite
from flowkit.exceptions import ConfigError, OutputError
from flowkit.validation import require_int

__all__ = ["RESULTS_FILE", "RunReport", "current_records", "run_suite"]

RESULTS_FILE = "results.jsonl"
SUITE_FILE = "suite.toml"
LOCK_FILE = ".lock"


@attrs.frozen
class RunReport:
    """What a run did: cells in the suite, skipped (already done), run now, and their outcomes."""

    out: Path
    cells: int
    skipped: int
    ran: int
    errors: int
    partial: int
    seconds: float

    @property
    def ok(self) -> bool:
        """Whether every cell of the suite has a record without any error."""
        return self.errors == 0 and self.partial == 0


@contextlib.contextmanager
def _lock(out: Path) -> Iterator[None]:
    """Hold ``out/.lock`` (an advisory ``flock``) while running; the file is removed on the way out.

    The lock is taken on an open file, then the path is checked to still name that file: a run
    that removed the lock file between our ``open`` and ``flock`` left us a lock on an orphan,
    so we try again. After a kill the file stays behind, but its lock died with the process, so
    the next run takes it (and removes it at its end).
    """
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks; concurrent runs are the user's business
        yield
        return
    path = out / LOCK_FILE
    while True:
        handle = open(path, "a")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise ConfigError(
                f"another `flowkit bench` is writing {out} (it holds {path}); wait for it or use another --out"
            ) from None
        try:
            same = os.fstat(handle.fileno()).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.unlink(path)
        handle.close()  # releases the lock, after the file is gone


def current_records(cells: list[Cell], records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The latest record of each cell of ``cells`` (by id); records of other cells are ignored."""
    wanted = {cell.id for cell in cells}
    latest: dict[str, dict[str, Any]] = {}
    for record in records:
        if record["cell_id"] in wanted:
            latest[record["cell_id"]] = record
    return latest


def _exit_when_orphaned(parent: int) -> None:
    while True:
        time.sleep(1.0)
        if os.getppid() != parent:  # the runner died (killed): stop instead of computing for nobody
            os._exit(1)


def _worker_init(threads: int, parent: int, registrations: list[Registration]) -> None:
    torch.set_num_threads(threads)
    install(registrations)
    threading.Thread(target=_exit_when_orphaned, args=(parent,), daemon=True).start()


def _worker_run(cell_data: dict[str, Any], out: str) -> dict[str, Any]:
    return run_cell_after_warm_up(Cell.from_dict(cell_data), out)


def _where(workers: int, threads: int, cluster: Any) -> str:
    if cluster is not None:
        return "the Dask cluster" + (f" {cluster}" if isinstance(cluster, str) else "")
    return f"{workers} workers x {threads} threads"


def _stop(pool: ProcessPoolExecutor) -> None:
    """Cancel queued cells and terminate the workers' running ones (their results are lost)."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # private; else workers stop when orphaned
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.terminate()


def _describe(record: dict[str, Any]) -> str:
    if record["status"] == "error":
        return f"ERROR ({record['error']['type']}: {record['error']['message'].splitlines()[0][:160]})"
    parts = []
    for entry in record["evaluations"]:
        if "error" in entry:
            parts.append(f"{entry['label']}: {entry['error']['type']}")
        else:
            quality = next(
                (f"{k}={v:.4g}" for k, v in entry["metrics"].items() if k not in ("nfe", "sampling_seconds")), ""
            )
            parts.append(f"{entry['label']}: nfe={entry['nfe']} {quality}".rstrip())
    status = "" if record["status"] == "ok" else "PARTIAL "
    return f"{status}train {record['train']['seconds']:.1f}s; " + "; ".join(parts)


def run_suite(
    suite: Suite,
    out: str | os.PathLike[str],
    *,
    workers: int = 1,
    threads: int = 1,
    device: str | None = None,
    retry_failed: bool = False,
    summarize: bool = True,
    plots: bool = True,
    command: str | None = None,
    log: Callable[[str], None] | None = None,
    cluster: Any = None,
) -> RunReport:
    """Run every missing cell of ``suite`` into ``out``, then write the summary and plots.

    ``device`` overrides the suite's; ``command`` is quoted in ``summary.md``; ``log`` receives
    one line per event (default: standard error); ``cluster`` (a Dask scheduler address or
    client) runs the cells there instead of in local workers (:mod:`flowkit.bench.cluster`).
    Returns a :class:`RunReport`.
    """
    require_int("workers", workers, minimum=1, error=ConfigError)
    require_int("threads", threads, minimum=1, error=ConfigError)
    say = log or (lambda line: print(line, file=sys.stderr, flush=True))
    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the output directory {out}: {exc.strerror or exc}") from exc
    start = time.perf_counter()
    with _lock(out):
        atomic_write_text(out / SUITE_FILE, tomli_w.dumps(suite.to_dict()))
        cells = suite.cells(device=device)
        store = ResultStore(out / RESULTS_FILE)
        records = store.load()
        if retry_failed:
            failed = {cell_id for cell_id, r in current_records(cells, records).items() if r["status"] != "ok"}
            if failed:
                records = [r for r in records if r["cell_id"] not in failed]
                store.rewrite(records)
        done = current_records(cells, records)
        foreign = len({r["cell_id"] for r in records} - {c.id for c in cells})
        pending = [cell for cell in cells if cell.id not in done]
        say(
            f"suite {suite.name!r}: {len(cells)} cells, {len(done)} already done, {len(pending)} to run"
            + (f" ({foreign} records of other cells in {RESULTS_FILE} are ignored)" if foreign else "")
            + (f" on {_where(workers, threads, cluster)}" if pending else "")
        )
        finished = 0

        def finish(cell: Cell, record: dict[str, Any]) -> None:
            nonlocal finished
            store.append(record)
            done[cell.id] = record
            finished += 1
            say(f"[{len(done)}/{len(cells)}] {cell.label}, seed {cell.seed}: {_describe(record)}")

        if cluster is not None and pending:
            from flowkit.bench.cluster import run_on_cluster

            run_on_cluster(pending, out, cluster, finish, threads=threads, say=say)
        elif workers == 1:
            previous = torch.get_num_threads()
            torch.set_num_threads(threads)
            try:
                for cell in pending:
                    finish(cell, run_cell_after_warm_up(cell, out))
            finally:
                torch.set_num_threads(previous)
        elif pending:
            registrations = registrations_for(pending, "worker processes")
            context = multiprocessing.get_context("spawn")
            pool = ProcessPoolExecutor(
                workers, mp_context=context, initializer=_worker_init, initargs=(threads, os.getpid(), registrations)
            )
            try:
                futures = {pool.submit(_worker_run, cell.to_dict(), str(out)): cell for cell in pending}
                remaining = set(futures)
                while remaining:
                    completed, remaining = wait(remaining, return_when=FIRST_COMPLETED)
                    for future in completed:
                        finish(futures[future], future.result())
            except BaseException:
                say(f"stopping: {finished} cells finished in this run are saved; rerun to resume the rest")
                _stop(pool)
                raise
            pool.shutdown(wait=True)
        records_now = [done[c.id] for c in cells if c.id in done]
        if summarize:
            from flowkit.bench.summary import write_summary

            write_summary(suite, cells, records_now, out, command=command)
            if plots:
                from flowkit.bench.plots import write_plots

                write_plots(cells, records_now, out)
    errors = sum(r["status"] == "error" for r in records_now)
    partial = sum(r["status"] == "partial" for r in records_now)
    return RunReport(out, len(cells), len(cells) - len(pending), finished, errors, partial, time.perf_counter() - start)
