"""flowkit.core.signatures: what a callable accepts, read from its signature."""

import pytest

from flowkit.core.signatures import (
    accepts_keyword,
    as_keywords,
    binding_problem,
    keyword_names,
    requires_keyword,
    signature_of,
)


def factory(a, b=1, *args, c, d=2, **options):
    return a, b, args, c, d, options


def positional_only(a, /, b=0):
    return a, b


class Built:
    def __init__(self, width, depth=2, **extra):
        self.width, self.depth, self.extra = width, depth, extra


def test_keyword_names_list_keyword_parameters_in_order_and_the_catch_all():
    assert keyword_names(factory) == ["a", "b", "c", "d", "**options"]
    assert keyword_names(positional_only) == ["b"]
    assert keyword_names(Built) == ["width", "depth", "**extra"]


def test_a_callable_without_a_readable_signature_is_trusted():
    def unreadable(**params):
        return params

    unreadable.__signature__ = "not a signature"  # inspect.signature raises, as for many builtins
    assert signature_of(unreadable) is None
    assert keyword_names(unreadable) is None
    assert not accepts_keyword(unreadable, "anything")
    assert not requires_keyword(unreadable, "anything")
    assert binding_problem(unreadable, {"anything": 1}, partial=False) is None
    with pytest.raises(LookupError, match="no readable signature"):
        as_keywords(unreadable, (), {})


def test_accepts_and_requires_name_declared_parameters_only():
    assert accepts_keyword(factory, "c") and accepts_keyword(factory, "b")
    assert not accepts_keyword(factory, "unknown")  # a **options catch-all does not declare it
    assert not accepts_keyword(factory, "options")
    assert not accepts_keyword(positional_only, "a")
    assert requires_keyword(factory, "a") and requires_keyword(factory, "c")
    assert not requires_keyword(factory, "b") and not requires_keyword(factory, "d")
    assert not requires_keyword(positional_only, "a")
    assert not requires_keyword(factory, "options")


def test_binding_problem_partial_and_complete():
    assert binding_problem(Built, {"depth": 3}, partial=True) is None
    assert "width" in binding_problem(Built, {"depth": 3}, partial=False)
    assert binding_problem(Built, {"width": 3, "anything": 1}, partial=False) is None  # **extra takes it
    problem = binding_problem(positional_only, ["a"], partial=True)
    assert problem is not None and "a" in problem
    assert binding_problem(lambda x: x, ["y"], partial=True) is not None


def test_as_keywords_names_positional_arguments_and_spreads_the_catch_all():
    assert as_keywords(Built, (8,), {"depth": 3, "bias": True}) == {"width": 8, "depth": 3, "bias": True}
    assert as_keywords(Built, (), {"width": 4}) == {"width": 4}
    with pytest.raises(LookupError, match="positional-only"):
        as_keywords(positional_only, (1,), {})
    with pytest.raises(LookupError, match="positional-only"):
        as_keywords(factory, (1, 2, 3), {"c": 0})
