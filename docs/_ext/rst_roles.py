"""Griffe extension for the API reference: read flowkit's reST-flavoured docstrings as Markdown.

flowkit's docstrings use a few reStructuredText constructs that Markdown renders badly. Before
mkdocstrings renders a docstring, this extension rewrites them:

- cross-reference roles ``:class:`~flowkit.Pipeline``` become inline code: the last component
  with ``~`` (``Pipeline``), the full target otherwise;
- a paragraph ending in ``::`` (a reST literal block follows) ends in ``:``, a lone ``::`` line
  is dropped (the indented block is a code block in Markdown as well);
- reST simple tables (rows between ``====  ====`` rules) become Markdown tables.

Double-backtick literals need no change: Markdown renders them as inline code.
Loaded by ``mkdocs.yml`` (``plugins.mkdocstrings.handlers.python.options.extensions``).
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|data|attr|exc|obj):`(~?)([^`]+)`")
RULE = re.compile(r"^(\s*)(=+)((?:\s+=+)+)\s*$")


def _role(match: re.Match[str]) -> str:
    short, target = match.groups()
    return f"`{target.rsplit('.', 1)[-1] if short else target}`"


def _columns(rule: str) -> list[tuple[int, int]]:
    """Column spans ``(start, end)`` of a simple-table rule such as ``====  =====``."""
    return [m.span() for m in re.finditer(r"=+", rule)]


def _table_row(line: str, spans: list[tuple[int, int]]) -> str:
    cells = []
    for i, (start, _) in enumerate(spans):
        end = spans[i + 1][0] if i + 1 < len(spans) else len(line)
        cells.append(line[start:end].strip())
    return "| " + " | ".join(cells) + " |"


def _closes_later(lines: list[str], start: int) -> bool:
    """Whether another rule follows ``start`` before a blank line (so the rule before is a header's)."""
    for line in lines[start:]:
        if not line.strip():
            return False
        if RULE.match(line):
            return True
    return False


def _tables(lines: list[str]) -> list[str]:
    """Replace every reST simple table by a Markdown table.

    ``rule, rows, rule`` is a table without a header; ``rule, header, rule, rows, rule`` one with.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = RULE.match(lines[i])
        if not match:
            out.append(lines[i])
            i += 1
            continue
        pad, spans = match.group(1), _columns(lines[i])
        blocks: list[list[str]] = [[]]
        j = i + 1
        while j < len(lines):
            if RULE.match(lines[j]):
                if len(blocks) == 1 and _closes_later(lines, j + 1):
                    blocks.append([])  # the rule under a header row: the body follows
                    j += 1
                    continue
                break
            if lines[j].strip():
                blocks[-1].append(lines[j])
            j += 1
        header, rows = (blocks[0][0], blocks[1]) if len(blocks) == 2 else (None, blocks[0])
        header_row = _table_row(header, spans) if header else "| " + " | ".join(" " for _ in spans) + " |"
        out.extend(["", pad + header_row, pad + "|" + "---|" * len(spans)])
        out.extend(pad + _table_row(row, spans) for row in rows)
        out.append("")
        i = j + 1
    return out


def markdown(text: str) -> str:
    """The Markdown reading of a flowkit docstring (see the module docstring)."""
    text = ROLE.sub(_role, text)
    lines = []
    for line in text.split("\n"):
        if line.strip() == "::":
            continue
        if line.rstrip().endswith("::") and not line.rstrip().endswith(":::"):
            line = line.rstrip()[:-1]
        lines.append(line)
    return "\n".join(_tables(lines))


class RstRoles(griffe.Extension):
    """Rewrite the reST constructs of every docstring before it is rendered."""

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            obj.docstring.value = markdown(obj.docstring.value)
