"""The command line every example shares: ``--out``, ``--device`` and ``--fast``.

Imported by the example scripts (``python examples/<name>.py`` puts this folder on the import path).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path


def example_parser(doc: str, name: str) -> argparse.ArgumentParser:
    """A parser described by the first paragraph of ``doc`` with the shared options; add the script's own.

    ``--out`` defaults to ``runs/<name>``; ``--fast`` (a reduced budget) defaults to on when the
    environment variable ``FLOWKIT_EXAMPLES_FAST`` is ``1``, as in the test suite.
    """
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("runs") / name, help="output directory")
    parser.add_argument("--device", default="auto", help="auto (CUDA, then MPS, then CPU), cpu, cuda, ...")
    parser.add_argument(
        "--fast",
        action="store_true",
        default=os.environ.get("FLOWKIT_EXAMPLES_FAST") == "1",
        help="a few seconds' budget (default when FLOWKIT_EXAMPLES_FAST=1)",
    )
    return parser
