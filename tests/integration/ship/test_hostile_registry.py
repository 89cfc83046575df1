"""A hostile registry on 127.0.0.1: malformed manifests, errors, stalls, a pull killed midway.

Each bad answer must end in one clear line and exit 2 (never a traceback, never a hang, never a
file at the output path), within the time limit ``ESDC_NET_TIMEOUT`` sets.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

BLOB = b"image bytes" * 100
BLOB_DIGEST = "sha256:" + hashlib.sha256(BLOB).hexdigest()
GOOD_LAYER = {"mediaType": "application/octet-stream", "digest": BLOB_DIGEST, "size": len(BLOB)}
CONFIG = {"mediaType": "application/vnd.oci.empty.v1+json", "digest": BLOB_DIGEST, "size": 2}


def manifest(**changes: object) -> bytes:
    document: dict[str, object] = {"schemaVersion": 2, "config": CONFIG, "layers": [GOOD_LAYER]}
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None}).encode()


#: Malformed manifests: (name, body). Each must be one line, exit 2.
MALFORMED: list[tuple[str, bytes]] = [
    ("not-json", b"<html>not json"),
    ("truncated", manifest()[:-7]),
    ("array", b"[1, 2]"),
    ("no-layers", manifest(layers=None)),
    ("layers-not-list", manifest(layers="all of them")),
    ("layer-not-object", manifest(layers=[17])),
    ("bad-digest", manifest(layers=[{**GOOD_LAYER, "digest": "sha256:../../etc/passwd"}])),
    ("negative-size", manifest(layers=[{**GOOD_LAYER, "size": -5}])),
    ("schema-1", manifest(schemaVersion=1)),
    ("index", json.dumps({"schemaVersion": 2, "manifests": []}).encode()),
    ("two-layers", manifest(layers=[GOOD_LAYER, GOOD_LAYER])),
    ("huge", b'{"schemaVersion": 2, "pad": "' + b"x" * (5 << 20) + b'"}'),
]

Handler = Callable[[BaseHTTPRequestHandler], None]


class HostileRegistry:
    """Answers ``/v2/`` normally and every other path with the behaviour set by the test."""

    def __init__(self) -> None:
        self.behaviour: Handler = lambda h: _send(h, 404, b"{}")
        owner = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path == "/v2/":
                    _send(self, 200, b"{}")
                else:
                    owner.behaviour(self)

            do_HEAD = do_GET
            do_POST = do_GET
            do_PUT = do_GET

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"


def _send(handler: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    handler.send_response(status)
    handler.send_header("Content-Length", str(len(body)))
    for key, value in headers.items():
        handler.send_header(key.replace("_", "-"), value)
    handler.end_headers()
    with contextlib.suppress(OSError):
        handler.wfile.write(body)


@pytest.fixture
def hostile() -> Iterator[HostileRegistry]:
    registry = HostileRegistry()
    thread = threading.Thread(target=registry.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield registry
    finally:
        registry.server.shutdown()
        registry.server.server_close()


def esdc_pull(host: str, out: Path, timeout_env: str = "2") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ESDC_NET_TIMEOUT": timeout_env, "ESDC_NET_RETRIES": "1"}
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", "pull", f"{host}/esd/x:1", "-o", str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def assert_one_line(done: subprocess.CompletedProcess[str], out: Path) -> None:
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert not out.exists()
    assert not list(out.parent.glob(".esdc-pull-*"))


@pytest.mark.parametrize(("name", "body"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_manifest_is_one_line(
    hostile: HostileRegistry, tmp_path: Path, name: str, body: bytes
) -> None:
    hostile.behaviour = lambda h: _send(
        h, 200, body, Content_Type="application/vnd.oci.image.manifest.v1+json"
    )
    done = esdc_pull(hostile.host, tmp_path / "out.sif")
    assert_one_line(done, tmp_path / "out.sif")
    assert hostile.host in done.stderr


@pytest.mark.parametrize("status", [500, 401, 403, 429, 503])
def test_error_answers_are_one_line(hostile: HostileRegistry, tmp_path: Path, status: int) -> None:
    hostile.behaviour = lambda h: _send(h, status, b'{"errors": [{"code": "DENIED"}]}')
    done = esdc_pull(hostile.host, tmp_path / "out.sif")
    assert_one_line(done, tmp_path / "out.sif")


def test_a_stalling_registry_does_not_hang_pull(hostile: HostileRegistry, tmp_path: Path) -> None:
    stop = threading.Event()
    hostile.behaviour = lambda h: stop.wait(60)
    try:
        done = esdc_pull(hostile.host, tmp_path / "out.sif", timeout_env="1")
    finally:
        stop.set()
    assert_one_line(done, tmp_path / "out.sif")
    assert "ESDC_NET_TIMEOUT" in done.stderr


def _manifest_then(blob_behaviour: Handler) -> Handler:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        if "/manifests/" in handler.path:
            _send(
                handler, 200, manifest(), Content_Type="application/vnd.oci.image.manifest.v1+json"
            )
        else:
            blob_behaviour(handler)

    return behave


def _stall_mid_blob(stop: threading.Event) -> Handler:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(BLOB)))
        handler.end_headers()
        handler.wfile.write(BLOB[:100])
        handler.wfile.flush()
        stop.wait(60)

    return behave


def test_a_blob_that_stalls_midway_leaves_nothing(hostile: HostileRegistry, tmp_path: Path) -> None:
    stop = threading.Event()
    hostile.behaviour = _manifest_then(_stall_mid_blob(stop))
    try:
        done = esdc_pull(hostile.host, tmp_path / "out.sif", timeout_env="1")
    finally:
        stop.set()
    assert_one_line(done, tmp_path / "out.sif")


def test_a_blob_with_other_bytes_is_refused(hostile: HostileRegistry, tmp_path: Path) -> None:
    hostile.behaviour = _manifest_then(lambda h: _send(h, 200, b"evil" * 275))
    done = esdc_pull(hostile.host, tmp_path / "out.sif")
    assert_one_line(done, tmp_path / "out.sif")
    assert "digest mismatch" in done.stderr


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_pull_interrupted_midway_leaves_no_partial_folder(
    hostile: HostileRegistry, tmp_path: Path, signum: int
) -> None:
    stop = threading.Event()
    hostile.behaviour = _manifest_then(_stall_mid_blob(stop))
    out = tmp_path / "out.sif"
    env = {**os.environ, "ESDC_NET_TIMEOUT": "60"}
    process = subprocess.Popen(
        [sys.executable, "-m", "builder.cli", "pull", f"{hostile.host}/esd/x:1", "-o", str(out)],
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob(".esdc-pull-*/blob")):
            assert process.poll() is None and time.monotonic() < deadline, "download never began"
            time.sleep(0.05)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=30)
    finally:
        stop.set()
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130
    assert "Traceback" not in stderr
    assert not out.exists()
    assert not list(tmp_path.glob(".esdc-pull-*"))


def test_a_dead_registry_fails_within_seconds(tmp_path: Path) -> None:
    done = esdc_pull("127.0.0.1:9", tmp_path / "out.sif")
    assert_one_line(done, tmp_path / "out.sif")
    assert "127.0.0.1:9" in done.stderr


@pytest.mark.parametrize("status", [500, 401, 503])
def test_a_push_the_registry_refuses_is_one_line(
    hostile: HostileRegistry, tmp_path: Path, status: int
) -> None:
    hostile.behaviour = lambda h: _send(h, status, b"{}")
    image = tmp_path / "i.sif"
    image.write_bytes(b"x" * 1000)
    done = subprocess.run(
        [sys.executable, "-m", "builder.cli", "push", str(image), f"{hostile.host}/esd/x:1"],
        capture_output=True,
        text=True,
        env={**os.environ, "ESDC_NET_TIMEOUT": "2", "ESDC_NET_RETRIES": "1"},
        timeout=120,
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr and hostile.host in done.stderr


@pytest.mark.parametrize("kind", ["directory", "fifo"])
def test_pull_never_replaces_a_directory_or_fifo(
    hostile: HostileRegistry, tmp_path: Path, kind: str
) -> None:
    hostile.behaviour = _manifest_then(lambda h: _send(h, 200, BLOB))
    out = tmp_path / "target"
    if kind == "directory":
        out.mkdir()
    else:
        os.mkfifo(out)
    done = esdc_pull(hostile.host, out)
    assert done.returncode == 2 and "only a regular file or nothing" in done.stderr, done.stderr
    assert out.is_dir() if kind == "directory" else out.is_fifo()
    regular = tmp_path / "regular.sif"
    regular.write_bytes(b"old")
    assert esdc_pull(hostile.host, regular).returncode == 0
    assert regular.read_bytes() == BLOB


def _public_key(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519

    pub = tmp_path / "site.pub"
    pub.write_bytes(
        ed25519.Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pub


INDEX = "application/vnd.oci.image.index.v1+json"

#: Bad referrers answers: (name, answer to /referrers/, answer to the sha256-<hex> tag).
BAD_REFERRERS: list[tuple[str, tuple[int, bytes], tuple[int, bytes]]] = [
    ("garbage-list", (200, b"{{{"), (404, b"{}")),
    ("garbage-tag-index", (404, b"{}"), (200, b"[]")),
    ("bad-descriptor", (200, b'{"schemaVersion": 2, "manifests": [{"digest": 1}]}'), (404, b"")),
    (
        "attestation-missing",
        (
            200,
            json.dumps(
                {
                    "schemaVersion": 2,
                    "manifests": [
                        {
                            "mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": "sha256:" + "0" * 64,
                            "size": 10,
                            "artifactType": "application/vnd.in-toto+json",
                        }
                    ],
                }
            ).encode(),
        ),
        (404, b""),
    ),
]


@pytest.mark.parametrize(
    ("name", "listed", "tagged"), BAD_REFERRERS, ids=[b[0] for b in BAD_REFERRERS]
)
def test_a_verified_pull_with_bad_referrers_is_refused_in_one_line(
    hostile: HostileRegistry,
    tmp_path: Path,
    name: str,
    listed: tuple[int, bytes],
    tagged: tuple[int, bytes],
) -> None:
    def behave(handler: BaseHTTPRequestHandler) -> None:
        if "/referrers/" in handler.path:
            _send(handler, listed[0], listed[1], Content_Type=INDEX)
        elif "/manifests/sha256-" in handler.path:
            _send(handler, tagged[0], tagged[1], Content_Type=INDEX)
        elif "/manifests/" in handler.path and "sha256:" + "0" * 64 not in handler.path:
            _send(
                handler, 200, manifest(), Content_Type="application/vnd.oci.image.manifest.v1+json"
            )
        elif "/blobs/" in handler.path:
            _send(handler, 200, BLOB)
        else:
            _send(handler, 404, b"{}")

    hostile.behaviour = behave
    out = tmp_path / "out.sif"
    done = subprocess.run(
        [
            *(sys.executable, "-m", "builder.cli", "pull", f"{hostile.host}/esd/x:1"),
            *("--verified-for", "local", "--trust", str(_public_key(tmp_path)), "-o", str(out)),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "ESDC_NET_TIMEOUT": "2"},
        timeout=120,
    )
    assert_one_line(done, out)
