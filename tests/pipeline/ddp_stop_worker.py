"""One process of the two-process stop test (launched by ``torch.distributed.run``).

Writes its pid to ``<dir>/pid-rank<r>``, trains with ``out=<dir>/run`` (rank 0 writes) until a
signal stops it, and records where it stopped in ``<dir>/stopped-rank<r>.json``.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from flowkit.exceptions import TrainingInterrupted
from flowkit.pipeline import Pipeline

CONFIG = {
    "model": {"name": "mlp", "width": 16, "depth": 2},
    "solver": {"name": "euler", "steps": 4},
    "data": {"name": "checkerboard", "n_train": 512, "n_test": 64},
    "device": "cpu",
    "train": {"steps": 100_000, "batch_size": 64, "warmup_steps": 2, "log_every": 1, "checkpoint_every": 0},
}


def main() -> None:
    out = Path(sys.argv[1])
    rank = int(os.environ["RANK"])
    pipeline = Pipeline(CONFIG)
    (out / f"pid-rank{rank}").write_text(str(os.getpid()))
    try:
        pipeline.fit(out=out / "run", progress=False)
    except TrainingInterrupted as stop:
        result = {"step": stop.step, "signal": stop.signal, "checkpoint_step": stop.checkpoint_step}
        (out / f"stopped-rank{rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
