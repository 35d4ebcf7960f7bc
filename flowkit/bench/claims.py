"""A suite's claims: reading them, and checking them against the aggregated numbers.

A :class:`Claim` (a ``[[claims]]`` table of a suite) says that on one axis the value ``best``
gives a lower metric than each of ``others``. For every flowkit combination with ``best`` on that axis (and
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

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from flowkit.bench.aggregate import HIGHER_IS_BETTER, TRAINING_COLUMNS, Combination, Stat
from flowkit.bench.grid import TRAINING_AXES
from flowkit.config_values import choice, known_keys, non_empty_string, number, one_or_more, table
from flowkit.exceptions import ConfigError

__all__ = ["CLAIM_KEYS", "Claim", "ClaimResult", "Comparison", "check_claims", "claims_markdown"]

CLAIM_KEYS = ("statement", "axis", "best", "others", "metric", "solvers", "max_nfe", "where")
"""The keys of a ``[[claims]]`` table."""


@attrs.frozen
class Claim:
    """A statement that the numbers either support or not.

    "On ``axis``, the value ``best`` gives a lower ``metric`` than each of ``others``": compared
    between combinations that differ only in ``axis`` (and match ``where``, a table of component
    names on other axes), at every solver setting whose solver is in ``solvers`` (all if empty)
    and whose NFE is at most ``max_nfe`` (no limit if unset). Metrics of the whole cell
    (``bits_per_dim``, ``train_seconds``, ...) are compared once. Lower is better, except for
    the metrics in :data:`flowkit.bench.aggregate.HIGHER_IS_BETTER`.
    """

    statement: str
    axis: str
    best: str
    others: tuple[str, ...]
    metric: str
    solvers: tuple[str, ...] = ()
    max_nfe: float | None = None
    where: Mapping[str, str] = attrs.field(factory=dict)

    @classmethod
    def from_dict(cls, data: Any, index: int) -> Claim:
        """Read one ``[[claims]]`` table."""
        where = f"claims[{index}]"
        data = known_keys(data, CLAIM_KEYS, where)
        for required in ("statement", "axis", "best", "others", "metric"):
            if required not in data:
                raise ConfigError(f"{where} needs {required!r}; keys: {', '.join(CLAIM_KEYS)}")
        axis = choice(f"{where}.axis", TRAINING_AXES)(data["axis"])
        filters = table(f"{where}.where", data.get("where", {}))
        for key, value in filters.items():
            if key not in TRAINING_AXES or key == axis:
                raise ConfigError(f"{where}.where keys must be training axes other than {axis!r}, got {key!r}")
            non_empty_string(f"{where}.where.{key}", value)
        max_nfe = data.get("max_nfe")
        if max_nfe is not None:
            max_nfe = number(f"{where}.max_nfe", above=0.0)(max_nfe)
        return cls(
            statement=non_empty_string(f"{where}.statement", data["statement"]),
            axis=axis,
            best=non_empty_string(f"{where}.best", data["best"]),
            others=tuple(
                non_empty_string(f"{where}.others[]", v) for v in one_or_more(f"{where}.others", data["others"])
            ),
            metric=non_empty_string(f"{where}.metric", data["metric"]),
            solvers=tuple(non_empty_string(f"{where}.solvers[]", v) for v in data.get("solvers", [])),
            max_nfe=max_nfe,
            where=dict(filters),
        )

    def to_dict(self) -> dict[str, Any]:
        """Plain data (``max_nfe`` left out when unset)."""
        data: dict[str, Any] = {
            "statement": self.statement,
            "axis": self.axis,
            "best": self.best,
            "others": list(self.others),
            "metric": self.metric,
            "solvers": list(self.solvers),
            "where": dict(self.where),
        }
        if self.max_nfe is not None:
            data["max_nfe"] = self.max_nfe
        return data


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
