"""``flowkit bench SUITE --out DIR``: run a benchmark suite (a built-in name or a TOML file).

Expands the suite's grid, trains and evaluates every cell not yet in ``DIR/results.jsonl``
(a rerun resumes), and writes ``summary.md``, ``summary.csv`` and ``plots/``. ``--workers N``
runs cells in N processes, ``--cluster ADDRESS`` on the workers of a Dask scheduler; ``--set KEY=VALUE`` overrides a suite setting (``train.steps=200``,
``axes.seed=[0]``); ``--dry-run`` lists the cells without running them; ``--list`` lists the
built-in suites. The exit status is 1 when a cell or one of its evaluations failed.
"""

from __future__ import annotations

import argparse
import shlex
import signal
import sys
from pathlib import Path


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="run a benchmark suite across combinations of components",
        description="Run a benchmark suite: train every cell of its grid once, evaluate it with every solver "
        "setting, and write results.jsonl, summary.md, summary.csv and plots to DIR. A rerun skips the "
        "cells already in DIR/results.jsonl.",
    )
    parser.add_argument("suite", nargs="?", metavar="SUITE", help="a built-in suite name or a suite .toml file")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output directory (required unless --list/--dry-run)")
    parser.add_argument("--workers", type=int, default=1, metavar="N", help="parallel worker processes (default 1)")
    parser.add_argument(
        "--threads", type=int, default=1, metavar="T", help="torch threads per worker (default 1; scale with --workers)"
    )
    parser.add_argument(
        "--cluster",
        metavar="ADDRESS",
        help="run the cells on the workers of this Dask scheduler (e.g. tcp://host:8786) instead of --workers",
    )
    parser.add_argument("--device", help='torch device for every cell (default: the suite\'s, normally "auto")')
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a suite setting with a TOML value, e.g. train.steps=200 or axes.seed=[0] (repeatable)",
    )
    parser.add_argument("--retry-failed", action="store_true", help="run the cells that failed before again")
    parser.add_argument("--no-plots", action="store_true", help="write the summary but no plots")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and exit")
    parser.add_argument("--list", action="store_true", help="list the built-in suites and exit")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowkit.bench import builtin_suites, load_suite, run_suite
    from flowkit.bench.grid import component_label
    from flowkit.exceptions import ConfigError

    if args.list:
        for name in builtin_suites():
            suite = load_suite(name)
            print(f"{name:<10} {len(suite.cells())} cells  {suite.description}")
        return 0
    if not args.suite:
        raise ConfigError("name a suite: a built-in one (see `flowkit bench --list`) or a .toml file")
    suite = load_suite(args.suite, overrides=args.overrides)
    if args.dry_run:
        cells = suite.cells(device=args.device)
        for cell in cells:
            solvers = ", ".join(component_label(s) for s in cell.solvers)
            print(f"{cell.id}  {cell.label}, seed {cell.seed}  [{len(cell.solvers)} solver settings: {solvers}]")
        print(f"{len(cells)} cells")
        return 0
    if args.out is None:
        raise ConfigError("--out DIR is required: the directory for results.jsonl, summary.md and plots")
    signal.signal(signal.SIGTERM, _interrupt)  # `kill` stops like Ctrl-C: finished cells stay saved
    command = "flowkit " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["bench"] else None
    report = run_suite(
        suite,
        args.out,
        workers=args.workers,
        threads=args.threads,
        device=args.device,
        retry_failed=args.retry_failed,
        plots=not args.no_plots,
        command=command,
        cluster=args.cluster,
    )
    print(
        f"flowkit bench: {report.cells} cells ({report.skipped} already done, "
        f"{report.ran} run in {report.seconds:.0f} s); "
        f"summary in {report.out / 'summary.md'}",
        file=sys.stderr,
    )
    if not report.ok:
        print(
            f"flowkit bench: {report.errors} cell(s) failed and {report.partial} had failing evaluations; "
            "see the Failures section of summary.md",
            file=sys.stderr,
        )
        return 1
    return 0
