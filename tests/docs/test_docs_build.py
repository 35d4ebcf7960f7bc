"""The documentation site builds with ``mkdocs build --strict`` and renders the API reference.

Strict mode turns every warning into an error: a broken link or anchor, a page missing from the
navigation, a nav entry without a page, an API reference (``::: module``) that does not
resolve, or a docstring the handler cannot parse.
"""

from __future__ import annotations

import ast
import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the site once into a temporary directory; fail with mkdocs' own output."""
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if result.returncode != 0:
        print(result.stdout)
        print(result.stderr)
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stderr[-4000:]}"
    return out


def _text(page: Path) -> str:
    return re.sub(r"<[^>]+>", " ", page.read_text(encoding="utf-8"))


def test_strict_build_renders_every_page(site: Path) -> None:
    pages = sorted(p.relative_to(ROOT / "docs") for p in (ROOT / "docs").rglob("*.md") if "_ext" not in p.parts)
    for page in pages:
        html = (
            site / page.with_suffix("") / "index.html" if page.name != "index.md" else site / page.parent / "index.html"
        )
        assert html.is_file(), f"{page} was not rendered"


@pytest.mark.parametrize(
    ("page", "names"),
    [
        ("api/registry", ["flowkit.registry", "Registry", "create", "flowkit_register_paths"]),
        ("api/paths", ["ConditionalOTPath", "SchedulePath", "conditional_vector_field"]),
        ("api/pipeline", ["Pipeline", "log_prob", "TrainConfig"]),
        ("api/likelihood", ["sample_with_log_prob", "bits_per_dim"]),
        ("api/models", ["UNetVectorField", "guided", "NULL_LABEL"]),
    ],
)
def test_api_reference_is_generated_from_docstrings(site: Path, page: str, names: list[str]) -> None:
    text = _text(site / page / "index.html")
    for name in names:
        assert name in text, f"{name} is missing from the rendered {page} page"


def test_reference_roles_are_rendered_as_code(site: Path) -> None:
    """The griffe extension removes reST roles such as :class:`...` before rendering."""
    for page in (site / "api").rglob("index.html"):
        text = page.read_text(encoding="utf-8")
        assert not re.search(r":(class|func|meth|mod|data|attr):", text), f"a reST role is left in {page}"


def test_included_suite_file_is_rendered(site: Path) -> None:
    text = _text(site / "howto" / "benchmark-suite" / "index.html")
    assert "paths-couplings" in text and "--8&lt;--" not in text


# -- formulas are typeset as math ------------------------------------------------------------------
# Pages whose formulas are written in LaTeX: $...$ inline, $$...$$ display (pymdownx.arithmatex,
# typeset in the browser by KaTeX through docs/javascripts/katex.js).
MATH_PAGES = [
    "concepts",
    "paths",
    "objectives",
    "couplings",
    "solvers",
    "metrics",
    "discrete",
    "manifolds",
    "models",
    "data",
    "howto/likelihood",
    "howto/conditional-guidance",
]
MATH_ELEMENT = re.compile(r'<(span|div) class="arithmatex">.*?</\1>', re.S)
CODE_ELEMENT = re.compile(r"<(pre|code)\b[^>]*>.*?</\1>", re.S)


def _article(page: Path) -> str:
    return page.read_text(encoding="utf-8").split("<article", 1)[1].split("</article>", 1)[0]


@pytest.mark.parametrize("page", MATH_PAGES)
def test_formulas_are_typeset_as_math(site: Path, page: str) -> None:
    html = (site / page / "index.html").read_text(encoding="utf-8")
    assert '<span class="arithmatex">\\(' in html, f"no inline formula on {page}"
    assert '<div class="arithmatex">\\[' in html, f"no display formula on {page}"
    assert "katex.min.js" in html and "javascripts/katex.js" in html, f"{page} does not load KaTeX"


def test_no_dollar_sign_leaks_into_the_text(site: Path) -> None:
    """A ``$`` outside math and code means a formula that arithmatex did not recognise."""
    for page in site.rglob("index.html"):
        text = re.sub(r"<[^>]+>", "", CODE_ELEMENT.sub("", MATH_ELEMENT.sub("", _article(page))))
        assert "$" not in text, f"a stray $ on {page.relative_to(site)}: {text[text.index('$') - 60 :][:120]!r}"


# -- the markdown on its own -----------------------------------------------------------------------
# ASCII formulas as the pages used to write them (`x_t = a(t) x1 + s(t) eps`, indented equations):
# inside a code span or an indented code block they would render as monospace code again.
ASCII_FORMULA = re.compile(
    r"\bx[01] ~|~ N\(|\bN\(0, |\|\||\^\d|\^\(|\bd/dt\b|\bsum_[ij]\b|softmax_i|logsumexp_|\bdiv v\b|grad_x"
    r"|\bkappa\(|\balpha\(|\bsqrt\(|\bexp\(|\blog p|\b[xup]_t(\([^)]*\))? = "
)
CODE_SPAN = re.compile(r"(?<!`)`([^`\n]+)`(?!`)")
FENCED = re.compile(r"^\s*```.*?^\s*```|^\s*\$\$$.*?^\s*\$\$$", re.S | re.M)


def _prose(page: str) -> list[str]:
    """The page's lines with fenced code and display math blanked (line numbers kept)."""
    text = (ROOT / "docs" / f"{page}.md").read_text(encoding="utf-8")
    return FENCED.sub(lambda m: "\n" * m.group(0).count("\n"), text).split("\n")


@pytest.mark.parametrize("page", MATH_PAGES)
def test_formulas_are_not_written_as_code(page: str) -> None:
    lines = _prose(page)
    for number, line in enumerate(lines, 1):
        for span in CODE_SPAN.findall(line):
            assert not ASCII_FORMULA.search(span), f"docs/{page}.md:{number}: formula as code `{span}`"
        indented_block = line.startswith("    ") and number > 1 and not lines[number - 2].strip()
        assert not (indented_block and ("=" in line or ASCII_FORMULA.search(line))), (
            f"docs/{page}.md:{number}: equation as an indented code block: {line.strip()!r}"
        )


# -- formulas in docstrings ------------------------------------------------------------------------
# API reference pages whose docstrings write formulas in LaTeX ($...$ inline, $$...$$ display); their
# inline code (signatures and code blocks aside) holds no formula.
API_MATH_PAGES = [
    "api/paths",
    "api/objectives",
    "api/couplings",
    "api/likelihood",
    "api/solvers",
    "api/core",
    "api/metrics",
    "api/discrete",
    "api/manifolds",
    "api/models",
    "api/data",
    "api/pipeline",
]
PRE_ELEMENT = re.compile(r"<pre\b[^>]*>.*?</pre>", re.S)
INLINE_CODE = re.compile(r"<code\b[^>]*>(.*?)</code>", re.S)


@pytest.mark.parametrize("page", API_MATH_PAGES)
def test_docstring_formulas_are_typeset_as_math(site: Path, page: str) -> None:
    article = _article(site / page / "index.html")
    assert '<span class="arithmatex">\\(' in article, f"no inline formula on {page}"
    for code in INLINE_CODE.findall(PRE_ELEMENT.sub("", article)):
        text = html.unescape(re.sub(r"<[^>]+>", "", code))
        assert not ASCII_FORMULA.search(text), f"{page}: formula as code `{text}`"


def test_display_formula_in_a_docstring_is_typeset(site: Path) -> None:
    """``RescheduledField``'s docstring holds a ``$$ ... $$`` block (the rescheduled field)."""
    article = _article(site / "api" / "paths" / "index.html")
    assert '<div class="arithmatex">\\[\nu^B_t(x) = \\frac{c\'_t}{c_t}' in article


def _escape_in_plain_string(literal: str) -> str | None:
    """The first backslash-letter escape of a string literal that is not raw (``\\\\`` is a backslash)."""
    if literal[:1] in "rR":
        return None
    escape = re.search(r"\\[A-Za-z]", literal.replace("\\\\", ""))
    return escape.group(0) if escape else None


def test_docstrings_with_latex_are_raw_strings() -> None:
    """A backslash in a plain string is an escape: ``\\varepsilon`` would reach KaTeX as a vertical tab."""
    assert _escape_in_plain_string('"""$\\varepsilon$"""') == "\\v"
    assert _escape_in_plain_string('r"""$\\varepsilon$"""') is None
    assert _escape_in_plain_string('"""``json + "\\\\n"``"""') is None
    for module in sorted((ROOT / "flowkit").rglob("*.py")):
        source = module.read_text(encoding="utf-8")
        for node in ast.walk(ast.parse(source)):
            if (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                escape = _escape_in_plain_string(ast.get_source_segment(source, node.value) or "")
                assert escape is None, (
                    f"{module.relative_to(ROOT)}:{node.lineno}: {escape!r} in a string that is not raw (r-prefixed)"
                )


def test_ascii_formula_pattern_catches_the_old_spelling() -> None:
    for formula in ["x_t = a(t) x1 + s(t) eps", "u_t(x | x1) = s'/s (x - a x1)", "x1 ~ q", "E ||v - u||^2"]:
        assert ASCII_FORMULA.search(formula), formula
    for code in ["path.sample(x0=, x1=, t=)", "model(t, x_t, y)", "sigma_min", "log_prob"]:
        assert not ASCII_FORMULA.search(code), code


# -- the griffe extension on its own ---------------------------------------------------------------
def _extension():
    spec = importlib.util.spec_from_file_location("rst_roles", ROOT / "docs" / "_ext" / "rst_roles.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_roles_become_inline_code() -> None:
    markdown = _extension().markdown
    assert markdown("see :class:`~flowkit.pipeline.Pipeline`") == "see `Pipeline`"
    assert markdown(":func:`flowkit.likelihood.log_prob` and :meth:`fit`") == "`flowkit.likelihood.log_prob` and `fit`"
    assert markdown("plain ``code`` stays") == "plain ``code`` stays"


def test_literal_block_markers() -> None:
    markdown = _extension().markdown
    assert markdown("Example::\n\n    x = 1") == "Example:\n\n    x = 1"
    assert markdown("Text.\n\n::\n\n    x = 1") == "Text.\n\n\n    x = 1"


def test_simple_tables_become_markdown_tables() -> None:
    markdown = _extension().markdown
    headerless = "  ====  =====\n  a     b c\n  dd    e\n  ====  =====\nafter"
    assert markdown(headerless).split("\n") == [
        "",
        "  |   |   |",
        "  |---|---|",
        "  | a | b c |",
        "  | dd | e |",
        "",
        "after",
    ]
    with_header = "====  ====\nname  value\n====  ====\nx     1\n====  ===="
    assert markdown(with_header).split("\n") == ["", "| name | value |", "|---|---|", "| x | 1 |", ""]
