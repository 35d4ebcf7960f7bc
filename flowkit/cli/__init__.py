"""The ``flowkit`` command: one sub-command per module in :data:`COMMAND_MODULES`.

Each command module provides ``add_parser(subparsers)``, which adds its sub-parser and sets
``func`` to the function that runs it (``func(args) -> int`` exit status). A
:class:`flowkit.exceptions.FlowkitError` is printed as one clear message with exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import Sequence

from flowkit import __version__
from flowkit.exceptions import FlowkitError

COMMAND_MODULES: tuple[str, ...] = (
    "flowkit.cli.plugins",
    "flowkit.cli.train",
    "flowkit.cli.sample",
    "flowkit.cli.eval",
    "flowkit.cli.demo",
    "flowkit.cli.bench",
)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``flowkit`` command with every sub-command."""
    parser = argparse.ArgumentParser(
        prog="flowkit",
        description="Flow Matching generative models: train, sample, evaluate and benchmark "
        "pipelines composed from registered components.",
    )
    parser.add_argument("--version", action="version", version=f"flowkit {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowkit`` command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except FlowkitError as exc:
        print(f"flowkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"flowkit {args.command}: interrupted", file=sys.stderr)
        return 130
