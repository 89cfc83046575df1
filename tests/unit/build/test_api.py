"""Pure parts of esdc build: names, default outputs, provenance, signing commands."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from builder.build.api import build_image, default_output, image_tag, sidecar_paths
from builder.build.definition import read_facts
from builder.build.models import BuiltImage
from builder.build.provenance import make_provenance
from builder.build.signing import sign_image, signing_key, verify_image_signature
from builder.errors import EsdcError

HEADER = "# esdc: nest-mpi for local, from OS packages\nFROM debian:12\n"


def test_image_tag_from_env_and_site() -> None:
    assert image_tag(read_facts(Path("x.Dockerfile"), HEADER), Path("x.Dockerfile")) == (
        "esdc/nest-mpi:local"
    )


def test_image_tag_of_a_plain_dockerfile_uses_its_folder(tmp_path: Path) -> None:
    folder = tmp_path / "My Image"
    folder.mkdir()
    facts = read_facts(folder / "Dockerfile", "FROM debian:12\n")
    assert image_tag(facts, folder / "Dockerfile") == "esdc/my-image"


def test_default_outputs_per_format() -> None:
    docker = read_facts(Path("Dockerfile"), HEADER)
    assert default_output(docker, Path("Dockerfile")) == Path("images/nest-mpi@local")
    apptainer = read_facts(Path("n.def"), "Bootstrap: docker\nFrom: debian:12\n")
    assert default_output(apptainer, Path("defs/n.def")) == Path("images/n.sif")


def test_sidecars_sit_beside_the_image() -> None:
    assert sidecar_paths(Path("/i/nest")) == (
        Path("/i/nest.provenance.json"),
        Path("/i/nest.sbom.cdx.json"),
    )


def test_provenance_records_definition_site_runtime_and_times() -> None:
    image = BuiltImage(
        tag="esdc/nest-mpi:local",
        path=Path("/i/nest"),
        digest="sha256:" + "1" * 64,
        runtime="charliecloud",
        build_log=Path("/c/build.log"),
        base_digest="sha256:" + "2" * 64,
    )
    started = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
    record = make_provenance(
        image=image,
        definition=Path("/d/Dockerfile"),
        definition_sha256="sha256:" + "3" * 64,
        facts=read_facts(Path("Dockerfile"), HEADER),
        site=None,
        runtime_versions={"ch-image": "0.31"},
        git_commit="abc",
        git_dirty=False,
        started=started,
        finished=started,
    )
    payload = json.loads(record.model_dump_json(by_alias=True))
    assert payload["schema"] == "esdc.provenance/1"
    assert payload["site"] == "local" and payload["env"] == "nest-mpi"
    assert payload["base_image"] == "debian:12"
    assert payload["base_digest"] == "sha256:" + "2" * 64
    assert payload["runtime_versions"] == {"ch-image": "0.31"}


def test_build_of_a_missing_definition_names_it(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="cannot read") as info:
        build_image(tmp_path / "nope.def", output=None, site=None)
    assert "nope.def" in str(info.value)


def test_build_without_from_line_is_refused(tmp_path: Path) -> None:
    definition = tmp_path / "Dockerfile"
    definition.write_text("RUN true\n")
    with pytest.raises(EsdcError, match="no base image"):
        build_image(definition, output=None, site=None)


def test_signing_key_unset_and_missing(tmp_path: Path) -> None:
    assert signing_key({}) is None
    with pytest.raises(EsdcError, match="ESDC_SIGNING_KEY"):
        signing_key({"ESDC_SIGNING_KEY": str(tmp_path / "absent")})


@pytest.mark.parametrize(
    "algorithm",
    [["-algorithm", "ed25519"], ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"]],
)
def test_directory_image_signature_verifies_and_never_holds_the_key(
    tmp_path: Path, algorithm: list[str]
) -> None:
    """The PEM key that signs attestations also signs image digests; its public half verifies."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl not installed")
    key, public = tmp_path / "key.pem", tmp_path / "key.pub.pem"
    subprocess.run(["openssl", "genpkey", *algorithm, "-out", str(key)], check=True)
    subprocess.run(["openssl", "pkey", "-in", str(key), "-pubout", "-out", str(public)], check=True)
    image = tmp_path / "img"
    image.mkdir()
    digest = "sha256:" + "4" * 64
    signature = sign_image(image, digest, "charliecloud", key)
    assert signature == tmp_path / "img.sig"
    assert "PRIVATE KEY" not in signature.read_text()
    assert verify_image_signature(signature, digest, public)
    assert not verify_image_signature(signature, "sha256:" + "5" * 64, public)
    other = tmp_path / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", str(other)], check=True)
    subprocess.run(
        ["openssl", "pkey", "-in", str(other), "-pubout", "-out", str(public)], check=True
    )
    assert not verify_image_signature(signature, digest, public)


def test_generated_definitions_build_in_the_project_root(tmp_path: Path) -> None:
    from builder.build.api import build_context
    from builder.profiles import project_root

    generated = read_facts(tmp_path / "Dockerfile", HEADER)
    assert build_context(generated, tmp_path / "Dockerfile") == project_root()
    plain = read_facts(tmp_path / "Dockerfile", "FROM debian:12\n")
    assert build_context(plain, tmp_path / "Dockerfile") == tmp_path.resolve()


REFERENCE_LOCK = Path(__file__).parents[3] / "spack-envs" / "nest-reference" / "spack.lock"


def test_spack_sbom_reads_the_lock_the_definition_copies(tmp_path: Path) -> None:
    from builder.build.api import _spack_components
    from builder.build.hashing import file_sha256

    (tmp_path / "envs").mkdir()
    shutil.copy2(REFERENCE_LOCK, tmp_path / "envs" / "spack.lock")
    sha = file_sha256(REFERENCE_LOCK).removeprefix("sha256:")
    text = (
        "# esdc: nest for jusuf\nFROM x\nCOPY envs/spack.lock /opt/env/spack.lock\n"
        f"LABEL a.lock-sha256={sha}\n"
    )
    components = _spack_components(read_facts(Path("Dockerfile"), text), tmp_path)
    assert len(components) == 76
    tampered = text.replace(sha, "0" * 64)
    with pytest.raises(EsdcError, match="differs from the sha256"):
        _spack_components(read_facts(Path("Dockerfile"), tampered), tmp_path)


def test_esdc_build_error_is_one_line_without_traceback(tmp_path: Path) -> None:
    import sys

    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            "from builder.cli import main; main()",
            "build",
            str(tmp_path / "absent.def"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"esdc: error: {tmp_path / 'absent.def'}: cannot read: No such file or directory"
    ]
