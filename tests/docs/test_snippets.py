"""Code in the documentation is real API: every snippet is checked against the library, not run.

For each fenced block of every page under ``docs/`` (``--8<--`` includes resolved):

- ``python``: the block compiles; every ``from flowkit... import name`` resolves; calls of
  imported flowkit callables, of ``registry.create(kind, name, ...)`` and of ``Pipeline``
  methods bind to the real signatures; literal pipeline configurations (``Pipeline({...})``)
  are valid configurations whose components and parameters are registered (a factory
  reference into a reader's module that is not installed here, ``"my_flows:TinyMLP"``, is
  checked for its form only).
- ``toml``: a suite (``[axes]``) loads with :func:`flowkit.bench.load_suite`; a pipeline
  configuration is valid as above.
- ``bash``: every ``flowkit ...`` command (also after ``torchrun ... -m flowkit``) parses with
  the real command-line parser, and every ``python examples/...`` script exists.

Names bound in one block stay bound for the later blocks of the same page, as a reader would
run them in order.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowkit import registry
from flowkit._tomllib import tomllib
from flowkit.pipeline import Pipeline, PipelineConfig
from flowkit.pipeline.config import COMPONENT_KINDS

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)
INCLUDE = re.compile(r'^--8<-- "([^"]+)"$', re.M)
PIPELINE_KEYS = {
    "path",
    "coupling",
    "objective",
    "model",
    "solver",
    "data",
    "train",
    "eval",
    "device",
    "seed",
    "recipe",
}
PIPELINE_CONSTRUCTORS = {"Pipeline", "Pipeline.from_config", "Pipeline.load"}


def pages() -> list[Path]:
    return sorted(p for p in DOCS.rglob("*.md") if "_ext" not in p.parts)


def blocks(page: Path) -> Iterator[tuple[str, str, int]]:
    """``(language, code, line)`` of every fenced block, with snippet includes resolved."""
    text = page.read_text(encoding="utf-8")
    for match in FENCE.finditer(text):
        code = INCLUDE.sub(lambda m: (ROOT / m.group(1)).read_text(encoding="utf-8"), match.group(2))
        yield match.group(1), code, text.count("\n", 0, match.start()) + 1


# -- helpers ---------------------------------------------------------------------------------------
def bind(target: Any, call: ast.Call, where: str) -> None:
    """Check that ``call``'s positional count and keyword names fit ``target``'s signature."""
    if any(isinstance(a, ast.Starred) for a in call.args) or any(k.arg is None for k in call.keywords):
        return
    try:
        signature = inspect.signature(target)
    except (TypeError, ValueError):
        return
    args = [None] * len(call.args)
    try:
        signature.bind_partial(*args, **{k.arg: None for k in call.keywords})
    except TypeError as exc:
        raise AssertionError(f"{where}: {ast.unparse(call)} does not fit {target!r}{signature}: {exc}") from None


def dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = dotted(node.value)
        return None if base is None else f"{base}.{node.attr}"
    return None


def check_component(kind: str, value: Any, where: str) -> None:
    """A component as in a configuration: registered, and its parameters accepted by the factory."""
    name, params = (
        (value, {}) if isinstance(value, str) else (value["name"], {k: v for k, v in value.items() if k != "name"})
    )
    params.pop("sweep", None)
    spec = registry.get(kind, name)
    try:
        inspect.signature(spec.factory).bind_partial(**params)
    except TypeError as exc:
        raise AssertionError(f"{where}: {kind} {name!r} does not accept {sorted(params)}: {exc}") from None


def readers_module(name: str) -> bool:
    """Whether ``name`` is a factory reference into a module of the reader's (absent here):
    ``"my_flows:TinyMLP"`` is then checked for its form only."""
    if not registry.is_reference(name):
        return False
    module, _, attribute = name.partition(":")
    assert module and attribute and all(p.isidentifier() for p in (*module.split("."), *attribute.split("."))), name
    return importlib.util.find_spec(module.split(".")[0]) is None


def check_pipeline_config(data: dict, where: str) -> None:
    config = PipelineConfig.from_dict(data)
    for key, component in config.components().items():
        if not readers_module(component.name):
            check_component(COMPONENT_KINDS[key], component.to_data(), where)


# -- python ----------------------------------------------------------------------------------------
class PythonChecker(ast.NodeVisitor):
    """Checks one block; ``names`` and ``pipelines`` carry the bindings of the page's earlier blocks.

    A call on a line whose comment names an error (``# UnknownComponentError: ...``) is a
    documented failure and is not checked.
    """

    def __init__(self, names: dict[str, Any], pipelines: set[str], where: str, code: str = ""):
        self.names, self.pipelines, self.where = names, pipelines, where
        self.expected_errors = {i for i, line in enumerate(code.splitlines(), 1) if re.search(r"#.*\w+Error\b", line)}

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.module and node.module.split(".")[0] == "flowkit":
            module = importlib.import_module(node.module)
            for alias in node.names:
                assert hasattr(module, alias.name), f"{self.where}: {node.module} has no {alias.name!r}"
                self.names[alias.asname or alias.name] = getattr(module, alias.name)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] == "flowkit":
                module = importlib.import_module(alias.name)  # `import flowkit.x` binds `flowkit`
                self.names[alias.asname or "flowkit"] = module if alias.asname else importlib.import_module("flowkit")

    def visit_Assign(self, node: ast.Assign) -> None:
        if isinstance(node.value, ast.Call) and dotted(node.value.func) in PIPELINE_CONSTRUCTORS:
            for target in node.targets:
                if isinstance(target, ast.Name):
                    self.pipelines.add(target.id)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = dotted(node.func)
        if name is not None and node.lineno not in self.expected_errors:
            head, _, attribute = name.partition(".")
            if (
                name == "registry.create"
                and len(node.args) >= 2
                and all(isinstance(a, ast.Constant) for a in node.args[:2])
            ):
                kind, component = node.args[0].value, node.args[1].value
                spec = registry.get(kind, component)
                call = ast.Call(func=node.func, args=[], keywords=node.keywords)
                bind(spec.factory, call, self.where)
            elif head in self.pipelines and attribute and "." not in attribute:
                assert hasattr(Pipeline, attribute), f"{self.where}: Pipeline has no {attribute!r}"
                _bind_method(attribute, node, self.where)
            elif head in self.names:
                target = self.names[head]
                for part in attribute.split(".") if attribute else []:
                    if not hasattr(target, part):
                        raise AssertionError(f"{self.where}: {head} has no attribute path {attribute!r}")
                    target = getattr(target, part)
                if callable(target) and getattr(target, "__module__", "").startswith("flowkit"):
                    bind(target, node, self.where)
            if (
                name in PIPELINE_CONSTRUCTORS
                and node.args
                and isinstance(node.args[0], ast.Dict)
                and name != "Pipeline.load"
            ):
                try:
                    config = ast.literal_eval(node.args[0])
                except ValueError:
                    config = None
                if config is not None:
                    check_pipeline_config(config, self.where)
        self.generic_visit(node)


def _bind_method(attribute: str, node: ast.Call, where: str) -> None:
    method = getattr(Pipeline, attribute)
    if isinstance(inspect.getattr_static(Pipeline, attribute), (classmethod, staticmethod)) or not callable(method):
        return
    call = ast.Call(func=node.func, args=[ast.Constant(None), *node.args], keywords=node.keywords)
    bind(method, call, where)


def check_signature(code: str, names: dict[str, Any], where: str) -> None:
    """A block showing a signature, ``name(params) -> type``, lists the real parameters in order."""
    definition = ast.parse(f"def {code.strip()}: ...").body[0]
    documented = [a.arg for a in (*definition.args.posonlyargs, *definition.args.args, *definition.args.kwonlyargs)]
    documented += [a.arg for a in (definition.args.vararg, definition.args.kwarg) if a is not None]
    owners = [obj for obj in names.values() if hasattr(obj, definition.name)] + [Pipeline]
    target = names.get(definition.name) or getattr(owners[0], definition.name)
    real = [p for p in inspect.signature(target).parameters if p != "self"]
    assert documented == real, f"{where}: documented signature {documented} differs from the real {real}"


# -- bash --------------------------------------------------------------------------------------------
def commands(code: str) -> Iterator[list[str]]:
    for line in code.replace("\\\n", " ").splitlines():
        line = line.split(" #")[0].strip()
        if line and not line.startswith("#"):
            yield shlex.split(line)


def check_bash(code: str, where: str) -> None:
    from flowkit.cli import build_parser

    for tokens in commands(code):
        argv = None
        if tokens[0] == "flowkit":
            argv = tokens[1:]
        elif tokens[0] == "torchrun" and "flowkit" in tokens and tokens[tokens.index("flowkit") - 1] == "-m":
            argv = tokens[tokens.index("flowkit") + 1 :]
        elif tokens[0] == "python" and len(tokens) > 1 and tokens[1].startswith("examples/"):
            assert (ROOT / tokens[1]).is_file(), f"{where}: {tokens[1]} does not exist"
        if argv is not None:
            try:
                build_parser().parse_args(argv)
            except SystemExit as exc:
                if exc.code not in (0, None):
                    raise AssertionError(f"{where}: `flowkit {' '.join(argv)}` does not parse") from None


# -- the tests -----------------------------------------------------------------------------------------
@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(DOCS)))
def test_snippets_use_the_real_api(page: Path) -> None:
    names: dict[str, Any] = {}
    pipelines: set[str] = set()
    for language, code, line in blocks(page):
        where = f"{page.relative_to(ROOT)}:{line}"
        if language == "python":
            if re.fullmatch(r"\s*\w+\(.*\)( -> .+)?\s*", code) and "=" in code.split("(", 1)[1]:
                try:
                    compile(code, where, "exec", ast.PyCF_ONLY_AST)
                except SyntaxError:  # not a call: a signature shown on its own
                    check_signature(code, names, where)
                    continue
            tree = compile(code, where, "exec", ast.PyCF_ONLY_AST)
            PythonChecker(names, pipelines, where, code).visit(tree)
        elif language == "toml":
            data = tomllib.loads(code)
            if "axes" in data:
                from flowkit.bench import load_suite

                load_suite(data)
            elif data and set(data) <= PIPELINE_KEYS:
                check_pipeline_config(data, where)
        elif language in ("bash", "sh", "console"):
            check_bash(code, where)


def test_checker_catches_wrong_api() -> None:
    """Negative controls: a wrong keyword, an unknown import and an unknown component fail."""

    def run(code: str) -> None:
        PythonChecker({}, set(), "snippet", code).visit(ast.parse(code))

    with pytest.raises(AssertionError, match="does not fit"):
        run("from flowkit.likelihood import log_prob\nlog_prob(f, x, prior=p, solver=s, nonsense=1)")
    with pytest.raises(AssertionError, match="has no"):
        run("from flowkit.likelihood import no_such_function")
    with pytest.raises(AssertionError, match="does not fit"):
        run("from flowkit.pipeline import Pipeline\np = Pipeline.load('x')\np.sample(4, temperature=2)")
    with pytest.raises(Exception, match="otp"):
        run("from flowkit.pipeline import Pipeline\nPipeline({'path': 'otp'})")
    with pytest.raises(AssertionError, match="differs from the real"):
        check_signature("fit(steps=None, *, batch=None) -> list", {"Pipeline": Pipeline}, "snippet")
    with pytest.raises(AssertionError, match="does not parse"):
        check_bash("flowkit bench suite.toml --out x --no-such-flag", "snippet")
