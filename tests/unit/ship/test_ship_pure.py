"""Pure parts of shipping: references, argv rendering, digest parsing, secrets handling."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship import registry, rsync
from builder.ship.digest import file_sha256, require_digest_match
from builder.ship.secrets import read_secret


def test_parse_ref_splits_registry_repository_and_tag() -> None:
    ref = registry.parse_ref("localhost:5000/esd/nest:3.8")
    assert (ref.registry, ref.repository, ref.tag) == ("localhost:5000", "esd/nest", "3.8")
    assert ref.text == "localhost:5000/esd/nest:3.8"


def test_parse_ref_refuses_a_reference_without_registry_host() -> None:
    with pytest.raises(EsdcError, match="registry host"):
        registry.parse_ref("nest")


@pytest.mark.parametrize("ref", ["esd/nest:1", "library/ubuntu", "docker/x@sha256:" + "a" * 64])
def test_a_reference_without_host_never_means_docker_hub(ref: str) -> None:
    with pytest.raises(EsdcError, match="registry host"):
        registry.parse_ref(ref)


def test_parse_ref_keeps_a_digest_and_uses_it_for_the_manifest() -> None:
    digest = "sha256:" + "b" * 64
    ref = registry.parse_ref(f"reg.example.org/esd/nest:1@{digest}")
    assert (ref.tag, ref.digest, ref.reference) == ("1", digest, digest)
    assert ref.text == f"reg.example.org/esd/nest@{digest}"
    assert registry.parse_ref(f"localhost:5000/a@{digest}").tag == "latest"


@pytest.mark.parametrize(
    "ref",
    [
        "localhost:5000/esd/nest:bad tag",
        "localhost:5000/ESD/nest",
        "localhost:5000/esd/nest@sha256:short",
        "localhost:5000/esd/nest:1\n",
        "localhost:5000/../x",
    ],
)
def test_malformed_references_are_refused(ref: str) -> None:
    with pytest.raises(EsdcError, match="not a valid OCI reference"):
        registry.parse_ref(ref)


@pytest.mark.parametrize(
    ("host", "insecure"),
    [("localhost:5000", True), ("127.0.0.1:5123", True), ("registry.jsc.fz-juelich.de", False)],
)
def test_only_local_registries_use_plain_http(host: str, insecure: bool) -> None:
    assert registry.is_insecure_registry(host) is insecure


def test_sif_images_travel_with_apptainers_media_type(tmp_path: Path) -> None:
    assert registry.media_type_for(tmp_path / "x.sif") == registry.SIF_MEDIA_TYPE
    assert registry.media_type_for(tmp_path / "x.sqfs") == registry.GENERIC_MEDIA_TYPE


def test_rsync_argv_copies_into_the_remote_directory(tmp_path: Path) -> None:
    image = tmp_path / "nest.sif"
    argv = rsync.rsync_argv(image, "user@login.site:/scratch/esd", ssh=rsync.ssh_argv())
    assert argv[0] == "rsync"
    assert argv[-2:] == [str(image), "user@login.site:/scratch/esd/"]
    assert "BatchMode=yes" in argv[argv.index("-e") + 1]


def test_remote_digest_argv_quotes_the_remote_path(tmp_path: Path) -> None:
    argv = rsync.remote_digest_argv(tmp_path / "a b.sif", "h:/x y", ssh=["ssh"])
    assert argv == ["ssh", "h", "sha256sum", "--", "'/x y/a b.sif'"]


def test_rsync_target_without_path_is_refused() -> None:
    with pytest.raises(EsdcError, match="host:/path"):
        rsync.split_target("login.site")


def test_parse_sha256sum_output() -> None:
    hexd = "a" * 64
    assert rsync.parse_sha256sum(f"{hexd}  /x/y.sif\n") == f"sha256:{hexd}"
    with pytest.raises(EsdcError):
        rsync.parse_sha256sum("sha256sum: /x: No such file")


def test_digest_mismatch_names_the_place(tmp_path: Path) -> None:
    image = tmp_path / "i"
    image.write_bytes(b"abc")
    digest = file_sha256(image)
    assert digest == "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    with pytest.raises(EsdcError, match=r"remote:.*digest mismatch"):
        require_digest_match(digest, "sha256:00", where="remote")


def test_secret_from_file_is_hidden_in_repr(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text("hunter2\n")
    secret = read_secret("REGISTRY_PASSWORD", {"ESDC_REGISTRY_PASSWORD_FILE": str(secret_file)})
    assert secret is not None
    assert secret.get_secret_value() == "hunter2"
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret)


def test_missing_secret_file_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="ESDC_UNICORE_TOKEN_FILE"):
        read_secret("UNICORE_TOKEN", {"ESDC_UNICORE_TOKEN_FILE": str(tmp_path / "none")})


@pytest.mark.parametrize(
    ("image", "ref"),
    [
        ("images/nest@jureca-dc.sif", "reg.example.org/esd/nest:jureca-dc"),
        ("images/mpi-base.sif", "reg.example.org/esd/mpi-base:latest"),
        ("images/NEST Sim@x y", "reg.example.org/esd/nest-sim:x-y"),
    ],
)
def test_ship_names_a_valid_reference_for_every_image_file(image: str, ref: str) -> None:
    from builder.ship.api import registry_ref_for

    made = registry_ref_for("reg.example.org/esd/", Path(image))
    assert made == ref
    registry.parse_ref(made)
