"""Fixtures shared across test areas.

``noise_immune_thresholds``: a copy of ``benchmarks/`` whose local bounds only catch a broken run
(20x slower, 95 % less bandwidth). Tests that judge a real run's transport and sanity use it: on
2 shared cores identical runs differ by 3x, and no test may assert a performance ratio.

``unicore``: a UNICORE server cannot run here, so the real PyUNICORE client talks to this small
HTTP server on 127.0.0.1 that records every request and answers with the minimum of UNICORE's
REST API (site, jobs, job, actions, storage, files). Tests using it check the requests made.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """On CI, an integration test may not skip: a missing tool means the setup step is broken.

    Outside CI a skip names what to install; on CI (``CI`` set, as .ci/run runs) the same skip
    fails, so that a green run cannot hide an install step that did not happen.
    """
    outcome = yield
    report = outcome.get_result()  # type: ignore[attr-defined]
    if report.skipped and os.environ.get("CI") and item.get_closest_marker("integration"):
        report.outcome = "failed"
        reason = report.longrepr[-1] if isinstance(report.longrepr, tuple) else report.longrepr
        report.longrepr = f"integration test skipped on CI: {reason}"


@pytest.fixture
def secret_shapes() -> list[tuple[str, str, str]]:
    """Secrets in the shapes a CI job's environment carries them: (variable, value, the part
    that must never reach a run directory), from tests/fixtures/secret-shapes.json."""
    data = json.loads((Path(__file__).parent / "fixtures" / "secret-shapes.json").read_text())
    return [(shape["name"], shape["value"], shape["secret"]) for shape in data["shapes"]]


@pytest.fixture
def noise_immune_thresholds(tmp_path: Path) -> Path:
    """A copy of benchmarks/ whose local bounds only catch a broken run (see the module doc)."""
    folder = tmp_path / "thresholds"
    shutil.copytree(Path(__file__).resolve().parents[1] / "benchmarks", folder)
    for path in folder.glob("*/thresholds.yaml"):
        data = yaml.safe_load(path.read_text())
        wide = {
            name: ({"upper": 20.0} if "upper" in check else {"lower": -0.95})
            for name, check in data.get("checks", {}).items()
        }
        data.setdefault("sites", {}).setdefault("local", {})["checks"] = wide
        path.write_text(yaml.safe_dump(data))
    return folder


@dataclass
class FakeUnicore:
    """Records requests; answers like a UNICORE site whose job succeeds at once."""

    base: str = ""
    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)
    uploads: dict[str, bytes] = field(default_factory=dict)
    status: str = "SUCCESSFUL"


@pytest.fixture
def unicore(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeUnicore]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")
    state = FakeUnicore()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def _record(self) -> bytes:
            body = self._body()
            state.requests.append((self.command, self.path, dict(self.headers), body))
            return body

        def _json(
            self, payload: object, code: int = 200, headers: dict[str, str] | None = None
        ) -> None:
            data = json.dumps(payload).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._record()
            base, path = state.base, self.path
            job = f"{base}/jobs/J1"
            storage = f"{base}/storages/J1-uspace"
            if path == "/SITE/rest/core":
                self._json(
                    {
                        "client": {"role": {"selected": "user"}},
                        "server": {"version": "10.1.0"},
                        "_links": {"jobs": {"href": f"{base}/jobs"}},
                    }
                )
            elif path == "/SITE/rest/core/jobs/J1":
                self._json(
                    {
                        "status": state.status,
                        "exitCode": "0",
                        "submissionTime": "now",
                        "_links": {
                            "workingDirectory": {"href": storage},
                            "action:start": {"href": f"{job}/actions/start"},
                            "action:abort": {"href": f"{job}/actions/abort"},
                        },
                    }
                )
            elif path == "/SITE/rest/core/storages/J1-uspace":
                self._json({"resourceStatus": "READY"})
            elif path.startswith("/SITE/rest/core/storages/J1-uspace/files/"):
                name = path.rsplit("/", 1)[-1]
                # A file uploaded before comes back as it went; others are the job's outputs.
                data = state.uploads.get(name, f"{name} of the job\n".encode())
                if self.headers.get("Accept") == "application/json":
                    self._json({"isDirectory": False, "size": len(data)})
                else:
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
            else:
                self._json({"errorMessage": "no such thing"}, 404)

        def do_POST(self) -> None:
            self._record()
            if self.path == "/SITE/rest/core/jobs":
                self._json({}, 201, {"Location": f"{state.base}/jobs/J1"})
            else:
                self._json({})

        def do_PUT(self) -> None:
            body = self._record()
            state.uploads[self.path.rsplit("/", 1)[-1]] = body
            self.send_response(204)
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{server.server_address[1]}/SITE/rest/core"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
