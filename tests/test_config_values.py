"""flowkit.config_values: checks of plain configuration values, each failure a ConfigError naming the key."""

import math

import pytest

from flowkit.config_values import choice, known_keys, non_empty_string, number, one_or_more, parse_document, table
from flowkit.exceptions import ConfigError


def test_number_accepts_finite_values_in_range_and_names_the_accepted_range():
    steps = number("train.steps", integer=True, minimum=1)
    assert steps(3) == 3 and isinstance(steps(3), int)
    for bad in (0, 2.0, True, "3", None):
        with pytest.raises(ConfigError, match=r"train.steps must be an integer >= 1, got "):
            steps(bad)
    ratio = number("x", minimum=0.0, below=1.0)
    assert ratio(0) == 0.0 and isinstance(ratio(0), float) and ratio(0.5) == 0.5
    for bad in (1.0, -1e-9, math.nan, math.inf):
        with pytest.raises(ConfigError, match=r"x must be a finite number in \[0, 1\)"):
            ratio(bad)
    positive = number("y", above=0.0, maximum=2.0)
    assert positive(2) == 2.0
    with pytest.raises(ConfigError, match=r"y must be a finite number in \(0, 2\], got 0"):
        positive(0)


def test_choice_string_list_and_table_checks():
    assert choice("mode", ("a", "b"))("b") == "b"
    with pytest.raises(ConfigError, match=r"mode must be one of 'a', 'b', got 'c'"):
        choice("mode", ("a", "b"))("c")
    assert non_empty_string("name", "quick") == "quick"
    for bad in ("", 3, None):
        with pytest.raises(ConfigError, match="name must be a non-empty string"):
            non_empty_string("name", bad)
    assert one_or_more("seeds", 3) == [3] and one_or_more("seeds", (1, 2)) == [1, 2]
    with pytest.raises(ConfigError, match="seeds must not be empty"):
        one_or_more("seeds", [])
    with pytest.raises(ConfigError, match=r"\[eval\] must be a table \(mapping\), got list"):
        table("[eval]", [1])


def test_known_keys_names_the_first_unknown_key_and_the_accepted_ones():
    assert known_keys({"a": 1}, ("a", "b"), "[t]") == {"a": 1}
    with pytest.raises(ConfigError, match=r"unknown key 'c' in \[t\]; accepted keys: a, b"):
        known_keys({"a": 1, "c": 2}, ("a", "b"), "[t]")
    with pytest.raises(ConfigError, match=r"\[t\] must be a table"):
        known_keys("a", ("a",), "[t]")


def test_parse_document_prefixes_the_error_with_where():
    assert parse_document('x = 1\n[t]\ny = "z"') == {"x": 1, "t": {"y": "z"}}
    with pytest.raises(ConfigError, match=r"^invalid TOML: "):
        parse_document("x = ")
    with pytest.raises(ConfigError, match=r"^suite quick: invalid TOML: "):
        parse_document("x = ", "TOML", "suite quick")
