"""``flowkit plugins``: list every registered component and every plugin that failed to load."""

from __future__ import annotations

import argparse
import json

from flowkit import registry


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "plugins",
        help="list registered components and failed plugins",
        description="List every registered component (kind, name, description, providing "
        "distribution and version) and every plugin that failed to load.",
    )
    parser.add_argument("--json", action="store_true", help="print JSON: {components: [...], failures: [...]}")
    parser.add_argument("--kind", choices=registry.KINDS, help="only components of this kind")
    parser.set_defaults(func=run)


def collect(kind: str | None = None) -> dict[str, list[dict[str, str]]]:
    """The listing as plain data: ``{"components": [...], "failures": [...]}``."""
    components = [
        {
            "kind": spec.kind,
            "name": spec.name,
            "plugin": spec.provider.distribution,
            "version": spec.provider.version,
            "description": spec.description,
        }
        for spec in registry.components(kind)
    ]
    failures = [
        {
            "plugin": failure.plugin,
            "distribution": failure.distribution,
            "entry_point": failure.entry_point,
            "error": failure.error,
        }
        for failure in registry.failures()
    ]
    return {"components": components, "failures": failures}


def _table(rows: list[dict[str, str]], columns: list[str]) -> str:
    widths = {c: max([len(c), *(len(str(r[c])) for r in rows)]) for c in columns}
    lines = ["  ".join(c.upper().ljust(widths[c]) for c in columns).rstrip()]
    lines += ["  ".join(str(r[c]).ljust(widths[c]) for c in columns).rstrip() for r in rows]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    listing = collect(args.kind)
    if args.json:
        print(json.dumps(listing, indent=2))
        return 0
    if listing["components"]:
        print(_table(listing["components"], ["kind", "name", "description", "plugin", "version"]))
    else:
        print("no components registered")
    if listing["failures"]:
        print(f"\n{len(listing['failures'])} plugin(s) failed to load:")
        for failure in listing["failures"]:
            print(f"  {failure['plugin']} ({failure['distribution']}, entry point {failure['entry_point']})")
            print(f"    {failure['error']}")
    return 0
