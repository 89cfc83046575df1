"""The registry: one analyser per library, every one fulfilling the contract."""

from __future__ import annotations

from builder.logs.base import CodeInfo, LibraryFacts, LineAnalyser
from builder.logs.registry import ANALYSER_CLASSES, ANALYSER_MODULES, new_analysers
from builder.model.analysis import LIBRARIES, Evidence


def test_one_analyser_per_library_in_contract_order() -> None:
    assert tuple(cls.library for cls in ANALYSER_CLASSES) == LIBRARIES
    assert all(issubclass(cls, LineAnalyser) for cls in ANALYSER_CLASSES)


def test_every_module_documents_its_codes() -> None:
    for module in ANALYSER_MODULES:
        assert isinstance(module.CODES, list)
        assert all(isinstance(info, CodeInfo) for info in module.CODES)


def test_anchors_are_non_empty_literal_bytes() -> None:
    for cls in ANALYSER_CLASSES:
        assert cls.anchors, cls.library
        assert all(isinstance(a, bytes) and a for a in cls.anchors), cls.library


def test_fresh_instances_accept_odd_lines_and_report_facts() -> None:
    odd = ["", "\ufffd\ufffd", "x" * 5000, "[", "UCX  ERROR", "NCCL INFO", "libfabric:1:2::"]
    for analyser in new_analysers():
        for number, text in enumerate(odd, 1):
            analyser.feed(text, Evidence(file="odd", line=number, text=text[:500]))
        facts = analyser.facts()
        assert isinstance(facts, LibraryFacts)
        assert facts.library == analyser.library
    first, second = new_analysers(), new_analysers()
    assert all(a is not b for a, b in zip(first, second, strict=True))
