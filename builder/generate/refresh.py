"""Regenerate ``definitions/`` for every (environment, site) pair that ``esdc check`` accepts.

Usage: ``python -m builder.generate.refresh`` (write) or ``... --check`` (exit 1 if out of date).
Definitions hold no source commit (it would change at every commit); what ``esdc generate``
writes today is byte for byte what is committed, which the GitLab pipeline's generate job checks.
"""

from __future__ import annotations

import sys
from pathlib import Path

from builder.errors import EsdcError
from builder.fsio import atomic_write_text
from builder.generate.api import check_compatibility, generate_definition
from builder.profiles import list_envs, list_sites, load_site, project_root

REFRESH_COMMAND = ".venv/bin/python -m builder.generate.refresh"


def expected_definitions() -> dict[str, str]:
    """File name under definitions/ -> content, for every compatible pair."""
    wanted: dict[str, str] = {}
    for site in list_sites():
        profile = load_site(site)
        for env in list_envs():
            if check_compatibility(env, site):
                continue
            name = f"{env}@{site}"
            wanted[f"{name}.def"] = generate_definition(env, site, lock=None, fmt="apptainer")
            if profile.runtime.kind == "charliecloud":
                wanted[f"{name}.Dockerfile"] = generate_definition(
                    env, site, lock=None, fmt="dockerfile"
                )
    return wanted


def stale_definitions(folder: Path) -> list[str]:
    """Names in ``folder`` that differ from, lack, or should not exist beside the expected set."""
    wanted = expected_definitions()
    present = {path.name for path in folder.glob("*@*") if path.is_file()}
    stale = [
        name
        for name, text in wanted.items()
        if not (folder / name).is_file() or (folder / name).read_text(encoding="utf-8") != text
    ]
    return sorted(stale + [name for name in present if name not in wanted])


def main(argv: list[str]) -> int:
    """Write (or with --check, compare) the definitions; return the exit code."""
    folder = project_root() / "definitions"
    try:
        if "--check" in argv:
            stale = stale_definitions(folder)
            for name in stale:
                print(f"out of date: definitions/{name}")
            if stale:
                print(f"refresh with: {REFRESH_COMMAND}")
            return 1 if stale else 0
        wanted = expected_definitions()
        for path in folder.glob("*@*"):
            if path.name not in wanted:
                path.unlink()
        for name, text in sorted(wanted.items()):
            atomic_write_text(folder / name, text)
            print(f"wrote definitions/{name}")
        return 0
    except EsdcError as exc:
        print(f"esdc: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
