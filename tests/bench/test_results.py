"""results.jsonl: complete lines appended atomically, torn tails repaired, corrupt lines named."""

from __future__ import annotations

import json
import math

import pytest

from flowkit.bench.results import ResultStore
from flowkit.exceptions import ConfigError


def _record(cell_id: str, **extra):
    return {"cell_id": cell_id, "status": "ok", **extra}


def test_append_and_load_round_trip_with_non_finite_values_as_null(tmp_path):
    store = ResultStore(tmp_path / "sub" / "results.jsonl")
    assert store.load() == []
    store.append(_record("a", value=1.5))
    store.append(_record("b", value=math.nan, nested={"x": [math.inf, 2.0]}))
    records = store.load()
    assert records == [_record("a", value=1.5), _record("b", value=None, nested={"x": [None, 2.0]})]
    text = store.path.read_text()
    assert text.endswith("\n") and text.count("\n") == 2 and "NaN" not in text


def test_torn_last_line_is_dropped_and_truncated(tmp_path):
    store = ResultStore(tmp_path / "results.jsonl")
    store.append(_record("a"))
    store.append(_record("b"))
    whole = store.path.read_bytes()
    with open(store.path, "ab") as handle:  # a crash in the middle of writing record "c"
        handle.write(json.dumps(_record("c")).encode()[:17])
    assert [r["cell_id"] for r in store.load()] == ["a", "b"]
    assert store.path.read_bytes() == whole  # the torn tail is gone from the file
    store.append(_record("c"))
    assert [r["cell_id"] for r in store.load()] == ["a", "b", "c"]


def test_a_complete_but_corrupt_line_is_an_error_naming_it(tmp_path):
    store = ResultStore(tmp_path / "results.jsonl")
    store.append(_record("a"))
    with open(store.path, "a") as handle:
        handle.write("{not json}\n")
    store.append(_record("b"))
    with pytest.raises(ConfigError, match="line 2 is not a JSON record"):
        store.load()
    store.path.write_text('{"no_id": 1}\n')
    with pytest.raises(ConfigError, match="line 1 is not a cell record"):
        store.load()


def test_rewrite_replaces_the_content(tmp_path):
    store = ResultStore(tmp_path / "results.jsonl")
    for name in "abc":
        store.append(_record(name))
    store.rewrite([r for r in store.load() if r["cell_id"] != "b"])
    assert [r["cell_id"] for r in store.load()] == ["a", "c"]
    assert not list(tmp_path.glob(".*.tmp"))
