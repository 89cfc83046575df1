"""Golden texts per (env, site) and format (hpccm style), incompatible pairs included.

Refresh after an intended change:
ESDC_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/unit/generate/test_golden.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from builder.fsio import atomic_write_text
from builder.generate.api import generate_definition
from builder.profiles import list_envs, list_sites

GOLDEN = Path(__file__).resolve().parents[2] / "golden"
CASES = [(env, site, "apptainer", "def") for env in list_envs() for site in list_sites()] + [
    ("mpi-base", "local", "dockerfile", "Dockerfile"),
    ("nest-reference", "jureca-dc", "dockerfile", "Dockerfile"),
    ("cuda", "karolina", "dockerfile", "Dockerfile"),
]


@pytest.mark.parametrize(("env", "site", "fmt", "suffix"), CASES)
def test_golden(env: str, site: str, fmt: str, suffix: str) -> None:
    text = generate_definition(env, site, lock=None, fmt=fmt, force=True)
    path = GOLDEN / f"{env}@{site}.{suffix}"
    if os.environ.get("ESDC_UPDATE_GOLDEN") == "1":
        atomic_write_text(path, text)
    assert path.is_file(), f"missing golden {path}; ESDC_UPDATE_GOLDEN=1 creates it"
    assert text == path.read_text(encoding="utf-8"), f"{path.name} differs from the golden text"
