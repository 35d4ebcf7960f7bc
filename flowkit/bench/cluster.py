"""Running a suite's cells on a Dask distributed cluster (``flowkit bench --cluster ADDRESS``).

When a suite outgrows one machine, :func:`run_on_cluster` sends each pending cell to the
workers of a running `Dask distributed <https://distributed.dask.org>`_ scheduler (one task per
cell) and hands every finished record back to the runner, which appends it to
``results.jsonl`` in the submitting process exactly as for local workers
(:mod:`flowkit.bench.runner`): the same resume semantics (a record is written only when its cell
is complete; a rerun runs only the cells without a record), the same records, the same numbers
(a cell's randomness comes from its own seed). Workers need flowkit and the data files, not a
shared file system: a worker runs its cell in a scratch folder and returns the record together
with the bytes of the cell's sample file, which the submitting process writes into ``out``.

One cell per GPU: start one single-threaded worker per GPU, each seeing its own device
(``dask worker ADDRESS --nthreads 1`` with ``CUDA_VISIBLE_DEVICES`` set per worker, or
``dask cuda worker ADDRESS``, which does exactly that); a worker then runs one cell at a time on
its GPU. The first cell of each worker process is preceded by a short warm-up
(:func:`flowkit.bench.cell.warm_up`); in-process registrations the cells use travel with
them (:mod:`flowkit.bench.in_process`). Interrupting the run cancels the queued cells; cells
finished before stay saved.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from flowkit.atomic import atomic_write_bytes
from flowkit.bench.cell import run_cell_after_warm_up
from flowkit.bench.grid import Cell
from flowkit.bench.in_process import Registration, install, registrations_for
from flowkit.exceptions import ConfigError

__all__ = ["run_on_cluster"]


def run_cell_remotely(
    cell_data: dict[str, Any], threads: int, registrations: list[Registration]
) -> tuple[dict[str, Any], bytes | None]:
    """On a worker: register the forwarded in-process components, run one cell in a scratch
    folder; return its record and its sample file's bytes."""
    torch.set_num_threads(threads)
    install(registrations)
    with tempfile.TemporaryDirectory(prefix="flowkit-cell-") as scratch:
        record = run_cell_after_warm_up(Cell.from_dict(cell_data), scratch)
        samples = (Path(scratch) / record["samples_file"]).read_bytes() if record["samples_file"] else None
    return record, samples


def _client(cluster: Any) -> tuple[Any, bool]:
    """A ``distributed.Client`` for ``cluster`` (an address or a client) and whether we own it."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(
            "running cells on a cluster needs Dask distributed: pip install 'flowkit[cluster]' (or distributed)"
        ) from None
    if isinstance(cluster, Client):
        return cluster, False
    if not isinstance(cluster, str) or not cluster:
        raise ConfigError(f"cluster must be a Dask scheduler address such as tcp://host:8786, got {cluster!r}")
    try:
        return Client(cluster), True  # waits up to dask's distributed.comm.timeouts.connect (30 s)
    except (OSError, TimeoutError) as exc:
        raise ConfigError(f"cannot reach the Dask scheduler at {cluster}: {exc}") from None


def run_on_cluster(
    pending: list[Cell],
    out: Path,
    cluster: Any,
    finish: Callable[[Cell, dict[str, Any]], None],
    *,
    threads: int = 1,
    say: Callable[[str], None] = print,
) -> None:
    """Run ``pending`` on the Dask cluster ``cluster`` (address or ``distributed.Client``).

    Each finished cell's sample file is written into ``out`` and its record passed to
    ``finish`` (which appends it to ``results.jsonl``) in completion order.
    """
    from distributed import as_completed

    registrations = registrations_for(pending, "the Dask workers")
    client, owned = _client(cluster)
    workers = len(client.scheduler_info().get("workers", {}))
    say(f"cluster {client.scheduler.address}: {workers} workers; sending {len(pending)} cells")
    futures = {
        client.submit(
            run_cell_remotely, cell.to_dict(), threads, registrations, key=f"flowkit-cell-{cell.id}", pure=False
        ): cell
        for cell in pending
    }
    try:
        for future in as_completed(futures):
            record, samples = future.result()
            if samples is not None:
                atomic_write_bytes(out / record["samples_file"], samples)
            finish(futures[future], record)
    except BaseException:
        client.cancel(list(futures))
        raise
    finally:
        if owned:
            client.close()
