"""Checking a suite's claims against its aggregated numbers.

A :class:`~flowkit.bench.grid.Claim` says that on one axis the value ``best`` gives a lower
metric than each of ``others``. For every flowkit combination with ``best`` on that axis (and
the claim's ``where`` filter) and every combination that differs from it *only* on that axis
with a value in ``others``, the two means are compared:

- per solver setting for a sample metric (restricted to the claim's ``solvers`` and to
  settings whose mean NFE, for both combinations, is at most ``max_nfe``);
- once for a combination-level quantity (bits/dim, training time, ...).

A comparison *holds* when ``best``'s mean is better, and is *clear* when the difference also
exceeds the sum of the two standard deviations over seeds. The verdict is ``reproduced`` when
every comparison holds, ``partly reproduced`` when some do, ``not reproduced`` when none does,
and ``not testable`` when there is nothing to compare (e.g. the cells failed). Nothing here is
written in advance: the text follows from the numbers of the run.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs

from flowkit.bench.aggregate import HIGHER_IS_BETTER, TRAINING_COLUMNS, Combination, Stat
from flowkit.bench.grid import TRAINING_AXES, Claim

__all__ = ["ClaimResult", "Comparison", "check_claims", "claims_markdown"]


@attrs.frozen
class Comparison:
    """``best`` against ``other`` at one setting (a solver label, or ``"—"``)."""

    setting: str
    best_label: str
    best: Stat
    other_label: str
    other: Stat
    holds: bool
    clear: bool


@attrs.frozen
class ClaimResult:
    """A claim, its comparisons and the verdict."""

    claim: Claim
    comparisons: tuple[Comparison, ...]

    @property
    def verdict(self) -> str:
        """``reproduced``, ``partly reproduced``, ``not reproduced`` or ``not testable``."""
        if not self.comparisons:
            return "not testable"
        held = sum(c.holds for c in self.comparisons)
        if held == len(self.comparisons):
            return "reproduced"
        return "partly reproduced" if held else "not reproduced"


def _better(a: Stat, b: Stat, metric: str) -> bool:
    return a.mean > b.mean if metric in HIGHER_IS_BETTER else a.mean < b.mean


def _clear(a: Stat, b: Stat) -> bool:
    spread = (a.std or 0.0) + (b.std or 0.0)
    return a.n > 1 and b.n > 1 and abs(a.mean - b.mean) > spread


def _peers(claim: Claim, anchor: Combination, combinations: Sequence[Combination]) -> list[Combination]:
    others = []
    for c in combinations:
        if c.method != "flowkit" or c.names[claim.axis] not in claim.others:
            continue
        if all(c.axes[a] == anchor.axes[a] for a in TRAINING_AXES if a != claim.axis):
            others.append(c)
    return others


def _nfe_ok(limit: float | None, *stats: Stat | None) -> bool:
    return limit is None or all(s is not None and s.mean <= limit for s in stats)


def _compare(claim: Claim, anchor: Combination, other: Combination) -> list[Comparison]:
    found = []

    def add(setting: str, a: Stat | None, b: Stat | None) -> None:
        if a is not None and b is not None:
            holds = _better(a, b, claim.metric)
            found.append(Comparison(setting, anchor.label, a, other.label, b, holds, holds and _clear(a, b)))

    if claim.metric in TRAINING_COLUMNS:
        add("—", anchor.training.get(claim.metric), other.training.get(claim.metric))
        return found
    for solver in anchor.solvers:
        if claim.solvers and anchor.solver_names[solver] not in claim.solvers:
            continue
        mine, theirs = anchor.sampling.get(solver, {}), other.sampling.get(solver, {})
        if _nfe_ok(claim.max_nfe, mine.get("nfe"), theirs.get("nfe")):
            add(solver, mine.get(claim.metric), theirs.get(claim.metric))
    return found


def check_claims(claims: Sequence[Claim], combinations: Sequence[Combination]) -> list[ClaimResult]:
    """Evaluate every claim on the aggregated combinations."""
    results = []
    for claim in claims:
        comparisons: list[Comparison] = []
        for anchor in combinations:
            if anchor.method != "flowkit" or anchor.names[claim.axis] != claim.best:
                continue
            if any(anchor.names[k] != v for k, v in claim.where.items()):
                continue
            for other in _peers(claim, anchor, combinations):
                comparisons += _compare(claim, anchor, other)
        results.append(ClaimResult(claim, tuple(comparisons)))
    return results


def claims_markdown(results: Sequence[ClaimResult]) -> list[str]:
    """The ``## Claims`` section: an overall line, then each claim's verdict and comparisons."""
    reproduced = sum(r.verdict == "reproduced" for r in results)
    lines = [
        "## Claims",
        "",
        f"This run reproduces {reproduced} of {len(results)} claim(s). A comparison *holds* when the first "
        "combination's mean is better; it is *clear* when the difference also exceeds the sum of both "
        "standard deviations over seeds.",
    ]
    for result in results:
        claim, comparisons = result.claim, result.comparisons
        held = sum(c.holds for c in comparisons)
        clear = sum(c.clear for c in comparisons)
        per_other = []
        for other in dict.fromkeys(c.other_label for c in comparisons):
            mine = [c for c in comparisons if c.other_label == other]
            per_other.append(
                f"than {other} in {sum(c.holds for c in mine)} of {len(mine)} ({sum(c.clear for c in mine)} clear)"
            )
        lines += [
            "",
            f"- **{result.verdict}**: {claim.statement} "
            f"(`{claim.metric}`: {claim.best} better in {held} of {len(comparisons)} comparisons, {clear} clear"
            + (f"; {', '.join(per_other)}" if len(per_other) > 1 else "")
            + ")",
        ]
        if comparisons:
            lines += ["", "  | setting | " + claim.best + " | other | other value | holds |", "  |---|---|---|---|---|"]
            for c in comparisons:
                verdict = ("yes (clear)" if c.clear else "yes") if c.holds else "no"
                lines.append(
                    f"  | {c.setting} | {c.best.format()} | {c.other_label} | {c.other.format()} | {verdict} |"
                )
    return lines
