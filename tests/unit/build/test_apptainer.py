"""Apptainer cannot be installed here: these tests check the commands produced through spython."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from builder.build.apptainer import ApptainerRuntime, exec_argv, sign_argv
from builder.errors import EsdcError


def test_apptainer_exec_argv_with_binds_env_and_nv() -> None:
    argv = exec_argv(
        "/img/nest.sif",
        ["python", "-c", "1"],
        env={"OMPI_MCA_pml": "ucx"},
        binds=["/p/scratch:/scratch", "/etc/slurm"],
        gpu=True,
    )
    assert argv == [
        "apptainer",
        "exec",
        "--nv",
        "--bind",
        "/p/scratch:/scratch",
        "--bind",
        "/etc/slurm",
        "--env",
        "OMPI_MCA_pml=ucx",
        "/img/nest.sif",
        "python",
        "-c",
        "1",
    ]


def test_apptainer_exec_argv_plain_has_no_nv() -> None:
    assert exec_argv("a.sif", ["true"]) == ["apptainer", "exec", "a.sif", "true"]


def test_apptainer_exec_argv_does_not_check_bind_sources_on_this_host() -> None:
    # spython's own bind helper exits the process when the host path is missing.
    assert "--bind" in exec_argv("a.sif", ["true"], binds=["/only/on/compute/nodes"])


def test_apptainer_runtime_exec_argv_ignores_join() -> None:
    runtime = ApptainerRuntime()
    assert runtime.exec_argv("a.sif", ["true"], join=True) == ["apptainer", "exec", "a.sif", "true"]


def test_apptainer_build_argv_matches_spython_order_with_fakeroot() -> None:
    argv = ApptainerRuntime().build_argv(Path("/d/nest.def"), Path("/i/nest.sif"))
    assert argv == ["apptainer", "build", "--force", "--fakeroot", "/i/nest.sif", "/d/nest.def"]


def test_apptainer_build_argv_without_fakeroot() -> None:
    argv = ApptainerRuntime(fakeroot=False).build_argv(Path("n.def"), Path("n.sif"))
    assert "--fakeroot" not in argv


def test_apptainer_sign_command_names_the_key_file() -> None:
    assert sign_argv(Path("n.sif"), Path("/k/key.pem")) == [
        "apptainer",
        "sign",
        "--key",
        "/k/key.pem",
        "n.sif",
    ]


def _fake_apptainer(bindir: Path) -> Path:
    """A stand-in executable that records its argv and writes the image (Apptainer is absent)."""
    record = bindir / "argv.txt"
    script = bindir / "apptainer"
    script.write_text(
        "#!/bin/sh\n"
        f'printf "%s\\n" "$@" > {record}\n'
        "for last; do :; done\n"
        'echo "INFO: building" >&2\n'
        'eval "image=\\${$(($# - 1))}"\n'
        'printf SIF > "$image"\n'
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return record


def test_apptainer_build_command_runs_through_spython_and_logs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = _fake_apptainer(tmp_path)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    recipe = tmp_path / "nest.def"
    recipe.write_text("Bootstrap: docker\nFrom: debian:12\n")
    built = ApptainerRuntime().build(
        recipe, "esdc/nest:local", context=tmp_path, output=tmp_path / "out" / "nest.sif"
    )
    assert record.read_text().split() == [
        "build",
        "--force",
        "--fakeroot",
        str(tmp_path / "out" / "nest.sif"),
        str(recipe),
    ]
    assert built.path.read_text() == "SIF"
    assert built.digest.startswith("sha256:")
    assert "INFO: building" in built.build_log.read_text()


def test_apptainer_build_command_failure_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "apptainer"
    script.write_text("#!/bin/sh\necho 'FATAL: no space' >&2\nexit 255\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    recipe = tmp_path / "n.def"
    recipe.write_text("Bootstrap: docker\nFrom: debian:12\n")
    with pytest.raises(EsdcError, match="exit 255"):
        ApptainerRuntime().build(recipe, "t", context=tmp_path, output=tmp_path / "n.sif")


def test_apptainer_build_without_apptainer_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(EsdcError, match="not installed"):
        ApptainerRuntime().build(tmp_path / "n.def", "t", context=tmp_path)
