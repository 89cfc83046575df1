"""A researcher's path against a real registry (Debian's docker-registry on 127.0.0.1).

Push an image, judge a run of it, ``esdc attest``, ``esdc catalog`` lists it, ``esdc pull
--verified-for`` fetches it; and every way an image is not verified is refused with one line.
The run directory is the ``pass`` fixture (real benchmark outputs and logs) with its image
digest set to the pushed image's, judged by ``esdc verify`` and rendered by ``esdc report``:
running ``esdc validate --site local`` end to end is too slow for this test.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from builder.ship import dsse, registry
from builder.ship.attest import ArtifactKind, artifact_spec
from builder.ship.digest import file_sha256
from builder.ship.referrers import fetch_artifact, list_referrers, push_artifact, referrers_tag

pytestmark = pytest.mark.integration

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
ESDC = [sys.executable, "-m", "builder.cli"]


def esdc(
    *args: str, key: Path | None = None, path: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ESDC_")}
    if key is not None:
        env["ESDC_SIGNING_KEY"] = str(key)
    if path is not None:
        env["PATH"] = path
    return subprocess.run([*ESDC, *args], capture_output=True, text=True, env=env, timeout=120)


def one_line_refusal(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    return done.stderr


def make_keys(tmp: Path) -> tuple[Path, Path, Path, Path]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    site, other = tmp / "site.pem", tmp / "other.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", site], check=True)
    subprocess.run(
        [
            *("openssl", "genpkey", "-algorithm", "EC"),
            *("-pkeyopt", "ec_paramgen_curve:P-256", "-out", str(other)),
        ],
        check=True,
    )
    pubs = []
    for key in (site, other):
        pub = key.with_suffix(".pub")
        subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-out", pub], check=True)
        pubs.append(pub)
    return site, pubs[0], other, pubs[1]


def push(tmp: Path, registry_host: str, name: str) -> tuple[str, str, Path]:
    image = tmp / f"{name}.sif"
    image.write_bytes(name.encode() * 5000)
    ref = f"{registry_host}/esd/{name}:ci"
    done = esdc("push", str(image), ref, "--json")
    assert done.returncode == 0, done.stderr
    return ref, json.loads(done.stdout)["manifest_digest"], image


def judged_run(tmp: Path, fixture: str, image: Path, expected_exit: int) -> Path:
    run = tmp / f"run-{image.stem}"
    shutil.copytree(FIXTURES / fixture, run)
    manifest = json.loads((run / "run.json").read_text())
    manifest["image_digest"] = file_sha256(image)
    manifest["image"] = str(image)
    (run / "run.json").write_text(json.dumps(manifest))
    assert esdc("verify", str(run)).returncode == expected_exit
    assert esdc("report", str(run)).returncode == 0
    assert (run / "verdict.json").is_file() and (run / "report.html").is_file()
    return run


def test_researchers_get_only_images_verified_for_their_site(
    local_registry: str, tmp_path: Path
) -> None:
    site_key, site_pub, other_key, other_pub = make_keys(tmp_path)

    # The verified image: push, judge, attest (exact command line), catalog, pull.
    ref, digest, image = push(tmp_path, local_registry, "verified")
    # What `esdc build` leaves beside an image: attached with the verdict.
    image.with_name(image.name + ".provenance.json").write_text('{"builder_version": "0.1.0"}')
    image.with_name(image.name + ".sbom.cdx.json").write_text('{"bomFormat": "CycloneDX"}')
    run = judged_run(tmp_path, "pass", image, expected_exit=0)
    attested = esdc("attest", str(run), ref, key=site_key)
    assert attested.returncode == 0, attested.stderr
    assert site_key.read_text() not in attested.stdout + attested.stderr

    listed = esdc("catalog", f"{local_registry}/esd/verified", "--site", "local", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = json.loads(listed.stdout)["entries"]
    assert [(e["image"], e["site"], e["result"], e["current_rules"]) for e in entries] == [
        (digest, "local", "PASSED", True)
    ]
    assert entries[0]["keyid"] == dsse.key_id(dsse.load_public_key(site_pub))
    report = urllib.request.urlopen(entries[0]["report_url"], timeout=10).read()
    assert report == (run / "report.html").read_bytes()

    out = tmp_path / "pulled.sif"
    pulled = esdc("pull", ref, "--verified-for", "local", "--trust", str(site_pub), "-o", str(out))
    assert pulled.returncode == 0, pulled.stderr
    assert out.read_bytes() == image.read_bytes()
    by_digest = tmp_path / "by-digest.sif"
    pinned = f"{local_registry}/esd/verified@{digest}"
    pulled = esdc(
        "pull", pinned, "--verified-for", "local", "--trust", str(site_pub), "-o", str(by_digest)
    )
    assert pulled.returncode == 0 and by_digest.read_bytes() == image.read_bytes()

    # Apptainer's own signature check, with a stand-in `apptainer` that rejects the SIF (the
    # tool cannot be installed here): the verified image is still not written.
    stand_in = tmp_path / "bin"
    stand_in.mkdir()
    (stand_in / "apptainer").write_text(
        "#!/bin/sh\necho 'FATAL: no signature found' >&2\nexit 255\n"
    )
    (stand_in / "apptainer").chmod(0o755)
    checked = tmp_path / "apptainer-checked.sif"
    rejected = esdc(
        *("pull", ref, "--verified-for", "local", "--trust", str(site_pub)),
        *("--apptainer-verify", "-o", str(checked)),
        path=f"{stand_in}:{os.environ['PATH']}",
    )
    assert "apptainer verify failed: FATAL: no signature found" in one_line_refusal(rejected)
    assert not checked.exists()

    # The registry has no referrers API: the attestation is found through the referrers tag.
    index_url = f"http://{local_registry}/v2/esd/verified/manifests/{referrers_tag(digest)}"
    request = urllib.request.Request(
        index_url, headers={"Accept": "application/vnd.oci.image.index.v1+json"}
    )
    index = json.load(urllib.request.urlopen(request, timeout=10))
    kinds = {m["artifactType"] for m in index["manifests"]}
    assert kinds == {artifact_spec(kind).artifact_type for kind in ArtifactKind}

    target = tmp_path / "refused.sif"

    def refused(pull_ref: str, site: str = "local", trust: Path = site_pub) -> str:
        done = esdc(
            "pull", pull_ref, "--verified-for", site, "--trust", str(trust), "-o", str(target)
        )
        assert not target.exists()
        assert not list(tmp_path.glob(".esdc-pull-*"))
        return one_line_refusal(done)

    # Another site.
    assert "verified for site 'local', not 'jsc'" in refused(ref, site="jsc")
    # An untrusted key (the verified image, checked against another site's key).
    assert "untrusted key" in refused(ref, trust=other_pub)

    # An unverified image.
    bare_ref, _, _ = push(tmp_path, local_registry, "unverified")
    assert "never verified" in refused(bare_ref)

    # A failed verdict, honestly attested.
    failed_ref, _, failed_image = push(tmp_path, local_registry, "failed")
    failed_run = judged_run(tmp_path, "fail-cm-ofi", failed_image, expected_exit=1)
    assert esdc("attest", str(failed_run), failed_ref, key=site_key).returncode == 0
    assert "verdict is fail" in refused(failed_ref)

    # Signed by a key the researcher does not trust.
    stranger_ref, _, stranger_image = push(tmp_path, local_registry, "stranger")
    stranger_run = judged_run(tmp_path, "pass", stranger_image, expected_exit=0)
    assert esdc("attest", str(stranger_run), stranger_ref, key=other_key).returncode == 0
    assert "untrusted key" in refused(stranger_ref)

    # A tampered attestation: the verified image's envelope, payload re-pointed at another image.
    tampered_ref, tampered_digest, _ = push(tmp_path, local_registry, "tampered")
    parsed = registry.parse_ref(ref)
    client = registry.client_for(parsed, None)
    spec = artifact_spec(ArtifactKind.ATTESTATION)
    (good,) = list_referrers(client, parsed, digest, spec.artifact_type)
    _, blob = fetch_artifact(client, parsed, good, digest)
    envelope = json.loads(blob)
    payload = base64.b64decode(envelope["payload"]).decode()
    payload = payload.replace(
        digest.removeprefix("sha256:"), tampered_digest.removeprefix("sha256:")
    )
    envelope["payload"] = base64.b64encode(payload.encode()).decode()
    tampered = registry.parse_ref(tampered_ref)
    push_artifact(
        client,
        tampered,
        registry.fetch_manifest(client, tampered),
        artifact_type=spec.artifact_type,
        media_type=spec.media_type,
        data=json.dumps(envelope).encode(),
        annotations={},
    )
    assert "signature does not verify" in refused(tampered_ref)

    # The catalog of the failed image's repository shows its verdict; the HTML page links it.
    page = tmp_path / "catalog.html"
    listed = esdc(
        "catalog", f"{local_registry}/esd/failed", "--trust", str(site_pub), "--html", str(page)
    )
    assert listed.returncode == 0, listed.stderr
    assert "FAILED" in listed.stdout and "report" in page.read_text()
