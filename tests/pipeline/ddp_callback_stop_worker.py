"""One process of the two-process callback-stop test (launched by ``torch.distributed.run``).

Trains with ``out=<dir>/run``; on rank 0 (the only process that runs callbacks) a callback asks to
stop at step 13. Each rank records the step it stopped at and the run's outcome in
``<dir>/stopped-rank<r>.json``; ``fit`` must return normally on both.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from flowkit import Callback
from flowkit.pipeline import Pipeline

CONFIG = {
    "model": {"name": "mlp", "width": 16, "depth": 2},
    "solver": {"name": "euler", "steps": 4},
    "data": {"name": "checkerboard", "n_train": 512, "n_test": 64},
    "device": "cpu",
    "train": {"steps": 1000, "batch_size": 64, "warmup_steps": 2, "log_every": 50, "checkpoint_every": 0},
}


class StopAt13(Callback):
    def on_step_end(self, run, step):
        if step == 13:
            run.request_stop("step 13 reached")


def main() -> None:
    out = Path(sys.argv[1])
    rank = int(os.environ["RANK"])
    pipeline = Pipeline(CONFIG)
    history = pipeline.fit(out=out / "run", progress=False, callbacks=[StopAt13()])
    result = {"step": pipeline.step, "logged": [r["step"] for r in history]}
    (out / f"stopped-rank{rank}.json").write_text(json.dumps(result))


if __name__ == "__main__":
    main()
