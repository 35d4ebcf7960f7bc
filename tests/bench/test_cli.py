"""``flowkit bench``: listing, dry runs, clear errors, and the built-in ``quick`` suite end to end."""

from __future__ import annotations

from flowkit.bench import ResultStore
from flowkit.cli import main


def test_list_and_dry_run(capsys):
    assert main(["bench", "--list"]) == 0
    listing = capsys.readouterr().out
    assert all(name in listing for name in ("quick", "paper-2d", "digits"))
    assert main(["bench", "quick", "--dry-run", "--set", "axes.seed=[0]"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-1] == "3 cells" and "euler(steps=4)" in lines[0]


def test_errors_are_one_clear_message(capsys, tmp_path):
    assert main(["bench", "no-such-suite", "--out", str(tmp_path)]) == 2
    assert "built-in suites:" in capsys.readouterr().err
    assert main(["bench", "quick", "--out", str(tmp_path), "--set", 'axes.path=["ot", "vpp"]']) == 2
    error = capsys.readouterr().err
    assert "unknown path 'vpp'. Did you mean 'vp'?" in error and not (tmp_path / "results.jsonl").exists()
    assert main(["bench", "quick"]) == 2
    assert "--out DIR is required" in capsys.readouterr().err


def test_quick_suite_runs_end_to_end(tmp_path, capsys):
    """The built-in ``quick`` suite as CI runs it, with a smaller budget to fit the unit-test time."""
    out = tmp_path / "quick"
    argv = [
        "bench",
        "quick",
        "--out",
        str(out),
        "--threads",
        "1",
        "--set",
        "axes.seed=[0]",
        "--set",
        "train.steps=30",
        "--set",
        "eval.num_samples=200",
        "--set",
        "eval.likelihood_points=50",
        "--set",
        "eval.plot_samples=100",
    ]
    assert main(argv) == 0
    records = ResultStore(out / "results.jsonl").load()
    assert sorted(r["label"] for r in records) == ["baseline: hand-written CFM, ot", "path=ot", "path=vp"]
    assert all(r["status"] == "ok" for r in records)
    summary = (out / "summary.md").read_text()
    assert "## Claims" in summary and "## Relative to the hand-written baseline" in summary
    assert (out / "plots" / "samples.png").exists() and (out / "plots" / "nfe_vs_quality.png").exists()
    assert "summary in" in capsys.readouterr().err
