"""The engine around each library: its rule table, its stateful reader, and a guard.

:func:`engine_class` turns a library module (``Analyser`` class, optional ``RULES`` table) into
one :class:`LineAnalyser` that the scanner feeds: every candidate line goes through the
module's rule table (rules.py) and then its reader; the facts of both are merged. The engine
knows no library: what a library means lives in its module.

An exception inside a reader (or a rule) never stops the analysis and never drops a line
silently: it becomes an ``info`` finding ``ANALYSER_EXCEPTION`` that names the line, and the
remaining lines are still fed.
"""

from __future__ import annotations

from types import ModuleType
from typing import ClassVar

from builder.logs.base import CodeInfo, LibraryFacts, LineAnalyser
from builder.logs.rules import Rule, RuleBook, anchors_of
from builder.model.analysis import Evidence, Finding

#: Lines named per library in an ``ANALYSER_EXCEPTION`` finding.
_MAX_FAILED_LINES = 8

ENGINE_CODES: list[CodeInfo] = [
    CodeInfo(
        code="ANALYSER_EXCEPTION",
        severity="info",
        library=None,
        summary="A library's reader failed on a line (a bug or a shape it does not know): the "
        "line is named, the rest of the input is still analysed.",
    ),
]


class RuledAnalyser(LineAnalyser):
    """A library's reader plus its rule table, guarded; built by :func:`engine_class`."""

    reader_class: ClassVar[type[LineAnalyser]]
    rules: ClassVar[tuple[Rule, ...]] = ()

    def __init__(self) -> None:
        self.reader = self.reader_class()
        self.book = RuleBook(self.library, self.rules)
        self._failed: list[tuple[Evidence, str]] = []
        self._failures = 0

    def feed(self, text: str, evidence: Evidence) -> None:
        """Apply the rule table, then the reader; an exception is recorded, not raised."""
        try:
            if self.book.feed(text, evidence):
                return  # a claiming rule took the line
        except Exception as exc:  # the guard's whole point: a bug never stops the analysis
            self._note_failure(evidence, exc)
        try:
            self.reader.feed(text, evidence)
        except Exception as exc:
            self._note_failure(evidence, exc)

    def _note_failure(self, evidence: Evidence, exc: Exception) -> None:
        self._failures += 1
        if len(self._failed) < _MAX_FAILED_LINES:
            self._failed.append((evidence, f"{type(exc).__name__}: {exc}"[:160]))

    def facts(self) -> LibraryFacts:
        """The reader's facts with the rule table's added; failures as an info finding."""
        try:
            facts = self.reader.facts()
        except Exception as exc:
            facts = LibraryFacts(library=self.library)
            self._note_failure(Evidence(file="-", line=0, text="(end of input)"), exc)
        facts = self.book.contribute(facts)
        if self._failures:
            first, why = self._failed[0]
            facts = facts.model_copy(
                update={
                    "findings": [
                        *facts.findings,
                        Finding(
                            code="ANALYSER_EXCEPTION",
                            severity="info",
                            library=self.library,
                            message=f"the {self.library} reader failed on {self._failures} "
                            f"line(s), first {first.file}:{first.line} ({why}); those lines "
                            "may be under-reported",
                            evidence=[ev for ev, _ in self._failed],
                        ),
                    ]
                }
            )
        return facts


def engine_class(module: ModuleType) -> type[LineAnalyser]:
    """The engine-wrapped analyser class of a library module (``Analyser``, optional ``RULES``)."""
    reader: type[LineAnalyser] = module.Analyser
    table: tuple[Rule, ...] = tuple(getattr(module, "RULES", ()))

    class Engine(RuledAnalyser):
        library: ClassVar[str] = reader.library
        anchors: ClassVar[tuple[bytes, ...]] = tuple(
            dict.fromkeys((*reader.anchors, *anchors_of(table)))
        )
        reader_class: ClassVar[type[LineAnalyser]] = reader
        rules: ClassVar[tuple[Rule, ...]] = table

    Engine.__name__ = Engine.__qualname__ = f"{reader.library.capitalize()}Engine"
    return Engine
