"""The parts of the training loop: LR schedule, EMA, batches, optimizer-state serialization."""

from __future__ import annotations

import math

import pytest
import torch

from flowkit.exceptions import ConfigError
from flowkit.pipeline.batches import BatchSampler
from flowkit.pipeline.ema import EMA, ema_decay_at
from flowkit.pipeline.schedule import learning_rate
from flowkit.pipeline.serialization import join_optimizer_state, split_optimizer_state, tensors_for_safetensors


def lr_at(step, schedule="cosine", steps=110, warmup=10, floor=0.1):
    return learning_rate(step, lr=2.0, steps=steps, warmup_steps=warmup, schedule=schedule, min_lr_ratio=floor)


def test_warmup_is_linear_then_decay_reaches_the_floor():
    assert [lr_at(s) for s in range(3)] == pytest.approx([0.2, 0.4, 0.6])
    assert lr_at(9) == pytest.approx(2.0)
    assert lr_at(10) == pytest.approx(2.0)  # decay starts at the base rate
    # cosine at half way: lr (r + (1 - r) / 2)
    assert lr_at(60) == pytest.approx(2.0 * (0.1 + 0.9 * 0.5))
    assert lr_at(60, "linear") == pytest.approx(2.0 * (0.1 + 0.9 * 0.5))
    assert lr_at(109, "cosine") == pytest.approx(2.0 * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * 99 / 100))))
    assert lr_at(200) == pytest.approx(0.2)  # past the end: the floor
    assert all(lr_at(s, "constant") == 2.0 for s in range(10, 110))
    cosine = [lr_at(s) for s in range(10, 110)]
    assert all(a >= b for a, b in zip(cosine, cosine[1:]))


def test_warmup_longer_than_the_run():
    assert lr_at(0, steps=4, warmup=10) == pytest.approx(0.5)
    assert lr_at(3, steps=4, warmup=10) == pytest.approx(2.0)


def test_ema_follows_the_formula():
    model = torch.nn.Linear(3, 2)
    ema = EMA(model, decay=0.9)
    expected = [p.detach().clone() for p in model.parameters()]
    for step in range(1, 30):
        with torch.no_grad():
            for p in model.parameters():
                p.add_(torch.randn_like(p))
        ema.update(step)
        beta = min(0.9, (1 + step) / (10 + step))
        expected = [beta * e + (1 - beta) * p.detach() for e, p in zip(expected, model.parameters())]
    assert ema_decay_at(100, 0.9) == 0.9 and ema_decay_at(1, 0.9) == pytest.approx(2 / 11)
    for e, p in zip(expected, ema.average.parameters()):
        torch.testing.assert_close(p, e)
    assert not any(p.requires_grad for p in ema.average.parameters())


def test_batches_cover_each_epoch_once_and_split_across_ranks():
    x = torch.arange(20.0).unsqueeze(1)
    y = torch.arange(20)
    single = BatchSampler(x, y, batch_size=6, seed=3)
    ranks = [BatchSampler(x, y, batch_size=6, seed=3, rank=r, world_size=2) for r in range(2)]
    seen = []
    for _ in range(3):  # one epoch: 3 full batches of 6, 2 points skipped
        xb, yb = single.next()
        assert torch.equal(xb[:, 0].long(), yb)
        parts = [sampler.next()[0] for sampler in ranks]
        assert torch.equal(torch.cat(parts), xb)  # the ranks' shares make up the global batch
        seen.extend(xb[:, 0].tolist())
    assert len(set(seen)) == 18 and single.epoch == 0
    single.next()
    assert single.state_dict() == {"epoch": 1, "cursor": 6}


def test_batches_resume_from_their_position():
    x = torch.randn(50, 2)
    a = BatchSampler(x, None, batch_size=8, seed=0)
    for _ in range(9):
        a.next()
    b = BatchSampler(x, None, batch_size=8, seed=0)
    b.load_state_dict(a.state_dict())
    for _ in range(10):
        assert torch.equal(a.next()[0], b.next()[0])


def test_batch_size_checks():
    with pytest.raises(ConfigError, match=r"train.batch_size \(11\) exceeds the 10 training points"):
        BatchSampler(torch.zeros(10, 2), None, batch_size=11, seed=0)
    with pytest.raises(ConfigError, match="must be divisible by the number of processes"):
        BatchSampler(torch.zeros(10, 2), None, batch_size=5, seed=0, world_size=2)


def test_optimizer_state_round_trip_without_pickle():
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Linear(4, 1))
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2, betas=(0.8, 0.9))
    for _ in range(3):
        model(torch.randn(5, 3)).square().mean().backward()
        optimizer.step()
    state = optimizer.state_dict()
    tensors, plain = split_optimizer_state(state)
    import json

    plain = json.loads(json.dumps(plain))  # what a checkpoint stores
    rebuilt = join_optimizer_state(tensors, plain)
    assert rebuilt["param_groups"] == state["param_groups"]  # tuples (betas) come back as tuples
    assert rebuilt["state"].keys() == state["state"].keys()
    for index, entries in state["state"].items():
        for name, value in entries.items():
            assert torch.equal(rebuilt["state"][index][name], value)


def test_shared_tensors_are_copied_for_safetensors():
    weight = torch.randn(3, 3)
    out = tensors_for_safetensors({"a": weight, "b": weight, "c": weight[0]})
    pointers = {t.untyped_storage().data_ptr() for t in out.values()}
    assert len(pointers) == 3
    assert torch.equal(out["b"], weight) and torch.equal(out["c"], weight[0])
