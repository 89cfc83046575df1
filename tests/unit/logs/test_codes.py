"""The one table of finding codes, and docs/findings.md generated from it."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from builder.logs.codes import (
    ENGINE_CODES,
    all_codes,
    all_line_rules,
    all_rules,
    analyser_codes,
    render_markdown,
)

ROOT = Path(__file__).parents[3]
ENGINE_MODULES = ("combine.py", "judge.py", "diff.py")


def test_docs_findings_md_is_current() -> None:
    committed = (ROOT / "docs" / "findings.md").read_text(encoding="utf-8")
    assert committed == render_markdown(all_codes(), all_rules(), all_line_rules()), (
        "docs/findings.md is stale: run `python -m builder.logs.codes > docs/findings.md`"
    )


def test_module_entry_point_prints_the_table() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "builder.logs.codes"], capture_output=True, text=True, check=True
    )
    assert result.stdout == render_markdown(all_codes(), all_rules(), all_line_rules())


def test_codes_are_stable_identifiers_listed_once() -> None:
    table = all_codes()
    names = [c.code for c in table]
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[A-Z][A-Z0-9_]+", name) for name in names)
    engine = [c.code for c in ENGINE_CODES]
    assert len(engine) == len(set(engine))


def test_analyser_codes_do_not_clash_with_a_different_meaning() -> None:
    # A code an analyser emits itself and the engine also knows must be the same kind of finding.
    own = {c.code: c for c in analyser_codes()}
    for info in ENGINE_CODES:
        if info.code in own:
            assert own[info.code].library == info.library


def test_every_code_the_engine_emits_is_documented() -> None:
    documented = {c.code for c in all_codes()}
    for name in ENGINE_MODULES:
        source = (ROOT / "builder" / "logs" / name).read_text(encoding="utf-8")
        emitted = set(re.findall(r'code="([A-Z_]+)"', source))
        emitted |= set(re.findall(r'_finding\(\s*"([A-Z_]+)"', source))
        assert emitted, name
        assert emitted <= documented, (name, emitted - documented)
