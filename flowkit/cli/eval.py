"""``flowkit eval DIR``: the registered metrics of a trained pipeline on its held-out data.

Prints one ``name value`` line per metric (energy distance, sliced W2, NLL in nats and bits/dim,
NFE, sampling seconds, and any metric a plugin registers); ``--json`` prints a JSON object
instead and ``--out FILE`` also writes it to FILE atomically.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flowkit.cli.sample import add_solver_argument, check_output_file
from flowkit.exceptions import ConfigError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "eval",
        help="evaluate a trained pipeline on held-out data",
        description="Compute the metrics of the pipeline saved in DIR (a run directory or a checkpoint) "
        "on its data set's held-out split.",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="run directory or checkpoint")
    parser.add_argument("--num-samples", type=int, help="generated and held-out points (default: eval.num_samples)")
    parser.add_argument(
        "--metrics", help="comma-separated metric names (default: eval.metrics, normally every registered metric)"
    )
    add_solver_argument(parser)
    parser.add_argument("--device", help="torch device (default: the checkpoint's)")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--out", type=Path, metavar="FILE", help="also write the results as JSON to FILE")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowkit import registry
    from flowkit.atomic import atomic_write_text
    from flowkit.pipeline import Pipeline

    if args.num_samples is not None and args.num_samples < 2:
        raise ConfigError(f"--num-samples must be at least 2, got {args.num_samples}")
    if args.out is not None:
        check_output_file(args.out)
    metrics = None
    if args.metrics:
        metrics = [name.strip() for name in args.metrics.split(",") if name.strip()]
        for name in metrics:
            registry.get("metric", name)
    pipeline = Pipeline.load(args.directory, device=args.device)
    print(f"flowkit eval: {pipeline}", file=sys.stderr)
    results = pipeline.evaluate(num_samples=args.num_samples, metrics=metrics, solver=args.solver)
    text = json.dumps(results, indent=2)
    if args.out is not None:
        atomic_write_text(args.out, text + "\n")
    if args.json:
        print(text)
    else:
        width = max(len(name) for name in results) if results else 0
        for name, value in results.items():
            print(f"{name:<{width}}  {value:.6g}")
    return 0
