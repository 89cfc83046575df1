"""The rule tables: every row's example line, run through the scanner and the engine, fires."""

from __future__ import annotations

import io

import pytest

from builder.logs.base import LibraryFacts
from builder.logs.codes import all_codes, all_rules
from builder.logs.registry import new_analysers
from builder.logs.rules import Obs, PathTemplate, Rule, RuleBook, anchors_of, codes_of
from builder.logs.scan import scan_stream
from builder.model.analysis import Evidence

CASES = [
    pytest.param(library, rule, example, id=f"{library}-{index}-{n}")
    for index, (library, rule) in enumerate(all_rules())
    for n, example in enumerate(rule.examples)
]


def facts_of(library: str, text: str) -> LibraryFacts:
    analysers = new_analysers()
    scan_stream(io.BytesIO(text.encode() + b"\n"), "example.log", analysers)
    (facts,) = [a.facts() for a in analysers if a.library == library]
    return facts


@pytest.mark.parametrize(("library", "rule", "example"), CASES)
def test_every_example_line_fires_its_rule(library: str, rule: Rule, example: str) -> None:
    assert rule.anchor in example
    assert rule.compiled.search(example), "the pattern does not match its own example"
    facts = facts_of(library, example)
    if rule.code is not None:
        assert rule.code in {f.code for f in facts.findings}
        assert all(e.line == 1 for f in facts.findings for e in f.evidence)
    if rule.observe is not None:
        assert rule.observe.value in {o.kind for o in facts.observations}
    for key, _ in rule.select:
        assert key in facts.selected
    if rule.path is not None:
        assert facts.paths


def test_every_rule_code_is_documented() -> None:
    documented = {c.code for c in all_codes()}
    assert {rule.code for _, rule in all_rules() if rule.code} <= documented


def test_a_rule_needs_an_example_an_anchor_and_a_summary() -> None:
    with pytest.raises(ValueError, match="example"):
        Rule(anchor="x", pattern="x", examples=())
    with pytest.raises(ValueError, match="anchor"):
        Rule(anchor="", pattern="x", examples=("x",))
    with pytest.raises(ValueError, match="summary"):
        Rule(anchor="x", pattern="x", examples=("x",), code="X", severity="error")


def test_rule_book_fills_templates_and_keeps_the_reader_first() -> None:
    rule = Rule(
        anchor="via",
        pattern=r"via (?P<tl>\w+)/(?P<dev>\w+)",
        examples=("via tcp/eth0",),
        code="DEMO",
        severity="warning",
        summary="demo",
        message="demo on {dev}",
        observe=Obs.RDMA_DEVICE,
        value="{dev}",
        select=(("gdr", False), ("pml", "{tl}")),
        path=PathTemplate(layer="demo", scope="inter-node", transport="{tl}", device="{dev}"),
    )
    book = RuleBook("ucx", (rule,))
    assert not book.feed("x via tcp/eth0", Evidence(file="f", line=3, text="x"))  # no claim
    assert not book.feed("nothing here", Evidence(file="f", line=4, text="y"))
    merged = book.contribute(LibraryFacts(library="ucx", selected={"pml": "ob1"}))
    assert merged.selected == {"gdr": False, "pml": "ob1"}  # the reader's own choice wins
    assert [(p.transport, p.device, p.scope) for p in merged.paths] == [
        ("tcp", "eth0", "inter-node")
    ]
    assert merged.findings[0].message == "demo on eth0 (once)"
    assert merged.observations[0].value == "eth0"
    assert anchors_of((rule, rule)) == (b"via",)
    assert [c.code for c in codes_of((rule,), "ucx")] == ["DEMO"]


def test_a_group_that_did_not_match_reads_as_a_question_mark_in_messages() -> None:
    rule = Rule(
        anchor="no usable",
        pattern=r"no usable transports(?: \(asked (?P<asked>[^)]*)\))?",
        examples=("no usable transports",),
        code="DEMO",
        severity="error",
        summary="demo",
        message="asked {asked}",
        version="{asked}",
    )
    book = RuleBook("ucx", (rule,))
    book.feed("UCX  ERROR no usable transports", Evidence(file="f", line=1, text="x"))
    facts = book.contribute(LibraryFacts(library="ucx"))
    assert facts.findings[0].message == "asked ? (once)"
    assert facts.versions == {}
