"""The modules of flowkit.bench import each other one way: no cycle, counting function-local imports.

The graph is read from the source (every ``import`` statement anywhere in a module, including
those inside functions, which hide a cycle from the interpreter until the function runs).
"""

from __future__ import annotations

import ast
from pathlib import Path

import flowkit.bench

PACKAGE = "flowkit.bench"


def _modules() -> dict[str, Path]:
    root = Path(flowkit.bench.__file__).parent
    return {
        PACKAGE if path.stem == "__init__" else f"{PACKAGE}.{path.stem}": path for path in sorted(root.glob("*.py"))
    }


def _imports(path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of the package that ``path`` imports, wherever the statement stands."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in modules)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            submodules = {f"{node.module}.{alias.name}" for alias in node.names} & modules.keys()
            if submodules:
                found.update(submodules)
            elif node.module in modules:
                found.add(node.module)
    return found


def import_graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(path, modules) - {name} for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import cycle as a list of modules (first == last), or None."""
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return [*stack[stack.index(target) :], target]
            if target not in state and (cycle := visit(target)):
                return cycle
        stack.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_graph_sees_function_local_imports_and_finds_cycles():
    graph = import_graph()
    assert "flowkit.bench.cluster" in graph["flowkit.bench.runner"]  # imported inside run_suite
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_flowkit_bench_has_no_import_cycle():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle in flowkit.bench: " + " -> ".join(cycle or [])
