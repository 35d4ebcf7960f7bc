"""The ``flowkit`` command: one sub-command per module in :data:`COMMAND_MODULES`.

Each command module provides ``add_parser(subparsers)``, which adds its sub-parser and sets
``func`` to the function that runs it (``func(args) -> int`` exit status). Exit statuses:

- 2: a user error, a :class:`flowkit.exceptions.FlowkitError` (bad config or arguments, missing
  or corrupt checkpoint, unwritable output, a ``--import`` module that fails to import), printed
  as one clear message (argparse also uses 2);
- 130 / 143: stopped by SIGINT / SIGTERM (128 + the signal's number); a training run says which
  step its checkpoint kept;
- 1: the environment failed (an ``OSError`` such as a full disk), printed as one line;
- 141: standard output was closed early (``flowkit plugins --json | head``): the rest of the
  output is dropped silently, as a tool killed by SIGPIPE would (Python's recommended handling
  of ``BrokenPipeError``: point standard output at ``os.devnull`` so the exit flush is quiet).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Sequence

from flowkit import __version__
from flowkit.exceptions import FlowkitError, TrainingInterrupted

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
    parser.add_argument(
        "--import",
        dest="imports",
        action="append",
        default=[],
        metavar="MODULE",
        help="import MODULE before running the command, so that the components it registers with "
        "flowkit.register can be named (repeatable; give it before the command: "
        "flowkit --import my_flows train config.toml)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMAND_MODULES:
        importlib.import_module(module_name).add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``flowkit`` command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    for module_name in args.imports:
        try:
            importlib.import_module(module_name)
        except Exception as exc:  # the user's module: any failure is reported, not a traceback
            print(
                f"flowkit: error: --import {module_name}: {type(exc).__name__}: {exc}. The module must be "
                "importable from here: install it, or put its folder on PYTHONPATH",
                file=sys.stderr,
            )
            return 2
    try:
        status = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not in the interpreter's exit flush
        return status
    except BrokenPipeError:
        with contextlib.suppress(OSError, ValueError):  # stdout without a file descriptor (captured)
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 128 + getattr(signal, "SIGPIPE", 13)
    except FlowkitError as exc:
        print(f"flowkit {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except TrainingInterrupted as exc:
        resume = " (continue with --resume)" if exc.checkpoint and args.command == "train" else ""
        print(f"flowkit {args.command}: {exc}{resume}", file=sys.stderr)
        return 128 + signal.Signals[exc.signal].value if exc.signal in signal.Signals.__members__ else 130
    except KeyboardInterrupt:
        print(f"flowkit {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the environment, not the input: a full disk, a vanished mount, ...
        print(f"flowkit {args.command}: error: {exc}", file=sys.stderr)
        return 1
