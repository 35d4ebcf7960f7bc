"""Log-likelihoods of trained flows: exact divergence versus Hutchinson's estimator, nats and bits/dim.

A flow's log-density comes from the instantaneous change of variables,
``log p1(x) = log p0(x0) - int_0^1 div v(t, x_t) dt``, integrated from the data (t = 1) back to
the prior (t = 0). What it shows:

1. **A 2D mixture with a known density** (``8gaussians``): the model's density on a grid beside
   the true one, and the held-out NLL of the model next to the data's own (their difference
   estimates ``KL(q || p_model) >= 0``).
2. **Digits as 64-dimensional vectors** (your own tensors in ``TensorData`` with ``num_bins=17``):
   bits/dim of dequantised held-out digits from ``Pipeline.log_prob``, and the exact divergence
   against Hutchinson's estimate with K = 1, 4, 16 probes (``flowkit.likelihood.log_prob``):
   per-point agreement, spread over probe draws (it shrinks like ``1/sqrt(K)``) and time.

The same fixed-step solver (RK4) is used for every estimate, so the Hutchinson estimates are
unbiased for exactly the quantity that the exact divergence computes.

Run (from the repository root)::

    python examples/likelihood.py                      # full budget, a few minutes on a CPU
    python examples/likelihood.py --fast               # seconds (also FLOWKIT_EXAMPLES_FAST=1)

Writes to ``--out`` (default ``runs/likelihood``): ``density.png`` (true and model density),
``hutchinson.png`` (estimates against the exact value, spread against K) and ``metrics.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path

import torch
from _common import example_parser
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, NullFormatter

from flowkit.data import Digits, TensorData, dequantize
from flowkit.likelihood import bits_per_dim, log_prob
from flowkit.pipeline import Pipeline

PROBES = (1, 4, 16)


def parse_args() -> argparse.Namespace:
    return example_parser(__doc__, "likelihood").parse_args()


def train(config: dict, steps: int, device: str, data=None) -> Pipeline:
    config = {
        **config,
        "device": device,
        "train": {
            "steps": steps,
            "batch_size": 256,
            "lr": 2e-3,
            "warmup_steps": min(100, steps // 10),
            "ema_decay": 0.999 if steps >= 1000 else 0.9,
            "log_every": max(1, min(500, steps // 4)),
        },
    }
    pipeline = Pipeline(config, data=data)
    history = pipeline.fit()
    print(f"  {pipeline}: final loss {history[-1]['loss']:.4f}")
    return pipeline


def save(figure: Figure, path: Path) -> None:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=110)


# -- 1. a 2D density -----------------------------------------------------------------------------
def density_2d(args: argparse.Namespace, fast: bool) -> dict[str, float]:
    print("1. 8 Gaussians: model density against the true density")
    pipeline = train(
        {
            "model": {"name": "mlp", "width": 256, "depth": 3},
            "solver": {"name": "rk4", "steps": 8 if fast else 32},
            "data": {"name": "8gaussians", "n_train": 50_000, "n_test": 2_000},
        },
        steps=40 if fast else 4000,
        device=args.device,
    )
    data = pipeline.dataset
    held_out = data.split("test").x[: 100 if fast else 2000]
    model_nll = float(-pipeline.log_prob(held_out, divergence="exact").log_prob_nats.mean())
    data_nll = float(-data.log_prob(held_out).mean())

    side = 30 if fast else 160
    axis = torch.linspace(-4.0, 4.0, side)
    grid = torch.cartesian_prod(axis, axis)  # rows: (x, y) with x varying slowest
    model_density = torch.cat(
        [pipeline.log_prob(chunk, divergence="exact").log_prob_nats.exp().cpu() for chunk in grid.split(4096)]
    )
    true_density = data.log_prob(grid).exp()
    figure = Figure(figsize=(9.6, 4.6), layout="constrained")
    panels = figure.subplots(1, 2, sharex=True, sharey=True)
    vmax = float(true_density.max())
    for panel, density, title in (
        (panels[0], true_density, "true density q(x)"),
        (panels[1], model_density, f"model density p1(x), NLL {model_nll:.3f} nats"),
    ):
        image = panel.imshow(
            density.reshape(side, side).T.clamp_min(vmax * 1e-4).numpy(),
            origin="lower",
            extent=(-4, 4, -4, 4),
            cmap="magma",
            norm=LogNorm(vmin=vmax * 1e-4, vmax=vmax),
        )
        panel.set_title(title, fontsize=10)
    figure.colorbar(image, ax=panels, shrink=0.85, label="density (log scale)")
    figure.suptitle(f"8 Gaussians: held-out NLL of the data under q is {data_nll:.3f} nats", fontsize=11)
    save(figure, args.out / "density.png")
    print(
        f"  held-out NLL: model {model_nll:.4f} nats, true density {data_nll:.4f} nats "
        f"(KL(q || p) estimate {model_nll - data_nll:.4f})"
    )
    return {"model_nll_nats": model_nll, "data_nll_nats": data_nll, "kl_estimate_nats": model_nll - data_nll}


# -- 2. exact against Hutchinson in 64 dimensions ------------------------------------------------
def digits_64d(args: argparse.Namespace, fast: bool) -> dict[str, object]:
    print("2. digits as 64-D vectors: bits/dim, exact divergence against Hutchinson")
    digits = Digits()
    x = torch.cat([digits.split("train").x, digits.split("test").x]).flatten(1)  # [1797, 64] bin centres
    data = TensorData(x, test_fraction=297 / 1797, num_bins=digits.num_bins)  # dequantised in training
    pipeline = train(
        {"model": {"name": "mlp", "width": 512, "depth": 3}, "solver": {"name": "rk4", "steps": 4 if fast else 20}},
        steps=40 if fast else 5000,
        device=args.device,
        data=data,
    )
    points = 16 if fast else 297
    x_test = dequantize(data.split("test").x[:points], data.num_bins, generator=torch.Generator().manual_seed(0))
    x_test = x_test.to(pipeline.device)
    dims = x_test.shape[1]

    start = time.perf_counter()
    exact = pipeline.log_prob(x_test, divergence="exact")
    exact_seconds = time.perf_counter() - start
    exact_bpd = float(exact.nll_bits_per_dim.mean())
    print(
        f"  exact: {exact_bpd:.3f} bits/dim (uniform on [-1, 1]^64 would be {math.log2(data.num_bins):.3f}), "
        f"NFE {exact.nfe}, {exact_seconds:.1f} s"
    )

    model = pipeline.ema_model.eval()
    prior, solver = pipeline.path.prior, pipeline.solver
    draws = 2 if fast else 8
    results: dict[str, object] = {
        "points": points,
        "dims": dims,
        "exact": {"bits_per_dim": exact_bpd, "seconds": exact_seconds},
    }
    estimates: dict[int, torch.Tensor] = {}
    for k in PROBES:
        start = time.perf_counter()
        runs = torch.stack(
            [
                log_prob(
                    model,
                    x_test,
                    prior=prior,
                    solver=solver,
                    divergence="hutchinson",
                    probes=k,
                    generator=torch.Generator(pipeline.device).manual_seed(1000 * k + r),
                )
                for r in range(draws)
            ]
        )  # [draws, points] nats
        seconds = (time.perf_counter() - start) / draws
        estimates[k] = runs.cpu()
        bpd = bits_per_dim(runs, dims, data.num_bins).mean(dim=1)  # data-set bits/dim per draw
        spread = float(runs.std(dim=0).mean())  # per-point std over draws, averaged over points
        results[f"hutchinson_{k}"] = {
            "bits_per_dim_mean": float(bpd.mean()),
            "bits_per_dim_std": float(bpd.std()),
            "per_point_std_nats": spread,
            "seconds": seconds,
        }
        print(
            f"  Hutchinson, K = {k:2d}: {float(bpd.mean()):.3f} +- {float(bpd.std()):.3f} bits/dim over {draws} "
            f"draws; per-point std {spread:.2f} nats; {seconds:.1f} s per solve"
        )

    figure = Figure(figsize=(10.5, 4.4), layout="constrained")
    left, right = figure.subplots(1, 2)
    reference = exact.log_prob_nats.cpu().numpy()
    for k, color in zip(PROBES, ("#c0392b", "#e69f00", "#1f5fa8")):
        left.scatter(reference, estimates[k][0].numpy(), s=7, alpha=0.6, color=color, linewidths=0, label=f"K = {k}")
    low, high = float(reference.min()), float(reference.max())
    left.plot([low, high], [low, high], color="black", linewidth=0.8, label="exact")
    left.set_xlabel("log p(x), exact divergence [nats]")
    left.set_ylabel("log p(x), Hutchinson (one probe draw) [nats]")
    left.set_title(f"{points} held-out digits, D = {dims}", fontsize=10)
    left.legend(fontsize=8)
    spreads = [results[f"hutchinson_{k}"]["per_point_std_nats"] for k in PROBES]
    right.loglog(PROBES, spreads, "o-", color="#1f5fa8", label="measured")
    right.loglog(PROBES, [spreads[0] / math.sqrt(k) for k in PROBES], "--", color="gray", label="1/sqrt(K)")
    right.set_xticks(PROBES, [str(k) for k in PROBES])
    right.yaxis.set_major_locator(FixedLocator(spreads))
    right.yaxis.set_major_formatter(lambda value, _: f"{value:.2f}")
    right.yaxis.set_minor_formatter(NullFormatter())
    right.xaxis.set_minor_formatter(NullFormatter())
    right.set_xlabel("probes K")
    right.set_ylabel("per-point std over probe draws [nats]")
    right.set_title("Hutchinson noise against the number of probes", fontsize=10)
    right.legend(fontsize=8)
    figure.suptitle(
        f"Exact: {exact_bpd:.3f} bits/dim; Hutchinson K = 1: "
        f"{results['hutchinson_1']['bits_per_dim_mean']:.3f} bits/dim (mean of {draws} draws)",
        fontsize=11,
    )
    save(figure, args.out / "hutchinson.png")
    return results


def main() -> None:
    args = parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    metrics = {"8gaussians": density_2d(args, args.fast), "digits_64d": digits_64d(args, args.fast)}
    (args.out / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"wrote {args.out}/density.png, hutchinson.png, metrics.json")


if __name__ == "__main__":
    main()
