"""A custom Gaussian probability path in a few lines, trained with CFM and compared with the OT path.

A Gaussian path is a schedule ``x_t = a(t) x1 + s(t) x0``; its conditional field
``u_t(x | x1) = s'/s (x - a x1) + a' x1`` follows from ``a`` and ``s``. This example builds the
*time-warped OT path* ``a = k(t)``, ``s = 1 - (1 - sigma_min) k(t)`` with ``k(t) = 1 - (1 - t)^2``:
the same straight lines as the OT path, travelled fast near the noise and slowly near the data
(``k'(1) = 0``), so a uniform time grid spends more of its steps where samples take their final
shape. What it shows:

- the path from two callables with ``SchedulePath`` (derivatives by autograd), and the same path
  as a ``GaussianPath`` subclass with closed-form derivatives — checked to agree;
- training it with the CFM objective and a registered model and solver in a plain PyTorch loop,
  no pipeline needed (a pipeline takes it as an object, ``Pipeline(config, path=WarpedOTPath())``,
  or by name once registered, ``flowkit.register("path", "warped-ot", WarpedOTPath)``, or as the
  factory reference ``"my_module:WarpedOTPath"`` in configurations and ``flowkit bench`` suites;
  see docs/howto/own-components.md);
- a fair comparison with the OT path (same network, data, steps, seed): energy distance to
  held-out data against the number of Euler steps, and the samples.

Run (from the repository root)::

    python examples/custom_path.py                     # full budget, a few minutes on a CPU
    python examples/custom_path.py --fast              # seconds (also FLOWKIT_EXAMPLES_FAST=1)

Writes to ``--out`` (default ``runs/custom_path``): ``paths.png`` (the schedules and the
samples of both paths by Euler steps), ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import math

import torch
from _common import example_parser
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowkit import registry, shape_checks
from flowkit.device import resolve_device
from flowkit.metrics import energy_distance
from flowkit.objectives import ConditionalFlowMatching
from flowkit.paths import ConditionalOTPath, GaussianPath, SchedulePath

SIGMA_MIN = 1e-4
EULER_STEPS = (1, 2, 4, 8, 16)


# -- the path, way 1: two callables (derivatives by autograd) ------------------------------------
def warp(t: torch.Tensor) -> torch.Tensor:
    return 1 - (1 - t) ** 2


schedule_path = SchedulePath(a=warp, s=lambda t: 1 - (1 - SIGMA_MIN) * warp(t))
# The same through the registry: registry.create("path", "schedule", a=warp, s=...)


# -- the path, way 2: a GaussianPath subclass with closed-form derivatives -----------------------
class WarpedOTPath(GaussianPath):
    """``x_t = k x1 + (1 - (1 - sigma_min) k) x0`` with ``k(t) = 1 - (1 - t)^2``, ``k' = 2 (1 - t)``."""

    def __init__(self, sigma_min: float = SIGMA_MIN):
        self.sigma_min = sigma_min

    def a(self, t):
        return 1 - (1 - t) ** 2

    def s(self, t):
        return 1 - (1 - self.sigma_min) * self.a(t)

    def da(self, t):  # optional: autograd through a() is the default
        return 2 * (1 - t)

    def ds(self, t):
        return -(1 - self.sigma_min) * 2 * (1 - t)


def parse_args() -> argparse.Namespace:
    parser = example_parser(__doc__, "custom_path")
    parser.add_argument("--data", default="8gaussians", help="a registered 2D data set (default 8gaussians)")
    parser.add_argument("--steps", type=int, help="training steps per path (default 5000, 50 with --fast)")
    return parser.parse_args()


def check_agreement(path_a: GaussianPath, path_b: GaussianPath) -> float:
    """Largest difference between the conditional fields of two paths on random inputs."""
    generator = torch.Generator().manual_seed(0)
    x, x1 = torch.randn(256, 2, generator=generator), torch.randn(256, 2, generator=generator)
    t = torch.rand(256, generator=generator) * 0.99
    field_a = path_a.conditional_vector_field(x=x, x1=x1, t=t)
    field_b = path_b.conditional_vector_field(x=x, x1=x1, t=t)
    return float((field_a - field_b).abs().max())


def train(path: GaussianPath, train_x: torch.Tensor, *, steps: int, device: torch.device) -> torch.nn.Module:
    """CFM on ``path`` with AdamW, a linear warm-up then cosine decay, and an EMA of the weights."""
    torch.manual_seed(0)  # the same initial weights for every path
    model = registry.create("model", "mlp", dim=2, width=256, depth=3).to(device)
    ema = registry.create("model", "mlp", dim=2, width=256, depth=3).to(device)
    ema.load_state_dict(model.state_dict())
    objective = ConditionalFlowMatching(path=path)  # or registry.create("objective", "cfm", path=path)
    optimizer = torch.optim.AdamW(model.parameters(), lr=2e-3)
    warmup = max(1, steps // 20)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer,
        lambda k: min(1.0, (k + 1) / warmup) * 0.5 * (1 + math.cos(math.pi * k / steps)),
    )
    generator = torch.Generator(device).manual_seed(0)
    decay = 0.999 if steps >= 1000 else 0.9
    with shape_checks(False):  # the runtime shape checks cost time in a hot loop
        for _ in range(steps):
            x1 = train_x[torch.randint(len(train_x), (256,), device=device, generator=generator)]
            loss = objective.loss(model=model, x1=x1, generator=generator)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            with torch.no_grad():
                for p_ema, p in zip(ema.parameters(), model.parameters()):
                    p_ema.lerp_(p, 1 - decay)
    print(f"  {type(path).__name__}: final loss {loss.item():.4f}")
    return ema.eval()


def main() -> None:
    args = parse_args()
    steps = args.steps or (50 if args.fast else 5000)
    n = 500 if args.fast else 4000
    device = resolve_device(args.device)
    args.out.mkdir(parents=True, exist_ok=True)

    difference = check_agreement(schedule_path, WarpedOTPath())
    print(f"schedule (autograd) vs subclass (closed form): max field difference {difference:.2e}")
    if difference > 1e-4:
        raise SystemExit("the two constructions of the path disagree")

    data = registry.create("dataset", args.data, n_train=50_000, n_test=n)
    train_x, test_x = data.split("train").x.to(device), data.split("test").x.to(device)
    paths = {"OT path": ConditionalOTPath(sigma_min=SIGMA_MIN), "warped OT path": WarpedOTPath()}
    prior_draws = paths["OT path"].prior.sample((n, 2), device=device, generator=torch.Generator(device).manual_seed(1))

    results: dict[str, dict[str, float]] = {}
    samples: dict[str, dict[int, torch.Tensor]] = {}
    for name, path in paths.items():
        model = train(path, train_x, steps=steps, device=device)
        results[name], samples[name] = {}, {}
        for k in EULER_STEPS:
            solver = registry.create("solver", "euler", steps=k)
            with torch.no_grad():
                x = solver.solve(model, prior_draws).x
            samples[name][k] = x.cpu()
            results[name][f"euler-{k}"] = float(energy_distance(x, test_x))
        with torch.no_grad():
            x = registry.create("solver", "rk4", steps=50).solve(model, prior_draws).x
        results[name]["rk4-50"] = float(energy_distance(x, test_x))
        print(f"  {name}: energy distance " + ", ".join(f"{key} {value:.4f}" for key, value in results[name].items()))

    figure = Figure(figsize=(2.5 * (len(EULER_STEPS) + 1), 2.6 * len(paths) + 0.4), layout="constrained")
    axes = figure.subplots(len(paths), len(EULER_STEPS) + 1)
    t = torch.linspace(0, 1, 101)
    for row, (name, path) in zip(axes, paths.items()):
        row[0].plot(t, path.a(t), label="a(t)", color="#1f5fa8")
        row[0].plot(t, path.s(t), label="s(t)", color="#c0392b")
        row[0].set_title(name, fontsize=10)
        row[0].set_xlabel("t", fontsize=8)
        row[0].legend(fontsize=8)
        for axis, k in zip(row[1:], EULER_STEPS):
            x = samples[name][k].numpy()
            axis.scatter(x[:, 0], x[:, 1], s=1.0, alpha=0.5, linewidths=0, color="#1f5fa8", rasterized=True)
            axis.set_xlim(-4.5, 4.5)
            axis.set_ylim(-4.5, 4.5)
            axis.set_aspect("equal")
            axis.set_title(f"Euler {k}: ED {results[name][f'euler-{k}']:.3f}", fontsize=9)
        for axis in row:
            axis.tick_params(labelsize=7)
    figure.suptitle(
        f"{args.data}, {steps} training steps per path: samples by Euler steps "
        "(ED: energy distance to held-out data, lower is better)",
        fontsize=10,
    )
    FigureCanvasAgg(figure)
    figure.savefig(args.out / "paths.png", dpi=110)
    metrics = {"steps": steps, "schedule_vs_subclass_max_difference": difference, "energy_distance": results}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {args.out}/paths.png, metrics.json")


if __name__ == "__main__":
    main()
