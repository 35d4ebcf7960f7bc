"""The paper-cifar10 setting on a synthetic CIFAR-10 binary file: throughput, memory, bf16, suite.

1. Writes random images in the CIFAR-10 binary format (``data_batch_1..5.bin``,
   ``test_batch.bin``: 1 label byte + 3072 pixel bytes per record) to a temporary folder.
2. For ``fp32`` and ``bf16``: trains the ``cifar10`` preset (torchcfm's U-Net, batch 128) for
   ``--short`` and ``--long`` steps and reports the steady-state rate
   ``(long - short) / (t_long - t_short)`` in steps/s and images/s, and the peak GPU memory.
3. Runs the ``paper-cifar10`` suite end to end on those files at ``--suite-steps`` steps per
   path (OT, VP, VE), with 500 samples per solver setting and 64 likelihood images.

Random pixels carry no signal: the numbers are cost, not quality. It is meant for a GPU (the
35.7M-parameter U-Net); ``--tiny`` swaps in a small U-Net to check the script on a CPU
(``--tiny --records 130 --short 1 --long 2 --suite-steps 2``).

Run:  python benchmarks/cifar10_device_check.py [--records 1000] [--short 20] [--long 120]
                                                [--suite-steps 300] [--out runs/cifar10-check] [--tiny]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from flowkit.bench import load_suite, run_suite
from flowkit.pipeline import Pipeline
from flowkit.presets import load_preset

TINY_UNET = {
    "name": "unet",
    "base_channels": 8,
    "channel_mult": [1, 2],
    "num_res_blocks": 1,
    "attention_resolutions": [16],
    "attention_heads": 2,
    "middle_attention": True,
    "dropout": 0.1,
    "norm_groups": 4,
}


def write_cifar(folder: Path, records: int) -> None:
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    for name in [*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"]:
        data = np.concatenate([rng.integers(0, 10, (records, 1)), rng.integers(0, 256, (records, 3072))], axis=1)
        (folder / name).write_bytes(data.astype(np.uint8).tobytes())


def train_seconds(root: Path, steps: int, precision: str, tiny: bool) -> tuple[float, str]:
    config = load_preset(
        "cifar10", data={"name": "cifar10", "root": str(root)}, **({"model": TINY_UNET} if tiny else {})
    )
    config = config.with_train(steps=steps, warmup_steps=1, precision=precision, checkpoint_every=0, log_every=steps)
    pipeline = Pipeline(config)
    if pipeline.device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    pipeline.fit(progress=False)
    if pipeline.device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start, str(pipeline.device)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=1000, help="images per batch file (5x for training)")
    parser.add_argument("--short", type=int, default=20)
    parser.add_argument("--long", type=int, default=120)
    parser.add_argument("--suite-steps", type=int, default=300)
    parser.add_argument("--out", type=Path, default=None, help="suite output folder (default: a temporary one)")
    parser.add_argument("--tiny", action="store_true", help="a small U-Net instead of the preset's (CPU smoke test)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch) / "cifar-10-batches-bin"
        write_cifar(root, args.records)
        for precision in ("fp32", "bf16"):
            if torch.cuda.is_available():
                torch.cuda.reset_peak_memory_stats()
            short, device = train_seconds(root, args.short, precision, args.tiny)
            long, _ = train_seconds(root, args.long, precision, args.tiny)
            rate = (args.long - args.short) / max(long - short, 1e-9)
            memory = torch.cuda.max_memory_allocated() / 2**30 if torch.cuda.is_available() else float("nan")
            print(
                f"{precision} on {device}: {rate:.2f} steps/s = {128 * rate:.0f} images/s "
                f"(steady state, {args.short}->{args.long} steps); peak memory {memory:.1f} GiB",
                flush=True,
            )
        out = args.out or Path(scratch) / "suite"
        suite = load_suite(
            "paper-cifar10",
            overrides=[
                f'axes.data=[{{ name = "cifar10", root = "{root}" }}]',
                f"train.steps={args.suite_steps}",
                "train.warmup_steps=1",
                "eval.num_samples=500",
                "eval.likelihood_points=64",
                "eval.plot_samples=16",
                *(
                    [
                        f"axes.model=[{{ {', '.join(f'{k} = {v!r}'.replace('True', 'true') for k, v in TINY_UNET.items())} }}]"
                    ]
                    if args.tiny
                    else []
                ),
            ],
        )
        start = time.perf_counter()
        report = run_suite(suite, out, log=print)
        print(
            f"paper-cifar10 at {args.suite_steps} steps: {report.cells} cells in {time.perf_counter() - start:.0f} s, ok={report.ok}"
        )
        print((out / "summary.md").read_text())


if __name__ == "__main__":
    main()
