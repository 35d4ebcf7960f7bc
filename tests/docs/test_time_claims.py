"""Time claims in the README say on what machine, and in what state, they were measured."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[2] / "README.md"
DURATION = re.compile(
    r"\b((a|an)\s+(second|minute|hour)|\d+(\.\d+)?\s*(s|sec|seconds?|min|minutes?|hours?))\b", re.IGNORECASE
)
MACHINE = re.compile(r"\b(cores?|CPU|GPU|H100|H200|A100|laptop|virtual machine)\b", re.IGNORECASE)
STATE = re.compile(r"\b(idle|busy|loaded|shared)\b", re.IGNORECASE)


def paragraphs_with_durations(text: str) -> list[str]:
    prose = re.sub(r"```.*?```", "", text, flags=re.DOTALL)
    return [p for p in re.split(r"\n\s*\n", prose) if DURATION.search(p) and not p.lstrip().startswith("|")]


def test_every_time_claim_names_the_machine_and_its_load():
    claims = paragraphs_with_durations(README.read_text(encoding="utf-8"))
    assert claims, "the README states how long the main job takes"
    for paragraph in claims:
        assert MACHINE.search(paragraph) and STATE.search(paragraph), paragraph
