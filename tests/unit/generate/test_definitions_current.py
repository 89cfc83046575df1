"""definitions/ holds the rendering of every compatible (env, site) pair, up to date."""

from __future__ import annotations

from pathlib import Path

from builder.generate.refresh import REFRESH_COMMAND, stale_definitions

REPO = Path(__file__).resolve().parents[3]


def test_committed_definitions_are_current() -> None:
    stale = stale_definitions(REPO / "definitions")
    assert not stale, f"out of date: {stale}; refresh with: {REFRESH_COMMAND}"


def test_definitions_cover_the_main_pairs() -> None:
    names = {path.name for path in (REPO / "definitions").iterdir()}
    assert {"nest@jureca-dc.def", "mpi-base@local.def", "mpi-base@local.Dockerfile"} <= names
