"""Line rules: first match wins, the needle is a cheap pre-check."""

from __future__ import annotations

import re
from enum import StrEnum

from builder.logs.linerules import LineRule, first_match


class Kind(StrEnum):
    A = "a"
    B = "b"


LINE_RULES = (
    LineRule(Kind.A, re.compile(r"alpha (?P<x>\d+)"), "alpha 1", "first", needle="alpha"),
    LineRule(Kind.B, re.compile(r"\d+"), "7", "anything with a number"),
)


def test_first_matching_rule_wins_and_returns_its_match() -> None:
    found = first_match(LINE_RULES, "alpha 42")
    assert found is not None
    rule, match = found
    assert rule.kind is Kind.A
    assert match["x"] == "42"


def test_needle_skips_the_pattern_and_later_rules_still_match() -> None:
    found = first_match(LINE_RULES, "beta 42")
    assert found is not None and found[0].kind is Kind.B
    assert first_match(LINE_RULES, "nothing here") is None
