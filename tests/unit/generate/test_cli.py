"""esdc generate / esdc check through the real command (subprocess): output, exit codes, errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
ESDC = [sys.executable, "-c", "from builder.cli import main; main()"]


def _esdc(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if home is not None:
        env["ESDC_HOME"] = str(home)
    else:
        env.pop("ESDC_HOME", None)
    return subprocess.run(
        [*ESDC, *args], capture_output=True, text=True, env=env, timeout=60, check=False
    )


@pytest.fixture
def home(tmp_path: Path) -> Path:
    shutil.copytree(REPO / "site-profiles", tmp_path / "site-profiles")
    shutil.copytree(REPO / "spack-envs", tmp_path / "spack-envs")
    return tmp_path


def _one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    return lines[0]


def test_generate_nest_for_jureca_dc_prints_a_definition() -> None:
    result = _esdc("generate", "nest", "--site", "jureca-dc")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Bootstrap: docker\nFrom: spack/rockylinux9:v0.22.2\n")
    assert "%test" in result.stdout and "%labels" in result.stdout


def test_generate_mpi_base_local_dockerfile() -> None:
    result = _esdc("generate", "mpi-base", "--site", "local", "--format", "dockerfile")
    assert result.returncode == 0, result.stderr
    assert "\nFROM debian:12\n" in result.stdout


def test_generate_writes_output_file(tmp_path: Path) -> None:
    target = tmp_path / "out.def"
    result = _esdc("generate", "mpi-base", "--site", "local", "-o", str(target))
    assert result.returncode == 0 and target.read_text().startswith("Bootstrap: docker")


def test_check_exit_codes() -> None:
    assert _esdc("check", "mpi-base", "--site", "local").returncode == 0
    result = _esdc("check", "nest-reference", "--site", "karolina")
    assert result.returncode == 2
    assert "PMIx" in result.stderr and "Traceback" not in result.stderr


def test_unknown_env_and_site(home: Path) -> None:
    line = _one_error_line(_esdc("generate", "nope", "--site", "local", home=home))
    assert "unknown environment 'nope'; known: cuda, esd, mpi-base" in line
    line = _one_error_line(_esdc("check", "mpi-base", "--site", "mars", home=home))
    assert "unknown site 'mars'; known: galileo100" in line


def test_malformed_yaml_gives_file_and_line(home: Path) -> None:
    (home / "site-profiles" / "bad.yaml").write_text("name: bad\nscheduler: slurm\n  launcher: x\n")
    line = _one_error_line(_esdc("generate", "mpi-base", "--site", "bad", home=home))
    assert "bad.yaml:3: invalid YAML" in line


def test_unknown_key_and_wrong_type_in_esdc_yaml(home: Path) -> None:
    (home / "spack-envs" / "mpi-base" / "esdc.yaml").write_text("flavor: cpu\nos_packages: 3\n")
    line = _one_error_line(_esdc("generate", "mpi-base", "--site", "local", home=home))
    assert "esdc.yaml" in line and "flavor: unknown key" in line and "os_packages" in line


def test_bad_lock_option(home: Path, tmp_path: Path) -> None:
    missing = tmp_path / "none.lock"
    line = _one_error_line(
        _esdc("generate", "nest-reference", "--site", "karolina", "--lock", str(missing), home=home)
    )
    assert "none.lock: cannot read" in line


def test_generate_refuses_an_incompatible_pair_unless_forced() -> None:
    line = _one_error_line(_esdc("generate", "cuda", "--site", "jusuf"))
    assert line.startswith("esdc: error: cuda is incompatible with jusuf: CUDA:")
    assert "--force" in line
    forced = _esdc("generate", "cuda", "--site", "jusuf", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "# esdc check: INCOMPATIBLE: CUDA:" in forced.stdout


def test_check_says_what_it_could_not_verify() -> None:
    result = _esdc("check", "esd", "--site", "karolina")
    assert result.returncode == 0, result.stderr
    assert "esdc: not verified: 58 roots come only from repository ebrains-spack-builds" in (
        result.stderr.replace("\n", " ")
    )


def test_typo_key_in_spack_yaml_names_file_and_line(home: Path) -> None:
    manifest = home / "spack-envs" / "nest" / "spack.yaml"
    manifest.write_text(manifest.read_text().replace("  specs:", "  spec:"))
    line = _one_error_line(_esdc("generate", "nest", "--site", "karolina", home=home))
    assert f"{manifest}:3: unknown key 'spec' in spack.yaml" in line
    packages = home / "spack-envs" / "mpi-base" / "spack.yaml"
    packages.write_text(packages.read_text().replace("buildable: false", "buildabel: false"))
    line = _one_error_line(_esdc("check", "mpi-base", "--site", "karolina", home=home))
    assert "unknown key packages:slurm:'buildabel' in spack.yaml" in line


def test_bad_pmix_version_is_a_load_error_not_a_traceback(home: Path) -> None:
    profile = home / "site-profiles" / "karolina.yaml"
    profile.write_text(profile.read_text().replace("version: 4.2.6", "version: four"))
    for verb in ("check", "generate"):
        line = _one_error_line(_esdc(verb, "nest", "--site", "karolina", home=home))
        assert "karolina.yaml" in line and "pmix.version" in line
