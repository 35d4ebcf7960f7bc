"""GPU check and figures: captured training steps, U-Net precision and layout, demo time, device dispatch.

On a machine with CUDA this script runs, in order (each section reports and goes on if an
earlier one failed; the exit status is 1 if any check failed):

1. ``basics``: ``device="auto"`` picks CUDA; bf16 autocast runs the U-Net's convolutions in
   bfloat16 and keeps float32 outputs; :func:`flowkit.device.maybe_compile` (static shapes)
   agrees with eager for the bf16 U-Net at two batch sizes (the dynamic-shape compile crashed
   on torch 2.11 with ``misaligned address``).
2. ``capture``: ``train.compile = "cuda-graph"`` against ``"off"`` on the demo's problem: the
   graph is in use, the loss statistics agree (same seed; difference of the mean loss over the
   last half against its standard error), a run split by a checkpoint equals an uninterrupted
   one bit for bit within the mode, a cuda-graph checkpoint loads and trains with
   ``compile="off"``, a conditional U-Net on quantised digits captures, and a host-side coupling
   makes ``"auto"`` fall back with a reason.
3. ``overhead``: ``benchmarks/overhead.py``'s two configurations, hand-written eager loop against
   ``Pipeline.fit`` in every mode, as speed-ups from one run.
4. ``unet``: the CIFAR-10-size U-Net (35.7M parameters, torchcfm's recipe), training samples/s of
   a hand-written CFM step at batch 128 in fp32, tf32 and bf16, NCHW and channels-last, and
   ``Pipeline.fit`` with the shipped defaults.
5. ``demo``: ``flowkit demo`` (10,000 steps) wall-clock, training part and total.

``couplings`` checks that the device-side couplings (``sinkhorn`` with ``iterations``,
``unbalanced-ot``) capture under ``"auto"``; ``ot`` times training steps with exact OT (the next
assignment solved on a worker thread) against a torchcfm-style loop that solves with POT and
then steps, at batch 256, 1024 and 2048.

Figures go to stdout and, as JSON, to ``$OUT/gpu_check.json`` when ``OUT`` is set.
Without CUDA it says so and exits 0.

Run:  python benchmarks/gpu_check.py [--sections basics,capture,overhead,unet,demo] [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from flowkit import registry  # noqa: E402
from flowkit.device import autocast_context, maybe_compile, place_model, resolve_device, synchronize  # noqa: E402
from flowkit.models import count_parameters  # noqa: E402
from flowkit.pipeline import Pipeline  # noqa: E402
from flowkit.shapes import shape_checks  # noqa: E402

RESULTS: dict[str, object] = {}
FAILURES: list[str] = []

CIFAR_UNET = {
    "channels": 3,
    "image_size": 32,
    "base_channels": 128,
    "channel_mult": (1, 2, 2, 2),
    "num_res_blocks": 2,
    "attention_resolutions": (16,),
    "attention_heads": 4,
    "dropout": 0.1,
    "norm_groups": 32,
}


def check(condition: bool, message: str) -> None:
    print(("  ok    " if condition else "  FAIL  ") + message, flush=True)
    if not condition:
        FAILURES.append(message)


def demo_config(compile_mode: str, **train) -> dict:
    return {
        "path": "ot",
        "coupling": "independent",
        "objective": "cfm",
        "model": {"name": "mlp", "width": 256, "depth": 3},
        "data": "checkerboard",
        "device": "cuda",
        "seed": 0,
        "train": {
            "steps": 1000,
            "batch_size": 256,
            "log_every": 50,
            "checkpoint_every": 0,
            "compile": compile_mode,
            **train,
        },
    }


def weights_equal(a: Pipeline, b: Pipeline) -> bool:
    sa, sb = a.model.state_dict(), b.model.state_dict()
    ea, eb = a.ema_model.state_dict(), b.ema_model.state_dict()
    return all(torch.equal(sa[k], sb[k]) for k in sa) and all(torch.equal(ea[k], eb[k]) for k in ea)


# -- 1 -------------------------------------------------------------------------------------------
def basics() -> None:
    device = resolve_device("auto")
    check(device.type == "cuda", f"device='auto' resolves to {device}")
    torch.manual_seed(0)
    model = place_model(
        registry.create(
            "model",
            "unet",
            channels=3,
            image_size=16,
            base_channels=32,
            channel_mult=(1, 2),
            attention_resolutions=(8,),
        ),
        device,
    )
    x = torch.randn(64, 3, 16, 16, device=device)
    t = torch.rand(64, device=device)
    with torch.no_grad():
        reference = model(t, x)
        with autocast_context(device, "bf16"):
            low = model(t, x)
    check(low.dtype == torch.float32, "bf16 autocast keeps the U-Net's output in float32")
    error = float((low - reference).norm() / reference.norm())
    check(error < 0.05, f"bf16 prediction close to fp32 (relative difference {error:.2e})")
    compiled = maybe_compile(model)
    for batch in (64, 16):
        with torch.no_grad(), autocast_context(device, "bf16"):
            out = compiled(t[:batch], x[:batch])
            eager = model(t[:batch], x[:batch])
        diff = float((out - eager).norm() / eager.norm())
        check(diff < 0.05, f"compiled bf16 U-Net (static shapes) matches eager at batch {batch} ({diff:.2e})")
    # The training setting that crashed with dynamic shapes: compiled bf16 forward + backward.
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    for batch in (64, 16, 64):
        with autocast_context(device, "bf16"):
            loss = compiled(t[:batch], x[:batch]).square().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    torch.cuda.synchronize()
    check(True, "compiled bf16 U-Net trains at batch 64, 16, 64 without crashing")


# -- 2 -------------------------------------------------------------------------------------------
def capture() -> None:
    losses = {}
    for mode in ("off", "cuda-graph"):
        pipeline = Pipeline(demo_config(mode))
        start = time.perf_counter()
        history = pipeline.fit(progress=False)
        torch.cuda.synchronize()
        seconds = time.perf_counter() - start
        values = torch.tensor([r["loss"] for r in history])
        losses[mode] = values
        runner = pipeline.trainer._step_runner
        print(
            f"  {mode}: {seconds:.2f} s for 1000 steps, runner {type(runner).__name__}, "
            f"captured {getattr(runner, 'captured', None)}",
            flush=True,
        )
        if mode == "cuda-graph":
            check(bool(getattr(runner, "captured", False)), "cuda-graph mode replays a captured graph")
    half = len(losses["off"]) // 2
    a, b = losses["off"][half:], losses["cuda-graph"][half:]
    se = float(((a.var() + b.var()) / len(a)).sqrt())
    diff = float(a.mean() - b.mean())
    RESULTS["capture_loss"] = {"off": float(a.mean()), "cuda-graph": float(b.mean()), "se": se}
    check(
        abs(diff) < 4 * se + 1e-3,
        f"mean loss, last half: off {a.mean():.4f}, cuda-graph {b.mean():.4f} "
        f"(difference {diff:.4f}, standard error {se:.4f})",
    )

    for mode in ("cuda-graph", "off"):
        whole = Pipeline(demo_config(mode, steps=300))
        whole.fit(progress=False)
        with tempfile.TemporaryDirectory() as tmp:
            first = Pipeline(demo_config(mode, steps=300, checkpoint_every=150))
            first.fit(stop_at=150, out=tmp, progress=False)
            resumed = Pipeline.load(Path(tmp) / "checkpoint")
            resumed.fit(steps=300, progress=False)
            check(
                weights_equal(whole, resumed), f"{mode}: 150 steps + checkpoint + 150 steps equal 300 steps bit for bit"
            )
            if mode == "cuda-graph":
                other = Pipeline.load(Path(tmp) / "checkpoint")
                other.fit(steps=200, compile="off", progress=False)
                check(
                    other.step == 200 and other.trainer.step_mode.name == "off",
                    "a cuda-graph checkpoint loads and trains with compile='off'",
                )

    digits = Pipeline(
        {
            "path": "ot",
            "objective": "cfm",
            "data": "digits",
            "device": "cuda",
            "model": {"name": "conditional-unet", "base_channels": 32, "channel_mult": [1, 2]},
            "train": {"steps": 30, "batch_size": 64, "log_every": 10, "checkpoint_every": 0, "compile": "cuda-graph"},
        }
    )
    history = digits.fit(progress=False)
    runner = digits.trainer._step_runner
    check(
        bool(getattr(runner, "captured", False)) and all(torch.isfinite(torch.tensor(r["loss"])) for r in history),
        "conditional U-Net on dequantised digits: step captured, losses finite",
    )

    fallback = Pipeline(demo_config("auto") | {"coupling": "ot"})
    reason = fallback.trainer.step_mode.fallback_reason
    check(
        fallback.trainer.step_mode.name == "off" and reason is not None and "ExactOT" in reason,
        f"'auto' with exact OT falls back to eager: {reason}",
    )


def capture_couplings() -> None:
    """The device-side couplings capture; exact OT trains eagerly with its next solve prefetched."""
    for coupling in ({"name": "sinkhorn", "iterations": 50}, {"name": "unbalanced-ot", "tau": 1.0}):
        pipeline = Pipeline(demo_config("auto", steps=40) | {"coupling": coupling})
        history = pipeline.fit(progress=False)
        runner = pipeline.trainer._step_runner
        check(
            bool(getattr(runner, "captured", False)) and all(torch.isfinite(torch.tensor(r["loss"])) for r in history),
            f"coupling {coupling['name']} ({coupling}) captured under compile='auto', losses finite",
        )


def ot_training(
    sizes: tuple[int, ...] = (256, 1024, 2048, 4096), steps: tuple[int, ...] = (30, 10, 5, 3), device_name: str = "cuda"
) -> None:
    """Per-step time with exact OT: Pipeline.fit (solve of step k+1 overlapped with step k) against a
    torchcfm-style loop (POT ``ot.emd`` on the step's cost matrix, then the step, in sequence).

    ``device_name="cpu"`` runs the same comparison without a GPU (a dry run of this section)."""
    import numpy as np
    import ot as pot

    device = torch.device(device_name)
    results = {}
    for n, count in zip(sizes, steps):
        config = demo_config("auto", steps=10**6, batch_size=n, log_every=10**5) | {"coupling": "ot"}
        pipeline = Pipeline(config | {"device": device_name})
        pipeline.fit(stop_at=2, progress=False)
        synchronize(device)
        start = time.perf_counter()
        pipeline.fit(stop_at=2 + count, progress=False)
        synchronize(device)
        flowkit_ms = (time.perf_counter() - start) / count * 1e3

        model = registry.create("model", "mlp", dim=2, width=256, depth=3).to(device)
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)
        data = pipeline.dataset.split("train").x.to(device)
        rng = np.random.default_rng(0)

        def hand_step() -> None:
            x1 = data[torch.randint(0, len(data), (n,), device=device)]
            x0 = torch.randn_like(x1)
            cost = torch.cdist(x0, x1) ** 2
            plan = pot.emd(np.full(n, 1 / n), np.full(n, 1 / n), cost.double().cpu().numpy())
            choice = rng.choice(n * n, size=n, p=plan.ravel() / plan.sum())
            i, j = np.divmod(choice, n)
            x0p, x1p = x0[torch.as_tensor(i, device=device)], x1[torch.as_tensor(j, device=device)]
            t = torch.rand(n, 1, device=device)
            loss = ((model(t.squeeze(1), t * x1p + (1 - t) * x0p) - (x1p - x0p)) ** 2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        hand_step()
        synchronize(device)
        start = time.perf_counter()
        for _ in range(count):
            hand_step()
        synchronize(device)
        hand_ms = (time.perf_counter() - start) / count * 1e3
        results[n] = {"flowkit_ms": flowkit_ms, "torchcfm_style_ms": hand_ms}
        print(
            f"  batch {n}: Pipeline.fit with exact OT {flowkit_ms:.1f} ms/step, torchcfm-style loop "
            f"{hand_ms:.1f} ms/step, speed-up {hand_ms / flowkit_ms:.2f}x",
            flush=True,
        )
        check(flowkit_ms <= hand_ms * 1.05, f"batch {n}: exact OT training step at least as fast as torchcfm-style")
    RESULTS["ot_training"] = results


# -- 3 -------------------------------------------------------------------------------------------
def overhead(rounds: int) -> None:
    import overhead as bench

    device = torch.device("cuda")
    modes = bench.available_modes(device)
    for name in bench.CONFIGS:
        hand, fits = bench.measure(name, rounds, "cuda", modes)
        RESULTS[f"overhead_{name}"] = {"hand_ms": hand * 1e3, **{m: s * 1e3 for m, s in fits.items()}}
        print(f"  {name}: hand-written eager {hand * 1e3:.3f} ms/step", flush=True)
        for mode, seconds in fits.items():
            print(f"    compile={mode:10s} {seconds * 1e3:.3f} ms/step, speed-up {hand / seconds:.2f}x", flush=True)
        target = 5.0 if name == "small" else 2.0
        check(
            hand / fits["auto"] >= target,
            f"{name}: auto is {hand / fits['auto']:.2f}x the hand-written loop (target {target}x)",
        )
    # The large step's device time: forward and backward alone, replayed from a graph, fp32 and TF32.
    spec = bench.CONFIGS["large"]
    model = registry.create("model", "mlp", dim=2, width=spec["width"], depth=spec["depth"]).to(device)
    x, t = torch.randn(spec["batch_size"], 2, device=device), torch.rand(spec["batch_size"], device=device)
    for precision in ("highest", "high"):
        torch.set_float32_matmul_precision(precision)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream), shape_checks(False):
            for _ in range(3):
                model(t, x).square().mean().backward()
        torch.cuda.current_stream().wait_stream(stream)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph), shape_checks(False):
            model(t, x).square().mean().backward()
        graph.replay()
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(100):
            graph.replay()
        torch.cuda.synchronize()
        ms = (time.perf_counter() - start) * 10
        RESULTS[f"large_forward_backward_ms_{precision}"] = ms
        print(
            f"  large MLP forward+backward alone, graph replay, matmul precision {precision!r}: {ms:.3f} ms", flush=True
        )
    torch.set_float32_matmul_precision("highest")


# -- 4 -------------------------------------------------------------------------------------------
def unet_throughput(steps: int = 30) -> None:
    device = torch.device("cuda")
    x = torch.randn(128, 3, 32, 32, device=device)
    results = {}
    for label, precision, channels_last in (
        ("fp32 NCHW", "fp32", False),
        ("tf32 NCHW", "tf32", False),
        ("bf16 NCHW", "bf16", False),
        ("bf16 channels-last", "bf16", True),
    ):
        torch.manual_seed(0)
        model = place_model(registry.create("model", "unet", **CIFAR_UNET, channels_last=channels_last), device)
        if label == "fp32 NCHW":
            RESULTS["unet_parameters"] = count_parameters(model)
        optimizer = torch.optim.Adam(model.parameters(), lr=2e-4, fused=True)
        path = registry.create("path", "ot")
        objective = registry.create("objective", "cfm", path=path)
        with shape_checks(False):
            for i in range(steps + 10):
                if i == 10:
                    torch.cuda.synchronize()
                    start = time.perf_counter()
                with autocast_context(device, precision):
                    loss = objective.loss(model=model, x1=x)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
        torch.cuda.synchronize()
        results[label] = steps * 128 / (time.perf_counter() - start)
        print(f"  {label:20s} {results[label]:8.0f} samples/s", flush=True)
        del model, optimizer
    RESULTS["unet_samples_per_s"] = results
    check(results["bf16 NCHW"] > results["fp32 NCHW"], "bf16 faster than fp32 (hand-written step, NCHW)")

    data = torch.rand(2048, 3, 32, 32) * 2 - 1
    for precision, compile_mode in (("fp32", "off"), ("fp32", "auto"), ("bf16", "off"), ("bf16", "auto")):
        pipeline = Pipeline(
            {
                "path": "ot",
                "objective": "cfm",
                "device": "cuda",
                "model": {"name": "unet", **CIFAR_UNET},
                "train": {
                    "steps": 10**6,
                    "batch_size": 128,
                    "log_every": 10**5,
                    "checkpoint_every": 0,
                    "precision": precision,
                    "compile": compile_mode,
                },
            },
            data=data,
        )
        pipeline.fit(stop_at=10, progress=False)
        torch.cuda.synchronize()
        start = time.perf_counter()
        pipeline.fit(stop_at=10 + steps, progress=False)
        torch.cuda.synchronize()
        rate = steps * 128 / (time.perf_counter() - start)
        memory = torch.cuda.max_memory_allocated() / 2**30
        RESULTS[f"unet_pipeline_{precision}_{compile_mode}"] = {
            "samples_per_s": rate,
            "max_memory_gib": memory,
            "mode": pipeline.trainer.step_mode.name,
        }
        print(
            f"  Pipeline.fit U-Net {precision} (compile {compile_mode} -> {pipeline.trainer.step_mode.name}): "
            f"{rate:.0f} samples/s, peak memory {memory:.1f} GiB",
            flush=True,
        )
        del pipeline
        torch.cuda.reset_peak_memory_stats()


# -- 5 -------------------------------------------------------------------------------------------
def demo() -> None:
    out = Path(tempfile.mkdtemp()) / "demo"
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "flowkit", "demo", "--out", str(out)], capture_output=True, text=True
    )
    wall = time.perf_counter() - start
    print(result.stdout[-2000:], result.stderr[-1500:], flush=True)
    check(result.returncode == 0, f"flowkit demo exits 0 ({wall:.1f} s wall-clock)")
    report = json.loads((out / "metrics.json").read_text())
    if "OUT" in os.environ:  # the figures come back with the results, the checkpoint does not
        for name in ("samples.png", "trajectories.png"):
            shutil.copy(out / name, Path(os.environ["OUT"]) / f"demo-{name}")
    RESULTS["demo"] = {"wall_seconds": wall, **report.get("times", {}), "metrics": report.get("metrics")}
    train = report["times"].get("train_seconds")
    check(train is not None and train < 10, f"demo training {train:.1f} s for 10,000 steps (target < 10 s)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sections", default="basics,capture,couplings,ot,overhead,unet,demo")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print("no CUDA device: nothing to check")
        return 0
    print(f"torch {torch.__version__}, {torch.cuda.get_device_name()}", flush=True)
    sections = {
        "basics": basics,
        "capture": capture,
        "couplings": capture_couplings,
        "ot": ot_training,
        "overhead": lambda: overhead(args.rounds),
        "unet": unet_throughput,
        "demo": demo,
    }
    for name in args.sections.split(","):
        print(f"== {name}", flush=True)
        start = time.perf_counter()
        try:
            sections[name]()
        except Exception:
            traceback.print_exc()
            FAILURES.append(f"section {name} raised")
        print(f"   ({time.perf_counter() - start:.1f} s)", flush=True)
        if "OUT" in os.environ:
            Path(os.environ["OUT"], "gpu_check.json").write_text(json.dumps(RESULTS, indent=2, default=str))
    print("failures:" if FAILURES else "all checks passed", *FAILURES, sep="\n  ")
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
