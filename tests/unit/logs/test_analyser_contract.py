"""The analyser contract (builder/logs/base.py), checked once for all seven analysers on every
log fixture: real logs from this machine and the constructed ones."""

from __future__ import annotations

import subprocess
from pathlib import Path
from types import ModuleType

import pytest

from builder.logs.registry import ANALYSER_MODULES
from builder.logs.scan import scan_file

FIXTURES = Path(__file__).parents[2] / "fixtures" / "logs"
LOGS = sorted(p for p in FIXTURES.rglob("*") if p.is_file() and p.suffix in {".txt", ".log"})
MODULES = pytest.mark.parametrize(
    "module", ANALYSER_MODULES, ids=lambda m: m.__name__.split(".")[-1]
)


#: Folders whose real fixtures start with the command that made them (``# real: CMD``).
_COMMAND_HEADED = frozenset({"libfabric", "mpich"})


def test_every_fixture_says_whether_it_is_real_or_constructed() -> None:
    # engine/ holds verbatim copies of the project's reference logs; its README says so.
    for log in LOGS:
        if log.parent.name == "engine":
            continue
        first = log.read_text(encoding="utf-8", errors="replace").splitlines()[0]
        assert first.startswith(("# real", "# constructed from")), log.name
        if first.startswith("# constructed"):
            assert "constructed" in log.name, log.name
        if log.name.startswith("real-") and log.parent.name in _COMMAND_HEADED:
            assert first.startswith("# real: "), log.name


def test_there_are_fixtures_for_every_analyser() -> None:
    for module in ANALYSER_MODULES:
        library = module.Analyser.library
        assert list((FIXTURES / library).glob("*")), f"no fixtures for {library}"


@MODULES
def test_every_emitted_code_is_documented_and_has_evidence(module: ModuleType) -> None:
    documented = {info.code for info in module.CODES}
    assert len(documented) == len(module.CODES), "a code is documented twice"
    for log in LOGS:
        analyser = module.Analyser()
        scan_file(log, [analyser])
        for finding in analyser.facts().findings:
            assert finding.code in documented, f"{log.name}: {finding.code}"
            assert finding.evidence, f"{log.name}: {finding.code} without evidence"


@MODULES
def test_anchors_select_the_same_lines_as_grep_fixed_strings(
    module: ModuleType, tmp_path: Path
) -> None:
    anchors: tuple[bytes, ...] = module.Analyser.anchors
    patterns = tmp_path / "anchors"
    patterns.write_bytes(b"\n".join(anchors) + b"\n")
    for log in LOGS:
        grep = subprocess.run(
            ["grep", "-a", "-F", "-c", "-f", str(patterns), str(log)],
            capture_output=True,
            check=False,
            env={"LC_ALL": "C"},
        )
        ours = sum(1 for raw in log.read_bytes().splitlines() if any(a in raw for a in anchors))
        assert int(grep.stdout) == ours, log.name
