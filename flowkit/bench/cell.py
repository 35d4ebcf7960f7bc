"""Running one benchmark cell: train once, evaluate with every solver setting, return a record.

For a :class:`~flowkit.bench.grid.Cell` the steps are

1. build the :class:`flowkit.Pipeline` from the cell's config and train it — with
   :meth:`Pipeline.fit` (method ``flowkit``) or with the plain PyTorch loop of
   :mod:`flowkit.bench.baseline` on the same initial weights (method ``baseline``);
2. for each solver setting: :meth:`Pipeline.evaluate` with that solver (``num_samples``
   generated points against as many held-out ones; the metrics, NFE and sampling time), and
   ``plot_samples`` points drawn with the same solver for the plots;
3. if configured, the held-out NLL in nats and bits/dim (the registered ``nll`` metric over
   :meth:`Pipeline.log_prob` with the likelihood solver).

Everything random is seeded from the cell's seed alone (the pipeline's streams, the plot
samples, the Hutchinson probes, and torch's global generator for anything else), never from the
process or the order in which cells run, so results do not depend on the number of workers.

A failure never escapes: an exception while building or training makes the record's ``status``
``"error"`` (with stage, type, message and traceback); one in an evaluation marks that
evaluation and makes the status ``"partial"``; the remaining evaluations still run. The record
(see :func:`run_cell`) holds the config, metrics, timings, NFE, peak memory, versions, device and
seed. Samples kept for the plots go to ``<out>/samples/<cell_id>.npz``.
"""

from __future__ import annotations

import datetime
import io
import platform
import time
import traceback
from pathlib import Path
from typing import Any

import numpy as np
import torch

from flowkit import __version__, registry
from flowkit.atomic import atomic_write_bytes
from flowkit.bench.baseline import train_cfm_by_hand
from flowkit.bench.grid import Cell, component_label
from flowkit.bench.memory import PeakMemory
from flowkit.core import EvaluationContext
from flowkit.device import resolve_device, synchronize
from flowkit.pipeline import Pipeline
from flowkit.pipeline.provenance import configured_components, provenance_entries

__all__ = ["SAMPLES_DIR", "environment", "run_cell", "run_cell_after_warm_up", "warm_up"]

SAMPLES_DIR = "samples"


def environment(device: torch.device) -> dict[str, Any]:
    """Versions and hardware of this process: flowkit, torch, Python, platform, device, threads."""
    if device.type == "cuda":
        device_name = torch.cuda.get_device_name(device)
    else:
        device_name = platform.processor() or platform.machine()
    return {
        "flowkit": __version__,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "device": str(device),
        "device_name": device_name,
        "threads": torch.get_num_threads(),
    }


def _error(stage: str, exc: BaseException) -> dict[str, str]:
    return {
        "stage": stage,
        "type": type(exc).__name__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, exc.__traceback__, limit=-8)),
    }


def _train(cell: Cell, pipeline: Pipeline) -> dict[str, Any]:
    config = cell.config.train
    synchronize(pipeline.device)
    start = time.perf_counter()
    if cell.method == "baseline":
        split = pipeline.dataset.split("train")
        x, y = split.x, split.y
        dtype = next(pipeline.model.parameters()).dtype
        conditional = getattr(pipeline.model, "num_classes", None) is not None
        history, average = train_cfm_by_hand(
            pipeline.model,
            x.to(device=pipeline.device, dtype=dtype),
            y.to(pipeline.device) if conditional and y is not None else None,
            config=config,
            sigma_min=float(cell.config.path.params["sigma_min"]),
            num_bins=pipeline.num_bins,
            seed=cell.seed,
        )
        if average is not pipeline.model:
            pipeline.ema_model.load_state_dict(average.state_dict())
    else:
        history = pipeline.fit(progress=False)
    synchronize(pipeline.device)
    seconds = time.perf_counter() - start
    return {
        "seconds": seconds,
        "steps": config.steps,
        "steps_per_second": config.steps / max(seconds, 1e-12),
        "final_loss": history[-1]["loss"] if history else None,
    }


def _evaluate(cell: Cell, pipeline: Pipeline, record: dict[str, Any], keep: dict[str, np.ndarray]) -> None:
    for index, solver in enumerate(cell.solvers):
        entry: dict[str, Any] = {
            "solver": solver.to_data(),
            "label": component_label(solver),
            "metrics": {},
            "nfe": None,
        }
        record["evaluations"].append(entry)
        try:
            start = time.perf_counter()
            metrics = pipeline.evaluate(
                num_samples=cell.eval.num_samples, metrics=cell.config.eval.metrics, solver=solver.to_data()
            )
            entry["metrics"] = metrics
            entry["nfe"] = int(metrics["nfe"])
            entry["seconds"] = time.perf_counter() - start
            if cell.eval.plot_samples:
                generator = torch.Generator(device=pipeline.device).manual_seed(cell.seed)
                samples = pipeline.sample(cell.eval.plot_samples, solver=solver.to_data(), generator=generator)
                entry["samples_key"] = f"solver{index}"
                keep[entry["samples_key"]] = samples.detach().cpu().float().numpy()
        except Exception as exc:  # a failing evaluation is recorded; the others still run
            entry["error"] = _error("evaluate", exc)
            record["status"] = "partial"


def _likelihood(cell: Cell, pipeline: Pipeline, record: dict[str, Any]) -> None:
    points = cell.eval.likelihood_points
    if not points:
        return
    solver = cell.eval.likelihood_solver
    entry: dict[str, Any] = {"solver": solver.to_data(), "label": component_label(solver)}
    record["likelihood"] = entry
    try:
        reference = pipeline.dataset.split("test").x[:points].to(pipeline.device)
        generator = torch.Generator(device=pipeline.device).manual_seed(cell.seed)
        calls: list[int] = []

        def log_prob(x: torch.Tensor) -> torch.Tensor:
            result = pipeline.log_prob(x, solver=solver.to_data(), generator=generator)
            calls.append(result.nfe)
            return result.log_prob_nats

        start = time.perf_counter()
        context = EvaluationContext(
            samples=reference, reference=reference, log_prob=log_prob, num_bins=pipeline.num_bins
        )
        entry.update(registry.create("metric", "nll")(context))
        entry.update(points=int(reference.shape[0]), nfe=sum(calls) / len(calls), seconds=time.perf_counter() - start)
    except Exception as exc:
        entry["error"] = _error("likelihood", exc)
        record["status"] = "partial"


def _save_samples(out: Path, cell_id: str, arrays: dict[str, np.ndarray]) -> str:
    buffer = io.BytesIO()
    # numpy's stub lets a ** dict fill its allow_pickle flag; the keys here are "reference" and "solver<i>"
    np.savez_compressed(buffer, **arrays)  # type: ignore[arg-type]
    relative = f"{SAMPLES_DIR}/{cell_id}.npz"
    atomic_write_bytes(out / relative, buffer.getvalue())
    return relative


def warm_up(cell: Cell) -> None:
    """Train ``cell``'s pipeline for a few steps and discard it, so one-time costs (imports,
    registry loading, first kernel calls) do not count against the first timed cell."""
    with torch.random.fork_rng(devices=[]):
        pipeline = Pipeline.from_config(cell.config.with_train(steps=min(3, cell.config.train.steps), warmup_steps=0))
        pipeline.fit(progress=False)
        pipeline.sample(2, solver=cell.solvers[0].to_data() if cell.solvers else None)


def run_cell(cell: Cell, out: str | Path) -> dict[str, Any]:
    """Train and evaluate ``cell``; return its record (never raises for a failing cell).

    Record keys: ``cell_id``, ``combination``, ``suite``, ``label``, ``method``, ``seed``,
    ``axes``, ``config``, ``status`` (``ok`` / ``partial`` / ``error``), ``error``, ``train``
    (``setup_seconds``, ``seconds``, ``steps``, ``steps_per_second``, ``final_loss``),
    ``evaluations`` (per solver: ``solver``, ``label``, ``metrics``, ``nfe``, ``seconds``,
    ``samples_key`` or ``error``), ``likelihood`` (``nll_nats``, ``bits_per_dim``, ``nfe``,
    ``points``, ``seconds`` or ``error``; ``None`` when off), ``samples_file``,
    ``peak_memory_bytes``, ``memory_measure``, ``environment``, ``providers`` (the distribution
    and version providing each component and evaluation solver,
    :mod:`flowkit.pipeline.provenance`; keys ``solvers[i]`` for the solver settings),
    ``started``, ``seconds``.
    """
    out = Path(out)
    start = time.perf_counter()
    record: dict[str, Any] = {
        "cell_id": cell.id,
        "combination": cell.combination,
        "suite": cell.suite,
        "label": cell.label,
        "method": cell.method,
        "seed": cell.seed,
        "axes": dict(cell.axes),
        "config": cell.config.to_dict(),
        "status": "ok",
        "error": None,
        "train": None,
        "evaluations": [],
        "likelihood": None,
        "samples_file": None,
        "providers": None,
        "started": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    device = resolve_device(cell.config.device)
    record["environment"] = environment(device)
    keep: dict[str, np.ndarray] = {}
    with torch.random.fork_rng(devices=[]), PeakMemory(device) as memory:
        torch.manual_seed(cell.seed)
        try:
            record["providers"] = provenance_entries(
                [
                    *configured_components(cell.config),
                    *((f"solvers[{index}]", "solver", solver) for index, solver in enumerate(cell.solvers)),
                ]
            )
            built = time.perf_counter()
            pipeline = Pipeline.from_config(cell.config)
            setup_seconds = time.perf_counter() - built
            record["train"] = {"setup_seconds": setup_seconds, **_train(cell, pipeline)}
        except Exception as exc:  # recorded; the suite goes on
            record["status"], record["error"] = "error", _error("train", exc)
        else:
            _evaluate(cell, pipeline, record, keep)
            _likelihood(cell, pipeline, record)
            if keep:
                keep["reference"] = pipeline.dataset.split("test").x[: cell.eval.plot_samples].cpu().float().numpy()
                record["samples_file"] = _save_samples(out, cell.id, keep)
    record["peak_memory_bytes"], record["memory_measure"] = memory.bytes, memory.measure
    record["seconds"] = time.perf_counter() - start
    return record


_warmed = False


def run_cell_after_warm_up(cell: Cell, out: Path | str) -> dict[str, Any]:
    """Run a cell (:func:`run_cell`), after a warm-up on the first cell of this process (see
    :func:`warm_up`): the entry point of the runner and of its worker processes."""
    global _warmed
    if not _warmed:
        _warmed = True
        try:
            warm_up(cell)
        except Exception:  # the cell itself will run into (and record) the same problem
            pass
    return run_cell(cell, out)
