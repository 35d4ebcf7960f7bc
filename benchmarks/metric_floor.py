"""Which sample size lets the 2D sample-quality metrics tell a model from the data?

For the checkerboard, prints for each sample size ``n``:

- the noise floor of the energy distance and of the sliced W2 (the ``noise-floor`` metric: the
  statistic between the held-out reference and ``n`` fresh data points, RMS / mean over 3 draws);
- the same statistics, the support fraction and the data log-density (``data-density``) of
  samples from (a) the data blurred by Gaussian noise of std ``0.2`` and ``0.4`` (square side 2),
  and (b) an OT-CFM MLP (3 x 128) trained for ``--steps`` steps (Euler, 16 steps), the budget the
  issue found visibly blurry.

A metric separates a model from the data at size ``n`` when the model's value is well above the
floor (the aim: 10x). Run: ``python benchmarks/metric_floor.py [--sizes 2000 20000] [--steps 300]``.
"""

from __future__ import annotations

import argparse

import torch

from flowkit import EvaluationContext, registry
from flowkit.pipeline import Pipeline


def scores(samples: torch.Tensor, reference: torch.Tensor, data) -> dict[str, float]:
    context = EvaluationContext(samples=samples, reference=reference)
    values = dict(registry.create("metric", "energy-distance")(context))
    values.update(registry.create("metric", "sliced-w2")(context))
    values.update(registry.create("metric", "data-density").measure(context, data))
    return values


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 5000, 20000])
    parser.add_argument("--steps", type=int, default=300)
    args = parser.parse_args()
    torch.manual_seed(0)
    largest = max(args.sizes)
    pipeline = Pipeline(
        {
            "data": {"name": "checkerboard", "n_train": 50_000, "n_test": largest},
            "model": {"name": "mlp", "width": 128, "depth": 3},
            "train": {"steps": args.steps, "batch_size": 256, "lr": 2e-3, "warmup_steps": 50, "ema_decay": 0.995},
        }
    )
    pipeline.fit(progress=False)
    data = pipeline.dataset
    model_samples = pipeline.sample(largest, solver={"name": "euler", "steps": 16})
    generator = torch.Generator().manual_seed(1)
    blur = {
        s: data.sample(largest, generator=generator).x + s * torch.randn(largest, 2, generator=generator)
        for s in (0.2, 0.4)
    }
    print(
        "| n | ED floor | SW2 floor | sample | ED | ED / floor | SW2 | SW2 / floor | support fraction | data log-density |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.sizes:
        reference = data.split("test").x[:n]
        context = EvaluationContext(samples=reference, reference=reference)
        floor = registry.create("metric", "noise-floor").measure(context, data)
        for label, samples in [
            ("blur 0.2", blur[0.2]),
            ("blur 0.4", blur[0.4]),
            (f"CFM {args.steps} steps", model_samples),
        ]:
            v = scores(samples[:n], reference, data)
            print(
                f"| {n} | {floor['energy_distance_floor']:.2e} | {floor['sliced_w2_floor']:.3f} | {label} | "
                f"{v['energy_distance']:.2e} | {v['energy_distance'] / floor['energy_distance_floor']:.1f} | "
                f"{v['sliced_w2']:.3f} | {v['sliced_w2'] / floor['sliced_w2_floor']:.1f} | "
                f"{v['support_fraction']:.3f} | {v['data_log_density']:.3f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
