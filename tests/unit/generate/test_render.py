"""Rendering: spython parses every definition, values are quoted, output is deterministic."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from spython.main.parse.parsers import SingularityParser

from builder.errors import EsdcError
from builder.generate.api import check_compatibility, generate_definition, image_spec
from builder.generate.render import render
from builder.profiles import list_envs, list_sites

REPO = Path(__file__).resolve().parents[3]
PAIRS = [(env, site) for env in list_envs() for site in list_sites()]


def _parse(text: str, tmp_path: Path) -> SingularityParser:
    path = tmp_path / "Singularity"
    path.write_text(text)
    return SingularityParser(str(path), load=True)


@pytest.mark.parametrize(("env", "site"), PAIRS)
def test_every_definition_parses_with_spython_with_all_sections(
    env: str, site: str, tmp_path: Path
) -> None:
    text = generate_definition(env, site, lock=None, fmt="apptainer", force=True)
    recipe = _parse(text, tmp_path).recipe
    final = recipe[list(recipe)[-1]]
    assert final.environ and final.test and final.labels and final.cmd is not None
    # spython turns %test into a script written by the install steps, run by `test`.
    compatible = not check_compatibility(env, site)
    if compatible:
        assert any("ompi_info" in line for line in final.install)
    assert compatible == ("esdc check: INCOMPATIBLE" not in text)
    if site == "local":
        assert list(recipe) == ["spython-base"] and final.fromHeader == "debian:12"
    else:
        assert list(recipe) == ["build", "final"]
        build = recipe["build"]
        assert build.fromHeader == "spack/rockylinux9:v0.22.2"
        assert "spack -e . install --fail-fast" in build.install
        # Only the install tree, the view and the environment folder come from the build stage.
        assert final.layer_files == {
            "build": ["/opt/software /opt", "/opt/views /opt", "/opt/spack-environment /opt"]
        }


def test_lock_is_installed_exactly_without_concretising(tmp_path: Path) -> None:
    text = generate_definition("nest-reference", "karolina", lock=None, fmt="apptainer", force=True)
    assert "spack -e . concretize" not in text
    assert (
        "%files\n  spack-envs/nest-reference/spack.lock /opt/spack-environment/spack.lock" in text
    )
    spec = image_spec("nest-reference", "karolina", force=True)
    assert spec.lock is not None
    assert f'echo "{spec.lock.sha256}  spack.lock" | sha256sum -c -' in text
    assert f"org.ebrains.esdc.lock-sha256 {spec.lock.sha256}" in text
    assert "--no-check-signature" not in text
    assert "pmix:" not in text.split("ESDC_SPACK_YAML")[1]  # the lock decides, no pin added
    # The lock's own Spack is checked out and used; the lock is checked again after install.
    commit = "e8f8cf8543b31ff6ba81a5ab0e515bc9a4856384"
    assert f"  git -C /opt/spack-locked checkout -q {commit}\n" in text
    assert "  . /opt/spack-locked/share/spack/setup-env.sh\n" in text
    assert text.count(f'echo "{spec.lock.sha256}  spack.lock" | sha256sum -c -') == 2


def test_unlocked_build_pins_the_site_pmix_major_and_concretises() -> None:
    text = generate_definition("nest", "jureca-dc", lock=None, fmt="apptainer", force=True)
    assert "    pmix:\n      require:\n      - '@4'\n" in text
    assert "  spack -e . concretize\n  spack -e . install --fail-fast\n" in text
    assert "- target=zen2" in text


def test_cuda_flavour_tests_cuda_and_nccl_and_sets_arch() -> None:
    text = generate_definition("cuda", "jureca-dc", lock=None, fmt="apptainer", force=True)
    assert "variants: cuda_arch=80" in text
    assert "command -v nvcc" in text and "libnccl.so" in text


def test_same_inputs_same_bytes() -> None:
    first = generate_definition("esd", "galileo100", lock=None, fmt="apptainer", force=True)
    assert first == generate_definition("esd", "galileo100", lock=None, fmt="apptainer", force=True)


def test_local_dockerfile_is_single_stage_from_debian(tmp_path: Path) -> None:
    text = generate_definition("mpi-base", "local", lock=None, fmt="dockerfile", force=True)
    instructions = [line.split()[0] for line in text.splitlines() if line and line[0] != " "]
    assert [line for line in text.splitlines() if line.startswith("FROM")] == ["FROM debian:12"]
    assert set(instructions) <= {"#", "FROM", "COPY", "RUN", "ENV", "LABEL"}
    assert "openmpi-common" in text and "apt-get install" in text
    # pip_packages (NEST) come from wheels the host's pip put in the build context: no network.
    assert "COPY .esdc-wheels/ /var/cache/esdc-wheels/" in text
    assert "--no-index --no-deps --find-links /var/cache/esdc-wheels nest-simulator==" in text
    assert 'ENV OMPI_MCA_pml_ucx_tls="any"' in text


def test_spack_dockerfile_is_multi_stage_with_the_lock() -> None:
    text = generate_definition(
        "nest-reference", "jureca-dc", lock=None, fmt="dockerfile", force=True
    )
    assert "FROM spack/rockylinux9:v0.22.2 AS build" in text
    assert "COPY spack-envs/nest-reference/spack.lock /opt/spack-environment/spack.lock" in text
    assert "COPY --from=build /opt/software /opt/software" in text


def test_unknown_format_is_an_error() -> None:
    with pytest.raises(EsdcError, match="unknown format 'rpm'"):
        generate_definition("mpi-base", "local", lock=None, fmt="rpm", force=True)


HOSTILE = "foo; rm -rf / $(x) `y` 'z'"


@pytest.fixture
def hostile_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "site-profiles", tmp_path / "site-profiles")
    shutil.copytree(REPO / "spack-envs", tmp_path / "spack-envs")
    monkeypatch.setenv("ESDC_HOME", str(tmp_path))
    return tmp_path


def _hostile_site(home: Path, extra: str) -> None:
    text = (home / "site-profiles" / "karolina.yaml").read_text()
    text = text.replace("environment: {}", f"environment:\n  EVIL: {HOSTILE!r}")
    (home / "site-profiles" / "hostile.yaml").write_text(
        text.replace("name: karolina", "name: hostile") + extra
    )


def test_shell_metacharacters_from_a_site_are_quoted(hostile_home: Path) -> None:
    _hostile_site(hostile_home, "buildcache:\n  name: 'm; reboot'\n  url: 'https://x/$(id)'\n")
    apptainer = generate_definition("mpi-base", "hostile", lock=None, fmt="apptainer", force=True)
    assert "export EVIL='foo; rm -rf / $(x) `y` '\"'\"'z'\"'\"''" in apptainer
    assert "spack mirror add --scope site 'm; reboot' 'https://x/$(id)'" in apptainer
    # The real shell reads the exported value back literally, nothing executed.
    export = next(line.strip() for line in apptainer.splitlines() if "export EVIL=" in line)
    shell = subprocess.run(
        ["sh", "-c", f'{export}; printf %s "$EVIL"'], capture_output=True, text=True, check=True
    )
    assert shell.stdout == HOSTILE
    docker = generate_definition("mpi-base", "hostile", lock=None, fmt="dockerfile", force=True)
    assert "ENV EVIL=\"foo; rm -rf / \\$(x) `y` 'z'\"" in docker


def test_values_that_cannot_be_quoted_are_rejected(hostile_home: Path) -> None:
    _hostile_site(hostile_home, "")
    path = hostile_home / "site-profiles" / "hostile.yaml"
    path.write_text(path.read_text().replace("EVIL:", "'BAD NAME':"))
    with pytest.raises(EsdcError, match="not a valid environment variable name"):
        generate_definition("mpi-base", "hostile", lock=None, fmt="apptainer", force=True)
    path.write_text(
        path.read_text().replace("'BAD NAME':", "NEWLINE:").replace(repr(HOSTILE), '"a\\nb"')
    )
    # Refused when the profile is loaded, with its file and line.
    with pytest.raises(EsdcError, match=r"hostile\.yaml:\d+: .*must be one line"):
        generate_definition("mpi-base", "hostile", lock=None, fmt="apptainer", force=True)
    path.write_text(
        path.read_text().replace('"a\\nb"', '"ab"').replace("[rdma-core,", "['rdma-core; reboot',")
    )
    with pytest.raises(EsdcError, match="not a valid OS package name"):
        generate_definition("mpi-base", "hostile", lock=None, fmt="apptainer", force=True)


def test_render_of_spec_directly_is_pure() -> None:
    spec = image_spec("mpi-base", "local", force=True)
    assert render(spec, "apptainer") == render(spec, "apptainer")


@settings(max_examples=60, deadline=None)
@given(
    value=st.text(
        # One line (builder.model.values.Line): no controls, no line or paragraph separators.
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        max_size=40,
    )
)
def test_any_single_line_value_survives_the_shell_literally(value: str) -> None:
    """Property: whatever a site sets, `sh` reads back exactly that value and runs nothing."""
    from builder.generate.quoting import sh

    line = f"export V={sh(value, 'site.environment.V')}"
    shell = subprocess.run(
        ["sh", "-c", f'{line}; printf %s "$V"'], capture_output=True, text=True, check=True
    )
    assert shell.stdout == value


@settings(max_examples=60, deadline=None)
@given(
    value=st.text(
        # One line (builder.model.values.Line): no controls, no line or paragraph separators.
        alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")),
        max_size=40,
    )
)
def test_docker_env_value_has_no_unescaped_dollar_or_quote(value: str) -> None:
    from builder.generate.quoting import docker_env

    quoted = docker_env(value, "site.environment.V")
    inner = quoted[1:-1]
    assert quoted[0] == quoted[-1] == '"'
    # Undo the escapes the Dockerfile parser undoes; the result is the value itself.
    assert re.sub(r"\\(.)", r"\1", inner) == value
    assert not re.search(r'(?<!\\)(?:\\\\)*[$"]', inner)
