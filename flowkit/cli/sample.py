"""``flowkit sample DIR --n N --out FILE``: draw samples from a trained pipeline.

``DIR`` is a run directory (with ``checkpoint/``) or a checkpoint. The samples (EMA weights,
``x0 ~ p0`` seeded by ``--seed``, carried to t = 1 by the configured or given ODE solver, in
batches of ``--batch-size`` that do not change the result) are written atomically in the format
named by FILE's suffix:

- ``.safetensors``: tensor ``samples`` ``[N, *event_shape]`` (and ``labels`` ``[N]`` if given),
- ``.npy``: a NumPy array ``[N, *event_shape]`` (no pickle),
- ``.csv``: one sample per row, flattened, with a header ``x0,x1,...``.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
from pathlib import Path
from typing import Any

from flowkit.exceptions import ConfigError, OutputError

FORMATS = (".safetensors", ".npy", ".csv")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "sample",
        help="draw samples from a trained pipeline",
        description="Draw N samples from the pipeline saved in DIR and write them to FILE "
        "(.safetensors, .npy or .csv, chosen by the suffix).",
    )
    parser.add_argument("directory", type=Path, metavar="DIR", help="run directory or checkpoint")
    parser.add_argument("--n", type=int, required=True, help="number of samples")
    parser.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="output file: .safetensors, .npy or .csv"
    )
    add_solver_argument(parser)
    parser.add_argument("--seed", type=int, default=0, help="seed of the prior draws (default 0)")
    parser.add_argument("--label", type=int, help="class label to condition on (class-conditional models)")
    parser.add_argument("--guidance", type=float, help="classifier-free guidance scale (needs --label)")
    parser.add_argument("--batch-size", type=int, default=10_000, help="samples per solve (default 10000)")
    parser.add_argument("--device", help="torch device (default: the checkpoint's)")
    parser.set_defaults(func=run)


def add_solver_argument(parser: argparse.ArgumentParser) -> None:
    """The ``--solver`` option shared by ``sample`` and ``eval``."""
    parser.add_argument(
        "--solver",
        type=solver_spec,
        metavar="SPEC",
        help='ODE solver: a registered name (e.g. dopri5) or a JSON table such as \'{"name": "rk4", "steps": 20}\' '
        "(default: the pipeline's)",
    )


def solver_spec(text: str) -> Any:
    """A solver name, or the JSON table ``{"name": ..., **params}``."""
    if text.lstrip().startswith("{"):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"invalid JSON solver table: {exc}") from None
    return text


def check_output_file(path: Path) -> None:
    """An :class:`OutputError` unless ``path``'s directory exists and is writable (none is created)."""
    parent = path.parent
    if path.is_dir():
        raise OutputError(f"--out {path} is a directory; name a file in it")
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise OutputError(f"--out {path}: the directory {parent} {what}; create it first or choose another --out")
    if not os.access(parent, os.W_OK):
        raise OutputError(f"--out {path}: the directory {parent} is not writable")


def check_format(path: Path) -> str:
    """The suffix of ``path`` if it names one of :data:`FORMATS`, else ConfigError."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ConfigError(f"--out {path}: unknown format {suffix or '(none)'}; accepted: {', '.join(FORMATS)}")
    return suffix


def write_samples(path: Path, samples, labels=None) -> Path:
    """Write ``samples`` (and ``labels``) to ``path`` in the format of its suffix, atomically."""
    import numpy as np
    from safetensors.torch import save

    from flowkit.atomic import atomic_write_bytes

    suffix = check_format(path)
    samples = samples.detach().cpu().contiguous()
    if suffix == ".safetensors":
        tensors = {"samples": samples}
        if labels is not None:
            tensors["labels"] = labels.detach().cpu().contiguous()
        return atomic_write_bytes(path, save(tensors))
    array = samples.numpy()
    buffer = io.BytesIO()
    if suffix == ".npy":
        np.save(buffer, array, allow_pickle=False)
    else:
        flat = array.reshape(array.shape[0], -1)
        header = ",".join(f"x{i}" for i in range(flat.shape[1]))
        np.savetxt(buffer, flat, delimiter=",", header=header, comments="", fmt="%.9g")
    return atomic_write_bytes(path, buffer.getvalue())


def run(args: argparse.Namespace) -> int:
    import torch

    from flowkit.pipeline import Pipeline
    from flowkit.pipeline.seeding import generator_for

    if args.n < 1:
        raise ConfigError(f"--n must be at least 1, got {args.n}")
    if args.batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {args.batch_size}")
    check_format(args.out)
    check_output_file(args.out)
    if args.guidance is not None and args.label is None:
        raise ConfigError("--guidance needs --label (the class to guide towards)")
    pipeline = Pipeline.load(args.directory, device=args.device)
    # All prior draws first, then the solves in batches: the samples do not depend on --batch-size.
    x0 = pipeline.prior_sample(args.n, generator=generator_for(args.seed, "sample", device=pipeline.device))
    samples = torch.cat(
        [
            pipeline.flow(part, solver=args.solver, y=args.label, guidance=args.guidance).x.cpu()
            for part in x0.split(args.batch_size)
        ]
    )
    labels = None if args.label is None else torch.full((args.n,), args.label, dtype=torch.long)
    write_samples(args.out, samples, labels)
    print(f"flowkit sample: wrote {args.n} samples {list(samples.shape[1:])} to {args.out}", file=sys.stderr)
    return 0
