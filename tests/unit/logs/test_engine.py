"""The engine around each library: rule table + reader, and the guard against reader bugs."""

from __future__ import annotations

import io
import types
from typing import ClassVar

from builder.logs.base import LibraryFacts, LineAnalyser
from builder.logs.engine import engine_class
from builder.logs.rules import Rule
from builder.logs.scan import scan_stream
from builder.model.analysis import Evidence


class _Fragile(LineAnalyser):
    library: ClassVar[str] = "ucx"
    anchors: ClassVar[tuple[bytes, ...]] = (b"UCX",)

    def __init__(self) -> None:
        self.seen: list[int] = []

    def feed(self, text: str, evidence: Evidence) -> None:
        if "boom" in text:
            raise ValueError("cannot parse")
        self.seen.append(evidence.line)

    def facts(self) -> LibraryFacts:
        return LibraryFacts(library="ucx", selected={"pml": "ucx"})


def _module(**extra: object) -> types.ModuleType:
    module = types.ModuleType("fake")
    module.Analyser = _Fragile  # type: ignore[attr-defined]
    for key, value in extra.items():
        setattr(module, key, value)
    return module


def test_a_reader_exception_becomes_an_info_finding_naming_the_line() -> None:
    analyser = engine_class(_module())()
    data = b"UCX ok\nUCX boom\nUCX ok again\n"
    scan_stream(io.BytesIO(data), "run.log", [analyser])
    facts = analyser.facts()
    (finding,) = [f for f in facts.findings if f.code == "ANALYSER_EXCEPTION"]
    assert finding.severity == "info"
    assert "run.log:2" in finding.message and "ValueError" in finding.message
    assert [e.line for e in finding.evidence] == [2]
    assert facts.selected == {"pml": "ucx"}  # the lines around it were still read


def test_the_rule_table_joins_the_reader_and_its_anchors() -> None:
    rule = Rule(
        anchor="hello",
        pattern=r"hello (?P<who>\w+)",
        examples=("hello world",),
        code="HELLO",
        severity="warning",
        summary="a greeting",
    )
    cls = engine_class(_module(RULES=(rule,)))
    assert cls.anchors == (b"UCX", b"hello") and cls.library == "ucx"
    analyser = cls()
    scan_stream(io.BytesIO(b"say hello world\n"), "run.log", [analyser])
    assert [f.code for f in analyser.facts().findings] == ["HELLO"]
