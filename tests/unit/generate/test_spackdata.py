"""The recorded Spack metadata: where it came from, and that it covers every environment."""

from __future__ import annotations

import json
from pathlib import Path

from builder.generate.spackdata import builtin, builtin_names
from builder.profiles import list_envs, load_env

ROOT = Path(__file__).resolve().parents[3]


def test_recorded_from_the_spack_of_the_reference_lock() -> None:
    lock = json.loads((ROOT / "spack-envs" / "nest-reference" / "spack.lock").read_text())
    assert builtin().spack_commit == lock["spack"]["commit"]
    assert builtin().spack_version == lock["spack"]["version"] == "0.23.0.dev0"
    readme = (ROOT / "builder" / "generate" / "data" / "README.md").read_text()
    assert "spack python scripts/record_spack_metadata.py" in readme
    assert str(builtin().spack_commit) in readme


def test_every_builtin_package_an_environment_names_has_details() -> None:
    missing = set()
    for name in list_envs():
        env = load_env(name)
        named = {spec.name for spec in env.specs} | set(env.requirements) - {"all"}
        missing |= {n for n in named if n in builtin_names() and n not in builtin().details}
    assert not missing, f"re-run the recorder (builder/generate/data/README.md) for {missing}"


def test_known_facts_of_spack_0_23() -> None:
    details = builtin().details
    assert "mpi" not in details["py-pynn"].variants
    assert details["arbor"].compiler_conflicts == {"gcc@8.5.0": "conflicts with %gcc@:8"}
    assert details["xpmem"].variant_versions["~kernel-module"] == ["master"]
    assert "slurm" in (details["openmpi"].variants["schedulers"].values or [])
    assert "apbs" not in builtin_names() and "py-nilearn" in builtin_names()
