"""Throughput of the built-in networks and the cost of their runtime shape checks, in one run.

For the registered ``mlp`` (2-D data) and ``unet`` (digits size, 1x8x8) this measures

- training throughput: one forward + backward pass of ``mean |v(t, x)|^2`` (samples/s), and
- inference throughput: one forward pass under ``torch.no_grad()`` (what an ODE solver does at
  every step),

each with the runtime shape checks on and off (:func:`flowkit.shapes.shape_checks`). The timings
of the two settings are interleaved over several rounds and the medians compared::

    check cost = median time with checks / median time without checks

together with the absolute overhead per call in microseconds, and the cost of the checks alone
(the model's boundary check called in isolation, many times), which is the stable figure on a
busy machine where the end-to-end difference drowns in noise. Run on an idle machine::

    python benchmarks/models.py [--rounds 7] [--threads N] [--device cpu]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import torch

from flowkit import registry
from flowkit.device import resolve_device
from flowkit.models import count_parameters
from flowkit.shapes import shape_checks

CONFIGS = [
    {"model": "mlp", "params": {"dim": 2, "width": 128, "depth": 3}, "event": (2,), "batch": 256, "calls": 200},
    # a small batch, where a fixed per-call cost such as the checks weighs the most
    {"model": "mlp", "params": {"dim": 2, "width": 128, "depth": 3}, "event": (2,), "batch": 16, "calls": 500},
    {"model": "unet", "params": {"channels": 1, "image_size": 8}, "event": (1, 8, 8), "batch": 64, "calls": 20},
]
"""The measured networks: registry name, construction parameters, event shape, batch, calls per round."""


def seconds_per_call(fn: Callable[[], None], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def training_step(model, t, x) -> Callable[[], None]:
    def step() -> None:
        model.zero_grad(set_to_none=True)
        model(t, x).square().mean().backward()

    return step


def inference_step(model, t, x) -> Callable[[], None]:
    def step() -> None:
        with torch.no_grad():
            model(t, x)

    return step


def isolated_check_us(model, t, x, calls: int = 2000) -> float:
    """Microseconds per call of the model's boundary check alone (jaxtyping + beartype + event shape)."""
    with shape_checks(True):
        seconds_per_call(lambda: model._check_inputs(x, t, None), calls // 10)
        return 1e6 * seconds_per_call(lambda: model._check_inputs(x, t, None), calls)


def measure(config: dict, device: torch.device, rounds: int) -> list[dict]:
    torch.manual_seed(0)
    name = config["model"]
    model = registry.create("model", name, **config["params"]).to(device)
    batch, calls = config["batch"], config["calls"]
    t = torch.rand(batch, device=device)
    x = torch.randn(batch, *config["event"], device=device)
    rows = []
    check_us = isolated_check_us(model, t, x)
    for mode, make in (("forward+backward", training_step), ("forward (no_grad)", inference_step)):
        step = make(model, t, x)
        for checks in (True, False):  # warm-up
            with shape_checks(checks):
                seconds_per_call(step, max(1, calls // 10))
        times: dict[bool, list[float]] = {True: [], False: []}
        for _ in range(rounds):
            for checks in (True, False):
                with shape_checks(checks):
                    if device.type == "cuda":
                        torch.cuda.synchronize()
                    times[checks].append(seconds_per_call(step, calls))
                    if device.type == "cuda":
                        torch.cuda.synchronize()
        on, off = statistics.median(times[True]), statistics.median(times[False])
        rows.append(
            {
                "model": name,
                "parameters": count_parameters(model),
                "batch": batch,
                "mode": mode,
                "ms_on": 1e3 * on,
                "ms_off": 1e3 * off,
                "samples_per_s_off": batch / off,
                "ratio": on / off,
                "overhead_us": 1e6 * (on - off),
                "check_us": check_us,
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7, help="interleaved timing rounds (median is reported)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--device", default="cpu", help="'cpu' (default), 'cuda', 'mps' or 'auto'")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    print(
        f"torch {torch.__version__}, device {device}, {torch.get_num_threads()} thread(s), "
        f"{args.rounds} rounds (medians)"
    )
    header = (
        f"{'model':<5} {'params':>9} {'batch':>5}  {'mode':<18} {'ms/call on':>10} {'ms/call off':>11} "
        f"{'samples/s':>10} {'on/off':>7} {'on-off':>10} {'check alone':>12} {'alone/off':>9}"
    )
    print(header)
    print("-" * len(header))
    for config in CONFIGS:
        for row in measure(config, device, args.rounds):
            print(
                f"{row['model']:<5} {row['parameters']:>9,} {row['batch']:>5}  {row['mode']:<18} "
                f"{row['ms_on']:>10.3f} {row['ms_off']:>11.3f} {row['samples_per_s_off']:>10,.0f} "
                f"{row['ratio']:>7.3f} {row['overhead_us']:>7.0f} us {row['check_us']:>9.1f} us "
                f"{1 + row['check_us'] / (1e3 * row['ms_off']):>9.4f}"
            )
    print(
        "samples/s: with checks off. on/off, on-off: median time per call with checks vs without.\n"
        "check alone: the boundary check timed in isolation; alone/off = 1 + check alone / time off."
    )


if __name__ == "__main__":
    main()
