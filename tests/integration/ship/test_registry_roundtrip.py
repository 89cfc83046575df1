"""Push and pull through a real OCI registry (Debian's docker-registry) with ORAS."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship import registry
from builder.ship.digest import file_sha256

pytestmark = pytest.mark.integration


def test_push_then_pull_gives_back_the_same_bytes(local_registry: str, tmp_path: Path) -> None:
    image = tmp_path / "mpi-base.sif"
    image.write_bytes(b"SIF" + bytes(range(256)) * 4096)
    ref = f"{local_registry}/esd/mpi-base:test"

    pushed = registry.push(image, ref, annotations={"org.ebrains.esd.site": "local"})
    assert pushed.verified and pushed.digest == file_sha256(image)
    assert pushed.manifest_digest and pushed.manifest_digest.startswith("sha256:")

    pulled = registry.pull(ref, tmp_path / "out" / "pulled.sif")
    assert pulled.digest == pushed.digest
    assert (tmp_path / "out" / "pulled.sif").read_bytes() == image.read_bytes()
    assert not list((tmp_path / "out").glob(".esdc-pull-*")), "no partial download left behind"


def test_manifest_carries_apptainer_media_type_and_annotations(
    local_registry: str, tmp_path: Path
) -> None:
    image = tmp_path / "nest.sif"
    image.write_bytes(b"not really a SIF")
    registry.push(
        image, f"{local_registry}/esd/nest:1", annotations={"org.ebrains.esd.env": "nest"}
    )
    request = urllib.request.Request(
        f"http://{local_registry}/v2/esd/nest/manifests/1",
        headers={"Accept": "application/vnd.oci.image.manifest.v1+json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        manifest = json.load(response)
    assert manifest["layers"][0]["mediaType"] == registry.SIF_MEDIA_TYPE
    assert manifest["annotations"]["org.ebrains.esd.env"] == "nest"


def test_pull_of_a_missing_tag_is_one_clear_error(local_registry: str, tmp_path: Path) -> None:
    with pytest.raises(EsdcError) as excinfo:
        registry.pull(f"{local_registry}/esd/absent:none", tmp_path / "x")
    assert local_registry in str(excinfo.value) or "absent" in str(excinfo.value)
    assert not (tmp_path / "x").exists()


def test_esdc_push_and_pull_commands(local_registry: str, tmp_path: Path) -> None:
    image = tmp_path / "cli.sif"
    image.write_bytes(b"payload")
    ref = f"{local_registry}/esd/cli:1"
    esdc = [sys.executable, "-m", "builder.cli"]
    pushed = subprocess.run(
        [*esdc, "push", str(image), ref, "--json"], capture_output=True, text=True
    )
    assert pushed.returncode == 0, pushed.stderr
    summary = json.loads(pushed.stdout)
    assert summary["verified"] is True and summary["ref"] == ref
    assert summary["digest"] == file_sha256(image)
    assert summary["manifest_digest"].startswith("sha256:")
    assert summary["manifest_digest"] != summary["digest"]
    out = tmp_path / "back.sif"
    pulled = subprocess.run(
        [*esdc, "pull", ref, "-o", str(out), "--json"], capture_output=True, text=True
    )
    assert pulled.returncode == 0, pulled.stderr
    assert out.read_bytes() == b"payload"


def test_unreachable_registry_is_one_line_naming_the_host(tmp_path: Path) -> None:
    image = tmp_path / "i.sif"
    image.write_bytes(b"x")
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli", "push", str(image), "127.0.0.1:9/esd/x:1"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1 and "127.0.0.1:9" in done.stderr
    assert "Traceback" not in done.stderr


def test_tag_copies_the_manifest_and_pull_by_digest_works(
    local_registry: str, tmp_path: Path
) -> None:
    image = tmp_path / "tagme.sif"
    image.write_bytes(b"tag me" * 1000)
    ref = f"{local_registry}/esd/tagme:ci-1"
    esdc = [sys.executable, "-m", "builder.cli"]
    pushed = json.loads(
        subprocess.run(
            [*esdc, "push", str(image), ref, "--json"], capture_output=True, text=True, check=True
        ).stdout
    )
    digest = pushed["manifest_digest"]
    tagged = subprocess.run(
        [*esdc, "tag", f"{ref}@{digest}", "local-verified", "--json"],
        capture_output=True,
        text=True,
    )
    assert tagged.returncode == 0, tagged.stderr
    result = json.loads(tagged.stdout)
    assert result == {
        "ref": f"{local_registry}/esd/tagme:local-verified",
        "source": f"{local_registry}/esd/tagme@{digest}",
        "digest": digest,
    }
    # The new tag resolves to the very same manifest bytes.
    assert registry.resolve(result["ref"]).digest == digest
    out = tmp_path / "by-digest.sif"
    pulled = subprocess.run(
        [*esdc, "pull", f"{local_registry}/esd/tagme@{digest}", "-o", str(out), "--json"],
        capture_output=True,
        text=True,
    )
    assert pulled.returncode == 0, pulled.stderr
    assert out.read_bytes() == image.read_bytes()
    assert json.loads(pulled.stdout)["manifest_digest"] == digest


def test_pull_of_an_unknown_digest_is_one_line(local_registry: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "builder.cli",
            "pull",
            f"{local_registry}/esd/tagme@sha256:{'0' * 64}",
            "-o",
            str(tmp_path / "x"),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "x").exists()
