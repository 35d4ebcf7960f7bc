"""Quickstart: compose a Flow Matching pipeline, train it on a 2D toy, sample, and plot.

What it shows:

- a pipeline composed from registered components by name — the OT path of Lipman et al.
  (2023), independent coupling, the CFM objective, an MLP vector field and an RK4 solver — on a
  built-in 2D data set;
- ``Pipeline.fit`` with a run directory (``metrics.jsonl`` and a checkpoint), ``sample``,
  ``flow`` with trajectory times, and ``evaluate`` (energy distance, sliced W2, held-out NLL);
- how few Euler steps the straight OT path needs: samples with 1, 2, 4, 8 Euler steps and RK4.

Run (from the repository root)::

    python examples/quickstart_2d.py                       # full budget, about a minute on a CPU
    python examples/quickstart_2d.py --fast                # seconds (also FLOWKIT_EXAMPLES_FAST=1)
    python examples/quickstart_2d.py --data moons --out runs/moons

Writes to ``--out`` (default ``runs/quickstart_2d``): ``samples.png`` (samples beside held-out
data), ``trajectories.png`` (the flow from t = 0 to 1), ``few_steps.png`` (samples by solver
budget), ``metrics.json`` and the training run ``run/`` (``metrics.jsonl``, ``checkpoint/``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from _common import example_parser
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowkit.pipeline import Pipeline
from flowkit.plotting import plot_samples, plot_trajectories

TOYS = ("checkerboard", "8gaussians", "2d-mixture", "moons", "circles", "spirals", "swissroll")


def parse_args() -> argparse.Namespace:
    parser = example_parser(__doc__, "quickstart_2d")
    parser.add_argument("--data", default="checkerboard", choices=TOYS, help="2D data set (default checkerboard)")
    parser.add_argument("--steps", type=int, help="training steps (default 6000, 60 with --fast)")
    return parser.parse_args()


def few_step_figure(pipeline: Pipeline, path: Path, n: int) -> dict[str, float]:
    """Samples from the same prior draws with Euler at 1, 2, 4, 8 steps and with RK4 (50 steps)."""
    x0 = pipeline.prior_sample(n, generator=torch.Generator(pipeline.device).manual_seed(1))
    settings = [("euler", 1), ("euler", 2), ("euler", 4), ("euler", 8), ("rk4", 50)]
    figure = Figure(figsize=(2.8 * len(settings), 3.1), layout="constrained")
    axes = figure.subplots(1, len(settings), sharex=True, sharey=True)
    nfe = {}
    for axis, (name, steps) in zip(axes, settings):
        solution = pipeline.flow(x0, solver={"name": name, "steps": steps})
        x = solution.x.cpu().numpy()
        axis.scatter(x[:, 0], x[:, 1], s=1.5, alpha=0.5, linewidths=0, color="#1f5fa8", rasterized=True)
        axis.set_title(f"{name}, {steps} step{'s' if steps > 1 else ''} (NFE {solution.nfe})", fontsize=10)
        axis.set_xlim(-4.5, 4.5)
        axis.set_ylim(-4.5, 4.5)
        axis.set_aspect("equal")
        axis.tick_params(labelsize=7)
        nfe[f"{name}-{steps}"] = solution.nfe
    figure.suptitle("The same prior draws, integrated with a growing solver budget", fontsize=11)
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)
    return nfe


def main() -> None:
    args = parse_args()
    steps = args.steps or (60 if args.fast else 6000)
    num_samples = 300 if args.fast else 4000
    args.out.mkdir(parents=True, exist_ok=True)

    # 1. Compose: every component is looked up by kind and name in the registry.
    pipeline = Pipeline(
        {
            "path": {"name": "ot", "sigma_min": 1e-4},  # x_t = t x1 + (1 - (1 - sigma_min) t) x0
            "coupling": "independent",  # (x0, x1) ~ p0 x q, as in the paper
            "objective": "cfm",  # E || v(t, x_t) - (x1 - (1 - sigma_min) x0) ||^2
            "model": {"name": "mlp", "width": 256, "depth": 4},
            "solver": {"name": "rk4", "steps": 8 if args.fast else 50},
            "data": {"name": args.data, "n_train": 50_000, "n_test": num_samples},
            "device": args.device,
            "seed": 0,
            "train": {
                "steps": steps,
                "batch_size": 512,
                "lr": 2e-3,
                "warmup_steps": min(200, steps // 10),
                "ema_decay": 0.999 if not args.fast else 0.9,
                "log_every": max(1, min(500, steps // 4)),
            },
            "eval": {"num_samples": num_samples},
        }
    )
    print(pipeline)

    # 2. Train: metrics go to run/metrics.jsonl, the checkpoint to run/checkpoint/.
    history = pipeline.fit(out=args.out / "run")
    print(f"trained {pipeline.step} steps, final loss {history[-1]['loss']:.4f}")

    # 3. Sample and plot.
    held_out = pipeline.dataset.split("test").x
    samples = pipeline.sample(num_samples, generator=torch.Generator(pipeline.device).manual_seed(0))
    plot_samples(samples, held_out, args.out / "samples.png", title=f"OT-CFM on {args.data}, {steps} steps")
    times = torch.linspace(0.0, 1.0, 11 if args.fast else 41)
    solution = pipeline.flow(pipeline.prior_sample(num_samples), trajectory_times=times)
    plot_trajectories(
        solution.trajectory,
        solution.times,
        args.out / "trajectories.png",
        title="The learned flow from the prior (t = 0) to the data (t = 1)",
    )
    nfe = few_step_figure(pipeline, args.out / "few_steps.png", num_samples)

    # 4. Evaluate on held-out data; compare with the data's own NLL where the density is known.
    metrics = pipeline.evaluate(metrics=["energy-distance", "sliced-w2", "nll"])
    if pipeline.dataset.has_density:
        metrics["data_nll_nats"] = float(-pipeline.dataset.log_prob(held_out).mean())
    metrics["few_step_nfe"] = nfe
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    for key, value in metrics.items():
        print(f"  {key}: {value:.4f}" if isinstance(value, float) else f"  {key}: {value}")
    print(f"wrote {args.out}/samples.png, trajectories.png, few_steps.png, metrics.json")


if __name__ == "__main__":
    main()
