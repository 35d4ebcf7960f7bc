"""Aggregation over seeds, best-value marking, CSV/Markdown output and claim verdicts, on hand-made records."""

from __future__ import annotations

import csv
import io
import statistics

import pytest

from flowkit.bench import load_suite
from flowkit.bench.aggregate import Stat, aggregate, best_indices
from flowkit.bench.claims import Claim, check_claims
from flowkit.bench.summary import render_csv, render_markdown


def test_stat_is_mean_and_sample_std_of_the_finite_values():
    stat = Stat.of([1.0, 2.0, 4.0, None, float("nan")])
    assert stat == Stat(7 / 3, statistics.stdev([1.0, 2.0, 4.0]), 3)
    assert Stat.of([5]) == Stat(5.0, None, 1) and Stat.of([None]) is None
    assert Stat(0.012345, 0.00067, 2).format() == "0.01235 ± 0.00067"


def test_best_marks_the_lowest_mean_all_ties_and_nothing_when_all_equal():
    s = lambda m: Stat(m, None, 1)  # noqa: E731
    assert best_indices([s(3.0), s(1.0), None, s(2.0)], "energy_distance") == {1}
    assert best_indices([s(3.0), s(1.0), s(2.0)], "steps_per_second") == {0}
    assert best_indices([s(1.0), s(1.0), s(2.0)], "nfe") == {0, 1}
    assert best_indices([s(4.0), s(4.0)], "nfe") == set()
    assert best_indices([s(4.0), None], "nfe") == set()


def _records(suite, values):
    """Hand-made ok records for every cell: ``values[(path, seed)] = (energy distance at euler 2, bits/dim)``."""
    records = []
    for cell in suite.cells():
        if cell.method != "flowkit":
            continue
        energy, bpd = values[(cell.config.path.name, cell.seed)]
        records.append(
            {
                "cell_id": cell.id,
                "seed": cell.seed,
                "status": "ok",
                "label": cell.label,
                "train": {"seconds": 2.0 + cell.seed, "steps_per_second": 10.0, "final_loss": 1.0},
                "likelihood": {"nll_nats": bpd * 2, "bits_per_dim": bpd, "nfe": 10},
                "evaluations": [
                    {"label": "euler(steps=2)", "nfe": 2, "metrics": {"energy_distance": energy, "nfe": 2.0}},
                    {"label": "euler(steps=4)", "nfe": 4, "metrics": {"energy_distance": energy / 2, "nfe": 4.0}},
                ],
                "peak_memory_bytes": 2**20,
                "environment": None,
            }
        )
    return records


VALUES = {("ot", 0): (0.10, 3.0), ("ot", 1): (0.20, 3.2), ("vp", 0): (0.30, 2.0), ("vp", 1): (0.50, 2.4)}


def test_csv_rows_hold_the_means_and_stds_over_seeds(make_suite):
    suite = load_suite(make_suite(baseline=False))
    cells = suite.cells()
    text = render_csv(cells, _records(suite, VALUES))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["label"], r["solver"]) for r in rows] == [
        ("path=ot", "euler(steps=2)"),
        ("path=ot", "euler(steps=4)"),
        ("path=vp", "euler(steps=2)"),
        ("path=vp", "euler(steps=4)"),
    ]
    ot2, ot4, vp2, _ = rows
    assert float(ot2["energy_distance_mean"]) == pytest.approx(0.15)
    assert float(ot2["energy_distance_std"]) == pytest.approx(statistics.stdev([0.10, 0.20]))
    assert float(ot4["energy_distance_mean"]) == pytest.approx(0.075)
    assert float(vp2["bits_per_dim_mean"]) == pytest.approx(2.2) and vp2["seeds_ok"] == "2"
    assert "energy_distance" in ot2["best"].split(";") and "bits_per_dim" in vp2["best"].split(";")
    assert "nfe" not in ot2["best"].split(";")  # equal NFE everywhere: nothing marked


def test_markdown_marks_best_values_and_lists_failures(make_suite):
    suite = load_suite(make_suite(baseline=False))
    cells = suite.cells()
    records = _records(suite, VALUES)
    records[-1] = {
        **records[-1],
        "status": "error",
        "train": None,
        "likelihood": None,
        "evaluations": [],
        "error": {"stage": "train", "type": "NonFiniteError", "message": "loss became nan"},
    }
    text = render_markdown(suite, cells, records, command="flowkit bench tiny --out x")
    assert "Command: `flowkit bench tiny --out x`" in text
    assert "| path=ot | 2/2 |" in text and "| path=vp | 1/2 |" in text
    assert "| path=ot | **0.15 ± 0.07071** | **0.075 ± 0.03536** |" in text  # energy distance, euler 2 and 4
    assert "| path=vp | 0.3 | 0.15 |" in text  # one seed left: no std
    assert "- path=vp, seed 1: train failed: NonFiniteError: loss became nan" in text


def _claim(**changes):
    data = {"statement": "ot is better", "axis": "path", "best": "ot", "others": ["vp"], "metric": "energy_distance"}
    data.update(changes)
    return Claim.from_dict(data, 0)


def test_claim_verdicts_follow_the_numbers(make_suite):
    suite = load_suite(make_suite(baseline=False))
    combos = aggregate(suite.cells(), _records(suite, VALUES))
    (result,) = check_claims([_claim()], combos)
    assert result.verdict == "reproduced" and len(result.comparisons) == 2
    assert all(c.holds for c in result.comparisons)
    # ot 0.15 ± 0.071 vs vp 0.40 ± 0.141 at 2 steps: the gap 0.25 exceeds 0.212, so it is clear
    assert [c.clear for c in result.comparisons] == [True, True]
    close = {**VALUES, ("vp", 0): (0.17, 2.0), ("vp", 1): (0.19, 2.4)}  # vp 0.18 ± 0.014: worse, within the spread
    (narrow,) = check_claims([_claim(max_nfe=2)], aggregate(suite.cells(), _records(suite, close)))
    assert [(c.holds, c.clear) for c in narrow.comparisons] == [(True, False)]
    (limited,) = check_claims([_claim(max_nfe=2)], combos)
    assert [c.setting for c in limited.comparisons] == ["euler(steps=2)"]
    (bpd,) = check_claims([_claim(metric="bits_per_dim")], combos)
    assert bpd.verdict == "not reproduced" and [c.setting for c in bpd.comparisons] == ["—"]
    mixed = dict(VALUES)
    mixed[("vp", 0)], mixed[("vp", 1)] = (0.16, 2.0), (0.10, 2.4)  # vp better at 2 steps, worse at 4
    records = _records(suite, mixed)
    for r in records:
        if r["cell_id"] in {c.id for c in suite.cells() if c.config.path.name == "vp"}:
            r["evaluations"][1]["metrics"]["energy_distance"] = 1.0
    (partly,) = check_claims([_claim()], aggregate(suite.cells(), records))
    assert partly.verdict == "partly reproduced"
    (untestable,) = check_claims([_claim(where={"objective": "fm"})], combos)
    assert untestable.verdict == "not testable"


def test_noise_floor_and_reference_values_are_printed_beside_their_metric(make_suite):
    suite = load_suite(make_suite(baseline=False))
    records = _records(suite, VALUES)
    for record in records:
        for entry in record["evaluations"]:
            entry["metrics"].update(energy_distance_floor=0.001, support_fraction=0.9, support_fraction_reference=1.0)
    text = render_markdown(suite, suite.cells(), records)
    assert (
        "### energy distance — noise floor (the same statistic between two data samples of this size): 0.001 ± 0"
        in text
    )
    assert "### support fraction (higher is better) — held-out data: 1 ± 0" in text
    assert "### energy distance floor" not in text and "### support fraction reference" not in text
