"""``Pipeline.fit`` in each ``train.compile`` mode against a hand-written eager PyTorch CFM loop.

Every loop trains the same network (the registered ``mlp``, same initial weights) with the same
batch size, AdamW, learning-rate schedule, gradient clipping and EMA, on the checkerboard with
the OT path (``x_t = t x1 + (1 - (1 - sigma_min) t) x0``, target ``u_t = x1 - (1 - sigma_min) x0``).
The hand-written loop is what one would write without flowkit: slice a shuffled data tensor,
draw ``x0`` and ``t``, regress, step, in eager PyTorch with the default AdamW. All loops are
timed in alternating rounds in one process, after a warm-up that also covers compilation and
CUDA graph capture, and the median time per step of each is reported with the speed-up::

    speed-up = median step time of the hand-written loop / median step time of Pipeline.fit

at a small configuration, where per-step launch and Python overhead dominate (MLP 3x64, batch
256), and a large one (4 hidden layers of 512, batch 4096). Modes: ``off`` (eager), ``auto``
(the default), and where the device allows them ``cuda-graph`` and ``inductor``. Targets for
``auto``: on CUDA at least 5x (small) and 2x (large); on the CPU never below 1.

Run:  python benchmarks/overhead.py [--rounds 5] [--device auto] [--modes off,auto,...]
(set ``OMP_NUM_THREADS`` to pin CPU threads; the numbers are only meaningful on an idle machine).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from flowkit import registry
from flowkit.device import resolve_device, synchronize
from flowkit.pipeline import Pipeline
from flowkit.pipeline.step_modes import inductor_obstacles

SIGMA_MIN = 1e-4

CONFIGS = {
    "small": {"width": 64, "depth": 3, "batch_size": 256, "steps_per_round": 400},
    "large": {"width": 512, "depth": 4, "batch_size": 4096, "steps_per_round": 200},
}


def pipeline_for(name: str, device: str, compile_mode: str) -> Pipeline:
    spec = CONFIGS[name]
    return Pipeline(
        {
            "path": {"name": "ot", "sigma_min": SIGMA_MIN},
            "coupling": "independent",
            "objective": "cfm",
            "model": {"name": "mlp", "width": spec["width"], "depth": spec["depth"]},
            "data": "checkerboard",
            "device": device,
            "train": {
                "batch_size": spec["batch_size"],
                "steps": 10**9,
                "checkpoint_every": 0,
                "log_every": 10**6,
                "compile": compile_mode,
            },
        }
    )


class HandWrittenLoop:
    """The loop a user writes by hand: same model, batch, optimizer, schedule, clipping and EMA."""

    def __init__(self, pipeline: Pipeline):
        config = pipeline.config
        train = config.train
        self.device = pipeline.device
        self.model = registry.create("model", "mlp", dim=2, **dict(config.model.params)).to(self.device)
        self.model.load_state_dict(pipeline.model.state_dict())
        self.ema = [p.detach().clone() for p in self.model.parameters()]
        self.params = list(self.model.parameters())
        self.optimizer = torch.optim.AdamW(
            self.params, lr=train.lr, betas=train.betas, eps=train.eps, weight_decay=train.weight_decay
        )
        self.train = train
        self.data = pipeline.dataset.split("train").x.to(self.device)
        self.batch_size = train.batch_size
        self.cursor = len(self.data)
        self.step = 0

    def batch(self) -> torch.Tensor:
        if self.cursor + self.batch_size > len(self.data):
            self.data = self.data[torch.randperm(len(self.data), device=self.device)]
            self.cursor = 0
        x1 = self.data[self.cursor : self.cursor + self.batch_size]
        self.cursor += self.batch_size
        return x1

    def lr(self) -> float:
        train = self.train
        if self.step < train.warmup_steps:
            return train.lr * (self.step + 1) / train.warmup_steps
        progress = (self.step - train.warmup_steps) / (train.steps - train.warmup_steps)
        return train.lr * 0.5 * (1 + math.cos(math.pi * progress))

    def run(self, steps: int) -> None:
        for _ in range(steps):
            x1 = self.batch()
            x0 = torch.randn_like(x1)
            t = torch.rand(x1.shape[0], device=self.device)
            x_t = t[:, None] * x1 + (1 - (1 - SIGMA_MIN) * t[:, None]) * x0
            u_t = x1 - (1 - SIGMA_MIN) * x0
            loss = torch.nn.functional.mse_loss(self.model(t, x_t), u_t)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(self.params, self.train.grad_clip)
            for group in self.optimizer.param_groups:
                group["lr"] = self.lr()
            self.optimizer.step()
            self.step += 1
            beta = min(self.train.ema_decay, (1 + self.step) / (10 + self.step))
            with torch.no_grad():
                torch._foreach_lerp_(self.ema, self.params, 1 - beta)


def timed(device: torch.device, fn) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def measure(name: str, rounds: int, device: str, modes: list[str]) -> tuple[float, dict[str, float]]:
    """Median seconds per step of the hand-written loop and of ``Pipeline.fit`` in each mode."""
    pipelines = {mode: pipeline_for(name, device, mode) for mode in modes}
    hand = HandWrittenLoop(next(iter(pipelines.values())))
    steps = CONFIGS[name]["steps_per_round"]
    for pipeline in pipelines.values():  # warm-up: shape checks, capture, compilation
        pipeline.model.load_state_dict(hand.model.state_dict())
        pipeline.fit(stop_at=pipeline.step + 20, progress=False)
    hand.run(20)
    times: dict[str, list[float]] = {mode: [] for mode in ["hand-written", *modes]}
    for _ in range(rounds):
        times["hand-written"].append(timed(hand.device, lambda: hand.run(steps)) / steps)
        for mode, pipeline in pipelines.items():
            target = pipeline.step + steps
            fit = lambda pipeline=pipeline, target=target: pipeline.fit(stop_at=target, progress=False)  # noqa: E731
            times[mode].append(timed(pipeline.device, fit) / steps)
    medians = {mode: statistics.median(values) for mode, values in times.items()}
    return medians.pop("hand-written"), medians


def available_modes(device: torch.device) -> list[str]:
    modes = ["off", "auto"]
    if device.type == "cuda":
        modes.append("cuda-graph")
    if not inductor_obstacles(device):
        modes.append("inductor")
    return modes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds per configuration")
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    parser.add_argument("--only", choices=sorted(CONFIGS), help="run one configuration")
    parser.add_argument("--modes", help="comma-separated train.compile modes (default: all the device allows)")
    args = parser.parse_args()
    device = resolve_device(args.device)
    modes = args.modes.split(",") if args.modes else available_modes(device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s)")
    targets = {"small": 5.0, "large": 2.0} if device.type == "cuda" else {"small": 1.0, "large": 1.0}
    for name in [args.only] if args.only else list(CONFIGS):
        spec = CONFIGS[name]
        hand, fits = measure(name, args.rounds, str(device), modes)
        print(
            f"{name} (MLP {spec['depth']}x{spec['width']}, batch {spec['batch_size']}): "
            f"hand-written eager {hand * 1e3:.3f} ms/step"
        )
        for mode, seconds in fits.items():
            target = f" (target >= {targets[name]:g}x)" if mode == "auto" else ""
            print(
                f"  Pipeline.fit compile={mode:10s} {seconds * 1e3:8.3f} ms/step  speed-up {hand / seconds:6.2f}x{target}"
            )


if __name__ == "__main__":
    main()
