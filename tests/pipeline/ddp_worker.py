"""One process of the two-process DDP test (launched by ``torch.distributed.run``).

Every rank trains the same configuration with ``out=<dir>/run-rank<r>``: only rank 0 may write
there. Then each rank dumps its final weights and its logged history to files of its own, for
the test to compare.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from safetensors.torch import save_file

from flowkit.pipeline import Pipeline

CONFIG = {
    "model": {"name": "mlp", "width": 16, "depth": 2},
    "solver": {"name": "euler", "steps": 4},
    "data": {"name": "checkerboard", "n_train": 512, "n_test": 64},
    "device": "cpu",
    "train": {"steps": 12, "batch_size": 64, "warmup_steps": 2, "log_every": 4, "checkpoint_every": 6},
}


def main() -> None:
    out = Path(sys.argv[1])
    rank = int(os.environ["RANK"])
    pipeline = Pipeline(CONFIG)
    assert pipeline.distributed.world_size == 2 and pipeline.distributed.rank == rank
    history = pipeline.fit(out=out / f"run-rank{rank}", progress=False)
    tensors = {f"model.{k}": v.contiguous() for k, v in pipeline.model.state_dict().items()}
    tensors |= {f"ema.{k}": v.contiguous() for k, v in pipeline.ema_model.state_dict().items()}
    save_file(tensors, str(out / f"weights-rank{rank}.safetensors"))
    (out / f"history-rank{rank}.json").write_text(json.dumps(history))


if __name__ == "__main__":
    main()
