"""``flowkit train CONFIG --out DIR [--resume]``: train a pipeline described by a TOML/JSON file.

The run directory ``DIR`` receives ``checkpoint/`` (every ``train.checkpoint_every`` steps and at
the end, written atomically), ``metrics.jsonl`` (the training log) and what the configured
``callbacks`` write (``tensorboard/`` for ``callbacks = ["tensorboard"]``). ``--resume`` continues
the run in ``DIR`` from its checkpoint, exactly as if it had not stopped; the CONFIG may change the
``[train]`` and ``[eval]`` settings (e.g. more steps), the callbacks and the device, nothing else; fewer steps than the checkpoint has taken is an error, and
a changed step count is stated with its effect on the learning-rate schedule. Without
``--resume`` a directory holding a checkpoint is refused; a fresh run moves an old
``metrics.jsonl`` aside. Ctrl-C (SIGINT) or ``kill`` (SIGTERM) finishes the current step, writes
a checkpoint and says which step it kept (exit status 130 / 143); a second signal aborts at once,
leaving the previous checkpoint. Under ``torchrun`` every process runs this same command and
trains with DistributedDataParallel; rank 0 writes the files, and a signal to any process stops
all of them at the same step.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flowkit.exceptions import CheckpointError, ConfigError

FIXED_KEYS = ("path", "coupling", "objective", "model", "solver", "data", "seed")
"""Top-level config keys a resumed run may not change."""


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train",
        help="train a pipeline from a TOML/JSON config",
        description="Train the pipeline described by CONFIG (a .toml or .json file) and write the checkpoint "
        "and training log to --out. With --resume, continue the run found in --out.",
    )
    parser.add_argument("config", type=Path, metavar="CONFIG", help="pipeline configuration (.toml or .json)")
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="run directory")
    parser.add_argument(
        "--resume", action="store_true", help="continue the run in DIR from its checkpoint (start it if there is none)"
    )
    parser.add_argument("--steps", type=int, help="total training steps (overrides train.steps)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def _say(message: str) -> None:
    """Print on rank 0 only (``RANK`` is set by ``torchrun``)."""
    if os.environ.get("RANK", "0") == "0":
        print(f"flowkit train: {message}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    from flowkit.pipeline import Pipeline, PipelineConfig
    from flowkit.pipeline.checkpoint import CHECKPOINT_DIR, locate_checkpoint
    from flowkit.pipeline.config import config_differences
    from flowkit.pipeline.distributed import leave_process_group

    config = PipelineConfig.load(args.config)
    if args.steps is not None:
        config = config.with_train(steps=args.steps)
    checkpoint_dir = args.out / CHECKPOINT_DIR
    try:
        existing = locate_checkpoint(args.out)
    except CheckpointError:
        existing = None
    if existing is None and checkpoint_dir.exists():
        existing = checkpoint_dir  # present but incomplete: let loading explain what is wrong
    try:
        if existing is not None and not args.resume:
            raise ConfigError(
                f"{args.out} already holds a checkpoint ({existing}); pass --resume to continue it "
                "or choose another --out"
            )
        if existing is not None:
            pipeline = Pipeline.load(existing, device=config.device)
            changed = config_differences(pipeline.config, config)
            fixed = [key for key in changed if key.split(".")[0] in FIXED_KEYS]
            if fixed:
                raise ConfigError(
                    f"{args.config} differs from the checkpoint in {existing} in {', '.join(fixed)}; a resumed "
                    f"run cannot change {', '.join(FIXED_KEYS)}. Use another --out for a new run"
                )
            if config.train.steps < pipeline.step:
                raise ConfigError(
                    f"the checkpoint in {existing} is at step {pipeline.step} but train.steps is "
                    f"{config.train.steps}; a run cannot be shortened: ask for at least {pipeline.step} steps "
                    "(--steps) or use another --out"
                )
            if changed:
                _say(f"applying changed settings: {', '.join(changed)}")
                pipeline.config = config
            if pipeline.step == config.train.steps:
                _say(f"{existing} is already at step {pipeline.step} of {config.train.steps}; nothing to train")
                return 0
            _say(f"resuming {existing} at step {pipeline.step} of {pipeline.config.train.steps}")
        else:
            if args.resume:
                _say(f"no checkpoint in {args.out}; starting a new run")
            pipeline = Pipeline(config)
            _say(f"{pipeline}")
        pipeline.fit(out=args.out, progress=False if args.no_progress else None)
        _say(f"trained to step {pipeline.step}; checkpoint in {checkpoint_dir}")
    finally:
        leave_process_group()
    return 0
