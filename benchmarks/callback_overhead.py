"""Per-step cost of training callbacks in ``Pipeline.fit``: none, no step hook, a no-op step hook.

Three pipelines with the same configuration train in alternating rounds in one process (after a
warm-up that also covers CUDA graph capture under ``train.compile = "auto"``):

- ``none``: ``fit()`` without callbacks;
- ``log only``: a callback that overrides ``on_log`` only (the loop then calls nothing per step);
- ``step hook``: a callback with a no-op ``on_step_end`` (one Python call per step, step number only).

Reported: the median time per step of each and its ratio to ``none``::

    ratio = median step time with the callback / median step time without callbacks

Targets: ``log only`` 1.00 (no per-step work at all); ``step hook`` within the noise of the
machine (a Python call, no device read, so a replayed CUDA graph keeps running ahead).

Run:  python benchmarks/callback_overhead.py [--rounds 5] [--steps 400] [--device auto]
(the numbers are only meaningful on an idle machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

from flowkit import Callback
from flowkit.device import synchronize
from flowkit.pipeline import Pipeline


class LogOnly(Callback):
    def on_log(self, run, record):
        pass


class NoOpStepHook(Callback):
    def on_step_end(self, run, step):
        pass


VARIANTS = {"none": list, "log only": lambda: [LogOnly()], "step hook": lambda: [NoOpStepHook()]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds")
    parser.add_argument("--steps", type=int, default=400, help="steps per round")
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    args = parser.parse_args()
    warm_up = 50
    total = warm_up + args.rounds * args.steps
    config = {
        "model": {"name": "mlp", "width": 64, "depth": 3},
        "data": {"name": "checkerboard", "n_train": 20_000, "n_test": 64},
        "device": args.device,
        "train": {"steps": total, "batch_size": 256, "log_every": 100, "checkpoint_every": 0},
    }
    pipelines = {name: Pipeline(config) for name in VARIANTS}
    for name, pipeline in pipelines.items():
        pipeline.fit(stop_at=warm_up, progress=False, callbacks=VARIANTS[name]())
    times: dict[str, list[float]] = {name: [] for name in VARIANTS}
    for round_index in range(args.rounds):
        until = warm_up + (round_index + 1) * args.steps
        for name, pipeline in pipelines.items():
            synchronize(pipeline.device)
            start = time.perf_counter()
            pipeline.fit(stop_at=until, progress=False, callbacks=VARIANTS[name]())
            synchronize(pipeline.device)
            times[name].append((time.perf_counter() - start) / args.steps)
    device = pipelines["none"].device
    mode = pipelines["none"].trainer.step_mode.name
    print(f"device {device}, step mode {mode}, {args.rounds} rounds of {args.steps} steps (MLP 3x64, batch 256)")
    base = statistics.median(times["none"])
    for name, samples in times.items():
        median = statistics.median(samples)
        print(f"  {name:10s} {median * 1e6:8.1f} us/step   ratio {median / base:.3f}")


if __name__ == "__main__":
    main()
