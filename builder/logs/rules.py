"""Rule tables: one row per line shape a library prints, applied by one engine.

A :class:`Rule` is data: the literal ``anchor`` every matching line holds (the scanner's
prefilter key), a ``pattern`` (a regular expression whose named groups feed the templates), at
least one ``examples`` line copied from the shape of a real log, and what a match sets:

* ``code``/``severity``/``message``: a finding (``message`` may use ``{group}`` fields);
* ``observe``/``value``: a typed observation (:class:`Obs`) a later stage reasons about, such as
  "an RDMA device is present";
* ``select``: contributions to ``Analysis.selected`` (``("gdr", False)``, ``("pml", "{pml}")``);
* ``path``: a lane ``(layer, scope, transport, device)`` (templates), as if the library had
  printed it in its own lane format;
* ``version``/``loaded_from``: a library version or load path, recorded for the line's rank
  (``rank`` template, default the ``rank`` group);
* ``unset``: selections a match withdraws (``PML ucx cannot be selected``);
* ``claims``: the row takes the line. Claiming rows are tried in table order and the first
  that matches ends the table and keeps the line from the library's stateful reader, which is
  how an ``if/elif`` chain of "most specific message first" becomes a table.

A ``{group}`` whose group did not match leaves a value unset and reads ``?`` in a message.

A library module holds ``RULES: tuple[Rule, ...]`` and feeds every candidate line to a
:class:`RuleBook` (``book.feed(text, evidence)``); its analyser adds the book's anchors to its
own (:func:`anchors_of`) and merges the book into its facts at the end (``book.contribute``).
Adding a pattern is one row with its example; ``tests/unit/logs/test_rules.py`` runs every
example through the engine and checks that the row fires, and ``docs/findings.md`` lists every
row (``python -m builder.logs.codes``). NCCL and libfabric can adopt the same type: define
``RULES`` in the module, hold a ``RuleBook`` and call ``contribute`` from ``facts()``; the
registry and the docs pick the table up through :data:`builder.logs.registry.ANALYSER_MODULES`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from builder.logs.base import CodeInfo, FindingTally, LibraryFacts, ObservationBook
from builder.model.analysis import Evidence, Finding, PathUse, Scope, Severity

#: Characters of a line a rule's pattern looks at; real library lines are far shorter.
RULE_PARSE_CHARS = 4096
#: Evidence lines kept per rule-made path.
_PATH_EVIDENCE = 16


class Obs(StrEnum):
    """Typed observation kinds the engine reasons about (values are the stored strings)."""

    #: An RDMA device exists on the host (listed, opened, initialised).
    RDMA_DEVICE = "rdma_device"
    #: A libfabric provider a listing (``fi_info``) shows usable, in listed order.
    PROVIDER_LISTED = "provider_listed"
    #: A shared-memory single copy (CMA) was refused.
    CMA_BLOCKED = "cma_blocked"
    #: A PMIx client started its initialisation (per rank).
    PMIX_INIT_CALLED = "pmix_init_called"
    #: A PMIx client finished its initialisation (per rank).
    PMIX_INIT_DONE = "pmix_init_done"
    #: A launcher or runtime daemon failed (lost daemon, plugin not loadable).
    LAUNCH_FAILED = "launch_failed"
    #: An RDMA transport a listing shows usable (``ucx_info -d``: ``Transport: rc_mlx5``).
    RDMA_TRANSPORT = "rdma_transport"
    #: A process reporting itself as rank 0 of a job of size 1.
    SINGLETON = "singleton"
    #: A library setting forced from the environment (``OMPI_MCA_pml=ucx``).
    FORCED_SETTING = "forced_setting"


#: Value a ``select`` entry sets: a template string, or a constant such as ``False``.
SelectValue = str | bool


@dataclass(frozen=True)
class PathTemplate:
    """A lane a rule reports: templates filled from the pattern's named groups."""

    layer: str
    scope: Scope
    transport: str
    device: str | None = None


@dataclass(frozen=True)
class Rule:
    """One line shape of one library and what it means; see the module docstring."""

    anchor: str
    pattern: str
    examples: tuple[str, ...]
    code: str | None = None
    severity: Severity = "info"
    summary: str = ""
    message: str = ""
    #: Per-match detail (a template); up to three distinct details follow the message.
    detail: str = ""
    observe: Obs | None = None
    value: str = ""
    select: tuple[tuple[str, SelectValue], ...] = ()
    #: Selections a match withdraws (``PML ucx cannot be selected`` undoes a forced pml).
    unset: tuple[str, ...] = ()
    path: PathTemplate | None = None
    #: Templates for a version and a load path the line names, recorded for ``rank``.
    version: str = ""
    loaded_from: str = ""
    #: Template of the rank (``host:pid``) the line belongs to; default the ``rank`` group.
    rank: str = "{rank}"
    #: A claiming rule takes the line: later rules and the library's reader do not see it
    #: (first match wins among claiming rules, in table order).
    claims: bool = False
    ignore_case: bool = False
    compiled: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.anchor:
            raise ValueError("a rule needs a non-empty anchor")
        if not self.examples:
            raise ValueError(f"rule {self.pattern!r} needs an example line")
        if self.code is not None and not self.summary:
            raise ValueError(f"rule for {self.code} needs a summary for docs/findings.md")
        flags = re.IGNORECASE if self.ignore_case else 0
        object.__setattr__(self, "compiled", re.compile(self.pattern, flags))

    def sets(self) -> str:
        """What a match sets, in words (for docs/findings.md)."""
        parts: list[str] = []
        if self.code:
            parts.append(f"finding `{self.code}` ({self.severity})")
        if self.observe:
            parts.append(f"observation `{self.observe.value}`")
        parts.extend(f"selected.{key}={value}" for key, value in self.select)
        parts.extend(f"no selected.{key}" for key in self.unset)
        if self.path:
            parts.append(f"path {self.path.scope} {self.path.transport}")
        if self.version:
            parts.append("version")
        if self.loaded_from:
            parts.append("load path")
        return "; ".join(parts) or "nothing"


def anchors_of(rules: tuple[Rule, ...]) -> tuple[bytes, ...]:
    """The distinct anchors of ``rules`` as bytes, for an analyser's ``anchors``."""
    return tuple(dict.fromkeys(rule.anchor.encode() for rule in rules))


def codes_of(rules: tuple[Rule, ...], library: str | None) -> list[CodeInfo]:
    """One :class:`CodeInfo` per finding code the rules can raise (first rule's wording)."""
    seen: dict[str, CodeInfo] = {}
    for rule in rules:
        if rule.code is not None and rule.code not in seen:
            seen[rule.code] = CodeInfo(
                code=rule.code, severity=rule.severity, library=library, summary=rule.summary
            )
    return list(seen.values())


class _Unknown(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "?"


def _text(template: str, groups: dict[str, str]) -> str:
    """A message or detail: like :func:`_fill`, a group that did not match reads ``?``."""
    folded = _Unknown({key: " ".join(value.split())[:120] for key, value in groups.items()})
    try:
        return template.format_map(folded)
    except (IndexError, ValueError):
        return template


def _fill(template: str, groups: dict[str, str]) -> str:
    """``template`` with ``{group}`` fields filled (whitespace folded, each value capped)."""
    folded = {key: " ".join(value.split())[:120] for key, value in groups.items()}
    try:
        return template.format(**folded)
    except (KeyError, IndexError, ValueError):
        return template


class RuleBook:
    """Applies one library's rule table to its lines and keeps what matched (bounded)."""

    def __init__(self, library: str, rules: tuple[Rule, ...]) -> None:
        self.library = library
        self.rules = rules
        self._tallies: dict[str, FindingTally] = {}
        self._severity: dict[str, Severity] = {}
        self._messages: dict[str, str] = {}
        self.observations = ObservationBook()
        self._selected: dict[str, object] = {}
        self._unset: set[str] = set()
        self._versions: dict[str, dict[str, None]] = {}
        self._loaded: dict[str, dict[str, None]] = {}
        self._version_evidence: list[Evidence] = []
        self._paths: dict[tuple[str, Scope, str, str | None], int] = {}
        self._path_evidence: list[Evidence] = []

    def feed(self, text: str, evidence: Evidence) -> bool:
        """Apply the rules whose anchor is in ``text``; True when a claiming rule took it."""
        text = text[:RULE_PARSE_CHARS]
        for rule in self.rules:
            if rule.anchor not in text and not (
                rule.ignore_case and rule.anchor.lower() in text.lower()
            ):
                continue
            match = rule.compiled.search(text)
            if match is None:
                continue
            self._apply(rule, {k: v for k, v in match.groupdict().items() if v}, evidence)
            if rule.claims:
                return True
        return False

    def _apply(self, rule: Rule, groups: dict[str, str], evidence: Evidence) -> None:
        filled_rank = _fill(rule.rank, groups)
        rank = None if "{" in filled_rank else filled_rank
        for table, wanted in ((self._versions, rule.version), (self._loaded, rule.loaded_from)):
            if wanted and "{" not in (value := _fill(wanted, groups)):
                ranks = table.setdefault(value, {}) if len(table) < 64 else table.get(value, {})
                if len(ranks) < 512:
                    ranks[rank or "?"] = None
                if evidence not in self._version_evidence and len(self._version_evidence) < 8:
                    self._version_evidence.append(evidence)
        if rule.code is not None:
            tally = self._tallies.setdefault(rule.code, FindingTally())
            self._severity.setdefault(rule.code, rule.severity)
            self._messages.setdefault(rule.code, _text(rule.message or rule.summary, groups))
            tally.count += 1
            if len(tally.evidence) < 8:
                tally.evidence.append(evidence)
            detail = _text(rule.detail, groups) if rule.detail else ""
            if detail and detail not in tally.details and len(tally.details) < 3:
                tally.details.append(detail)
        if rule.observe is not None:
            self.observations.add(
                rule.observe.value, _fill(rule.value, groups) or None, evidence, rank
            )
        self._unset.update(rule.unset)
        for key, chosen in rule.select:
            if key not in self._selected:
                self._selected[key] = _fill(chosen, groups) if isinstance(chosen, str) else chosen
        if rule.path is not None:
            template = rule.path
            device = _fill(template.device, groups) if template.device else None
            lane = (template.layer, template.scope, _fill(template.transport, groups), device)
            if lane in self._paths or len(self._paths) < 256:
                self._paths[lane] = self._paths.get(lane, 0) + 1
            if evidence not in self._path_evidence and len(self._path_evidence) < _PATH_EVIDENCE:
                self._path_evidence.append(evidence)

    def findings(self) -> list[Finding]:
        """One finding per code that matched, with its count and first evidence lines."""
        return [
            Finding(
                code=code,
                severity=self._severity[code],
                library=self.library,
                message=f"{self._messages[code]} ({tally.times()}){tally.detail()}",
                evidence=list(tally.evidence),
            )
            for code, tally in self._tallies.items()
        ]

    def contribute(self, facts: LibraryFacts) -> LibraryFacts:
        """``facts`` with the book's findings, observations, selections and paths added.

        The analyser's own findings, selections and paths win over a rule's of the same name.
        """
        present = {f.code for f in facts.findings}
        mine = {k: v for k, v in self._selected.items() if k not in self._unset}
        selected = mine | dict(facts.selected)
        paths = list(facts.paths) + [
            PathUse(
                library=self.library,
                layer=layer,
                scope=scope,
                transport=transport,
                device=device,
                count=count,
            )
            for (layer, scope, transport, device), count in self._paths.items()
        ]
        return facts.model_copy(
            update={
                "findings": list(facts.findings)
                + [f for f in self.findings() if f.code not in present],
                "observations": list(facts.observations) + self.observations.all(),
                "selected": selected,
                "paths": paths,
                "path_evidence": list(facts.path_evidence) + self._path_evidence,
                "versions": _merge_ranks(facts.versions, self._versions),
                "loaded_from": _merge_ranks(facts.loaded_from, self._loaded),
                "version_evidence": list(facts.version_evidence)
                + [e for e in self._version_evidence if e not in facts.version_evidence],
            }
        )


def _merge_ranks(
    theirs: dict[str, list[str]], mine: dict[str, dict[str, None]]
) -> dict[str, list[str]]:
    """Value -> ranks tables merged (the reader's order first, each rank once)."""
    merged = {value: list(ranks) for value, ranks in theirs.items()}
    for value, ranks in mine.items():
        target = merged.setdefault(value, [])
        target.extend(rank for rank in ranks if rank not in target)
    return merged
