"""Class-conditional Flow Matching on 8x8 digits with classifier-free guidance.

What it shows:

- a class-conditional U-Net (``conditional-unet``) trained with CFM on the built-in ``digits``
  data set (scikit-learn's 8x8 digits, 17 grey levels, 10 classes); condition dropout (10% of
  the labels replaced by the null token) teaches the same network the unconditional field;
- sampling a chosen class with classifier-free guidance,
  ``v_w = v(t, x | null) + w (v(t, x | y) - v(t, x | null))``, at ``w = 0`` (unconditional),
  ``1`` (conditional) and above;
- what guidance buys and costs, measured: the fraction of samples that a 5-nearest-neighbour
  classifier on the training digits assigns to the requested class (fidelity) and the mean
  distance between samples of one class (diversity), next to the same numbers for real digits.

Run (from the repository root)::

    python examples/conditional_digits.py                  # full budget, 10-20 minutes on a CPU
    python examples/conditional_digits.py --fast           # seconds (also FLOWKIT_EXAMPLES_FAST=1)
    python examples/conditional_digits.py --device cuda    # about a minute on a GPU

Writes to ``--out`` (default ``runs/conditional_digits``): ``class_0.png`` ... ``class_9.png``
(one grid per class: a row per guidance scale, the same prior draws in every row), ``grid.png``
(every class at one guidance scale beside real digits), ``metrics.json`` and the training run
``run/`` (``metrics.jsonl``, ``checkpoint/``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch
from _common import example_parser
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from flowkit.pipeline import Pipeline

GUIDANCE_SCALES = (0.0, 1.0, 2.0, 4.0)


def parse_args() -> argparse.Namespace:
    parser = example_parser(__doc__, "conditional_digits")
    parser.add_argument("--steps", type=int, help="training steps (default 2500, 30 with --fast)")
    parser.add_argument("--guidance", type=float, default=2.0, help="guidance scale of grid.png (default 2)")
    return parser.parse_args()


def knn_predict(x: torch.Tensor, reference: torch.Tensor, labels: torch.Tensor, k: int = 5) -> torch.Tensor:
    """Majority label of the ``k`` nearest reference images (Euclidean distance on pixels)."""
    distances = torch.cdist(x.flatten(1), reference.flatten(1))
    neighbours = labels[distances.topk(k, largest=False).indices]  # [n, k]
    return torch.mode(neighbours, dim=1).values


def mean_pairwise_distance(x: torch.Tensor) -> float:
    """Mean Euclidean distance between distinct images of ``x`` (a diversity measure)."""
    distances = torch.cdist(x.flatten(1), x.flatten(1))
    n = x.shape[0]
    return float(distances.sum() / (n * (n - 1)))


def show(axis, image: torch.Tensor) -> None:
    axis.imshow(image.squeeze(0).clamp(-1, 1).cpu().numpy(), cmap="gray_r", vmin=-1, vmax=1)
    axis.set_xticks([])
    axis.set_yticks([])


def save(figure: Figure, path: Path) -> None:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=100)


def class_grid(samples: dict[float, torch.Tensor], digit: int, path: Path) -> None:
    """One row per guidance scale; column j uses the same prior draw in every row."""
    columns = next(iter(samples.values())).shape[0]
    figure = Figure(figsize=(0.75 * columns + 0.9, 0.8 * len(samples) + 0.5), layout="constrained")
    axes = figure.subplots(len(samples), columns, squeeze=False)
    for row, (scale, images) in zip(axes, samples.items()):
        for axis, image in zip(row, images):
            show(axis, image)
        row[0].set_ylabel(f"w = {scale:g}", rotation=0, ha="right", va="center", fontsize=10)
    figure.suptitle(f"digit {digit}: rows w = 0 (unconditional) ... {max(samples):g}; same x0 per column", fontsize=10)
    save(figure, path)


def overview_grid(samples: torch.Tensor, real: torch.Tensor, scale: float, path: Path) -> None:
    """Rows: classes; left panel: samples at guidance ``scale``; right panel: real test digits."""
    classes, generated, shown = samples.shape[0], samples.shape[1], real.shape[1]
    figure = Figure(figsize=(0.7 * (generated + shown) + 1.2, 0.7 * classes + 0.5), layout="constrained")
    left, right = figure.subfigures(1, 2, width_ratios=[generated + 0.4, shown], wspace=0.04)
    for panel, images, title in (
        (left, samples, f"generated, guidance w = {scale:g}"),
        (right, real, "real (held out)"),
    ):
        axes = panel.subplots(classes, images.shape[1], squeeze=False)
        for digit in range(classes):
            for axis, image in zip(axes[digit], images[digit]):
                show(axis, image)
        panel.suptitle(title, fontsize=10)
    for digit, axis in enumerate(left.axes[::generated]):
        axis.set_ylabel(str(digit), rotation=0, ha="right", va="center", fontsize=10)
    save(figure, path)


def main() -> None:
    args = parse_args()
    steps = args.steps or (30 if args.fast else 2500)
    per_class = 4 if args.fast else 60  # samples per class and scale for the measurements
    columns = 4 if args.fast else 12  # samples per row in the figures
    args.out.mkdir(parents=True, exist_ok=True)

    pipeline = Pipeline(
        {
            "path": {"name": "ot", "sigma_min": 1e-4},
            "objective": "cfm",
            "model": {
                "name": "conditional-unet",  # num_classes = 10 comes from the data set
                "base_channels": 32,
                "channel_mult": [1, 2],  # 8x8 and 4x4
                "num_res_blocks": 1,
                "attention_resolutions": [4],
                "condition_dropout": 0.1,  # learn v(t, x | null) too: needed for guidance
            },
            "solver": {"name": "midpoint", "steps": 2 if args.fast else 20},
            "data": "digits",
            "device": args.device,
            "train": {
                "steps": steps,
                "batch_size": 32 if args.fast else 128,
                "lr": 2e-3,
                "warmup_steps": min(100, steps // 10),
                "ema_decay": 0.9 if args.fast else 0.999,
                "log_every": max(1, min(250, steps // 4)),
            },
        }
    )
    print(pipeline)
    history = pipeline.fit(out=args.out / "run")
    print(f"trained {pipeline.step} steps, final loss {history[-1]['loss']:.4f}")

    train, test = pipeline.dataset.split("train"), pipeline.dataset.split("test")
    train_x, train_y = train.x.to(pipeline.device), train.y.to(pipeline.device)
    test_x, test_y = test.x.to(pipeline.device), test.y.to(pipeline.device)

    # Sample every class at every guidance scale from the same prior draws.
    x0 = pipeline.prior_sample(per_class, generator=torch.Generator(pipeline.device).manual_seed(0))
    samples: dict[int, dict[float, torch.Tensor]] = {}
    for digit in range(10):
        samples[digit] = {w: pipeline.flow(x0, y=digit, guidance=w).x for w in GUIDANCE_SCALES}
        class_grid({w: s[:columns] for w, s in samples[digit].items()}, digit, args.out / f"class_{digit}.png")

    # Fidelity (kNN accuracy on the requested label) and diversity (mean distance within a class).
    metrics: dict[str, object] = {"steps": pipeline.step, "samples_per_class": per_class}
    real_accuracy = float((knn_predict(test_x, train_x, train_y) == test_y).float().mean())
    real_diversity = float(np.mean([mean_pairwise_distance(test_x[test_y == d]) for d in range(10)]))
    metrics["real"] = {"knn_accuracy": real_accuracy, "mean_pairwise_distance": real_diversity}
    for w in GUIDANCE_SCALES:
        generated = torch.stack([samples[d][w] for d in range(10)])  # [10, per_class, 1, 8, 8]
        labels = torch.arange(10, device=pipeline.device).repeat_interleave(per_class)
        accuracy = float((knn_predict(generated.flatten(0, 1), train_x, train_y) == labels).float().mean())
        diversity = float(np.mean([mean_pairwise_distance(generated[d]) for d in range(10)]))
        metrics[f"guidance_{w:g}"] = {"knn_accuracy": accuracy, "mean_pairwise_distance": diversity}
        print(f"  w = {w:g}: kNN accuracy {accuracy:.3f}, mean pairwise distance {diversity:.2f}")
    print(f"  real digits: kNN accuracy {real_accuracy:.3f}, mean pairwise distance {real_diversity:.2f}")

    # Overview: every class at the chosen scale, beside real held-out digits.
    x0_grid = pipeline.prior_sample(columns, generator=torch.Generator(pipeline.device).manual_seed(1))
    grid = torch.stack([pipeline.flow(x0_grid, y=d, guidance=args.guidance).x for d in range(10)])
    real = torch.stack([test_x[test_y == d][: max(2, columns // 3)] for d in range(10)])
    overview_grid(grid, real, args.guidance, args.out / "grid.png")

    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {args.out}/class_0.png ... class_9.png, grid.png, metrics.json")


if __name__ == "__main__":
    main()
