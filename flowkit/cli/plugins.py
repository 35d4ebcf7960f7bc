"""``flowkit plugins``: list every registered component and every plugin that failed to load.

The JSON listing (``--json``) names providers the same way in both lists (and as checkpoints,
``metrics.json`` and bench records do, :meth:`flowkit.registry.ComponentSpec.provenance`):
``distribution`` and ``version`` are the installed distribution's (for a component registered in
process, the distribution holding its module, ``null`` when none does), ``entry_point``
the plugin's name in the ``flowkit`` entry-point group (for a built-in: its plugin module;
``null`` in process), ``module`` the module that defines the component's factory.
A failure has ``distribution``, ``entry_point``, ``target`` (what the entry point names,
``name = module``) and ``error``.
"""

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


def _component_row(spec: registry.ComponentSpec) -> dict[str, str | None]:
    return {"kind": spec.kind, "name": spec.name, "description": spec.description, **spec.provenance()}


def collect(kind: str | None = None) -> dict[str, list[dict[str, str | None]]]:
    """The listing as plain data: ``{"components": [...], "failures": [...]}`` (fields above)."""
    components = [_component_row(spec) for spec in registry.components(kind)]
    failures: list[dict[str, str | None]] = [
        {
            "distribution": failure.distribution,
            "entry_point": failure.plugin,
            "target": failure.entry_point,
            "error": failure.error,
        }
        for failure in registry.failures()
    ]
    return {"components": components, "failures": failures}


def _provided_by(row: dict[str, str | None]) -> str:
    if row["entry_point"] is None:
        held = f", {row['distribution']} {row['version']}" if row["distribution"] else ""
        return f"{row['module']} (in process{held})"
    return f"{row['distribution']} {row['version']}"


def _table(rows: list[dict[str, str | None]], columns: list[str]) -> str:
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
        rows = [{**row, "provided by": _provided_by(row)} for row in listing["components"]]
        print(_table(rows, ["kind", "name", "description", "provided by"]))
    else:
        print("no components registered")
    if listing["failures"]:
        print(f"\n{len(listing['failures'])} plugin(s) failed to load:")
        for failure in listing["failures"]:
            print(f"  {failure['entry_point']} ({failure['distribution']}, entry point {failure['target']})")
            print(f"    {failure['error']}")
    return 0
