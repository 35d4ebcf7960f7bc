"""Framework overhead of ``Pipeline.fit`` against a hand-written PyTorch CFM training loop.

Both loops train the same network (the registered ``mlp``, same initial weights) with the same
batch size, the same AdamW, learning-rate schedule, gradient clipping and EMA, on the
checkerboard with the OT path (``x_t = t x1 + (1 - (1 - sigma_min) t) x0``, target
``u_t = x1 - (1 - sigma_min) x0``). The hand-written loop is what one would write without
flowkit: slice a shuffled data tensor, draw ``x0`` and ``t``, regress, step. The two are timed
in alternating rounds in one process and the median time per step of each is compared::

    ratio = median step time of Pipeline.fit / median step time of the hand-written loop

at a small configuration, where per-step Python overhead shows (MLP width 64, batch 256), and
a large one (4 hidden layers of 512, batch 4096). Targets: <= 1.10 and <= 1.02.

Run:  python benchmarks/overhead.py [--rounds 5] [--device auto]
(set ``OMP_NUM_THREADS`` to pin CPU threads; the numbers are only meaningful on an idle machine).
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import torch

from flowkit import registry
from flowkit.device import resolve_device
from flowkit.pipeline import Pipeline

SIGMA_MIN = 1e-4

CONFIGS = {
    "small": {"width": 64, "depth": 3, "batch_size": 256, "steps_per_round": 400},
    "large": {"width": 512, "depth": 4, "batch_size": 4096, "steps_per_round": 20},
}


def pipeline_for(name: str, device: str) -> Pipeline:
    spec = CONFIGS[name]
    return Pipeline(
        {
            "path": {"name": "ot", "sigma_min": SIGMA_MIN},
            "coupling": "independent",
            "objective": "cfm",
            "model": {"name": "mlp", "width": spec["width"], "depth": spec["depth"]},
            "data": "checkerboard",
            "device": device,
            "train": {"batch_size": spec["batch_size"], "steps": 10**9, "checkpoint_every": 0},
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


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def timed(device: torch.device, fn) -> float:
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def measure(name: str, rounds: int, device: str) -> tuple[float, float]:
    """Median seconds per step of (Pipeline.fit, hand-written loop)."""
    pipeline = pipeline_for(name, device)
    hand = HandWrittenLoop(pipeline)
    steps = CONFIGS[name]["steps_per_round"]
    pipeline.fit(steps=pipeline.step + 5, progress=False)  # warm-up (first step runs the shape checks)
    hand.run(5)
    pipeline_times, hand_times = [], []
    for _ in range(rounds):
        target = pipeline.step + steps
        fit = lambda target=target: pipeline.fit(steps=target, progress=False)  # noqa: E731
        pipeline_times.append(timed(pipeline.device, fit) / steps)
        hand_times.append(timed(pipeline.device, lambda: hand.run(steps)) / steps)
    return statistics.median(pipeline_times), statistics.median(hand_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5, help="alternating timing rounds per configuration")
    parser.add_argument("--device", default="auto", help="torch device (default: auto)")
    parser.add_argument("--only", choices=sorted(CONFIGS), help="run one configuration")
    args = parser.parse_args()
    device = resolve_device(args.device)
    print(f"device {device}, torch {torch.__version__}, {torch.get_num_threads()} CPU thread(s)")
    targets = {"small": 1.10, "large": 1.02}
    for name in [args.only] if args.only else list(CONFIGS):
        spec = CONFIGS[name]
        fit, hand = measure(name, args.rounds, str(device))
        print(
            f"{name:5s} (MLP {spec['depth']}x{spec['width']}, batch {spec['batch_size']}): "
            f"Pipeline.fit {fit * 1e3:8.3f} ms/step, hand-written {hand * 1e3:8.3f} ms/step, "
            f"ratio {fit / hand:.3f} (target <= {targets[name]:.2f})"
        )


if __name__ == "__main__":
    main()
