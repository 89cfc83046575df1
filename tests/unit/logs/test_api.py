"""analyze_paths/analyze_streams, and `esdc analyze --json` through the real command line."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.logs.api import analyze_paths, analyze_streams
from builder.model.analysis import LIBRARIES, PATH_CLASSES

ENGINE = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"
ESDC = Path(sys.executable).with_name("esdc")


def fixture(prefix: str) -> Path:
    (path,) = ENGINE.glob(f"{prefix}-*.txt")
    return path


def test_inputs_are_listed_as_given_and_feed_one_analysis() -> None:
    names = [str(fixture("02")), str(fixture("25"))]
    analysis = analyze_paths(names)
    assert analysis.inputs == names
    assert analysis.libraries["ucx"] is not None and analysis.libraries["openmpi"] is not None


def test_gzip_input(tmp_path: Path) -> None:
    packed = tmp_path / "run.log.gz"
    packed.write_bytes(gzip.compress(fixture("04").read_bytes()))
    analysis = analyze_paths([str(packed)])
    assert analysis.intra_node == "tcp"
    assert all(e.file == str(packed) for f in analysis.findings for e in f.evidence)


def test_streams_match_files() -> None:
    data = fixture("25").read_bytes()
    from_stream = analyze_streams(
        [("25.log", io.BytesIO(data))],
        baseline=[("02.log", io.BytesIO(fixture("02").read_bytes()))],
    )
    from_files = analyze_paths([str(fixture("25"))], baseline=[str(fixture("02"))])
    assert [f.code for f in from_stream.findings] == [f.code for f in from_files.findings]
    assert from_stream.degraded is from_files.degraded is True


def test_missing_file_is_a_user_error() -> None:
    with pytest.raises(EsdcError, match=r"no-such\.log"):
        analyze_paths(["no-such.log"])
    with pytest.raises(EsdcError):
        analyze_paths([])


def test_unknown_site_is_a_user_error() -> None:
    with pytest.raises(EsdcError, match="no-such-site"):
        analyze_paths([str(fixture("02"))], site="no-such-site")


def _validate_contract(data: dict[str, object]) -> None:
    assert next(iter(data)) == "schema" and data["schema"] == "esdc.analysis/1"
    assert set(data) == {
        "schema",
        "inputs",
        "libraries",
        "paths",
        "selected",
        "inter_node",
        "intra_node",
        "findings",
        "degraded",
    }
    libraries = data["libraries"]
    assert isinstance(libraries, dict) and list(libraries) == list(LIBRARIES)
    for info in libraries.values():
        assert info is None or set(info) == {"version", "loaded_from"}
    for path in data["paths"]:  # type: ignore[attr-defined]
        assert set(path) == {"library", "layer", "scope", "transport", "device", "count"}
        assert path["scope"] in {"self", "intra-node", "inter-node", "unknown"}
    assert set(data["selected"]) == {"pml", "btl", "mtl", "nccl_net", "ofi_provider", "gdr"}  # type: ignore[arg-type]
    for key in ("inter_node", "intra_node"):
        assert data[key] is None or data[key] in PATH_CLASSES
    for finding in data["findings"]:  # type: ignore[attr-defined]
        assert set(finding) == {"code", "severity", "library", "message", "evidence"}
        assert finding["severity"] in {"info", "warning", "error"}
        for item in finding["evidence"]:
            assert set(item) == {"file", "line", "text"} and item["line"] >= 1
    assert data["degraded"] in (True, False, None)


@pytest.mark.parametrize("prefix", ["02", "04", "06", "10", "22", "25"])
def test_cli_json_follows_the_contract(prefix: str) -> None:
    result = subprocess.run(
        [str(ESDC), "analyze", "--json", str(fixture(prefix))],
        capture_output=True,
        text=True,
        check=False,
    )
    data = json.loads(result.stdout)
    _validate_contract(data)
    # The exit status gates a pipeline: 0 healthy, 1 degraded, 3 no transport evidence.
    assert result.returncode == {False: 0, True: 1, None: 3}[data["degraded"]]


def test_cli_reads_stdin_and_runs_the_differential_mode() -> None:
    result = subprocess.run(
        [str(ESDC), "analyze", "--json", "--baseline", str(fixture("02")), "--", "-"],
        input=fixture("25").read_text(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    data = json.loads(result.stdout)
    _validate_contract(data)
    assert data["inputs"] == ["-"]
    assert data["degraded"] is True
    assert any(f["code"] == "PATH_DIFFERS" and f["severity"] == "error" for f in data["findings"])


def test_cli_with_site_and_a_bad_file() -> None:
    ok = subprocess.run(
        [str(ESDC), "analyze", "--json", "--site", "local", str(fixture("10"))],
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(ok.stdout)["degraded"] is False
    bad = subprocess.run([str(ESDC), "analyze", "missing.log"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert "missing.log" in bad.stderr + bad.stdout
    assert "Traceback" not in bad.stderr


# -- hostile inputs (issue 10): each is an error of that input or is read in bounded time --


def test_cli_corrupt_gzip_is_one_line_naming_the_file_and_exit_2(tmp_path: Path) -> None:
    packed = gzip.compress(fixture("04").read_bytes() * 50)
    corrupt = tmp_path / "cut.log.gz"
    corrupt.write_bytes(packed[: len(packed) // 2])
    result = subprocess.run(
        [str(ESDC), "analyze", "--json", str(corrupt)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stdout == ""  # no partial analysis
    assert str(corrupt) in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_garbage_behind_the_gzip_magic_is_an_error_of_that_input(tmp_path: Path) -> None:
    bad = tmp_path / "bad.log"
    bad.write_bytes(b"\x1f\x8bnot really gzip at all")
    with pytest.raises(EsdcError) as caught:
        analyze_paths([str(bad)])
    assert caught.value.where is not None and str(bad) in str(caught.value.where)


def test_a_fifo_is_opened_once_and_read_to_its_end(tmp_path: Path) -> None:
    import os
    import threading

    fifo = tmp_path / "pipe.log"
    os.mkfifo(fifo)
    data = fixture("04").read_bytes()

    def writer() -> None:
        with open(fifo, "wb") as sink:  # blocks until the reader opened it: once only
            sink.write(data)

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    result = subprocess.run(
        [str(ESDC), "analyze", "--json", str(fifo)], capture_output=True, text=True, timeout=60
    )
    thread.join(timeout=5)
    assert json.loads(result.stdout)["intra_node"] == "tcp"


def test_binary_and_truncated_input_is_read_without_error(tmp_path: Path) -> None:
    noisy = tmp_path / "noisy.log"
    noisy.write_bytes(
        bytes(range(256)) * 64
        + b"\n\x00\xff\xfe[vm:1] select: component ob1 selected\n"
        + fixture("04").read_bytes()[:-37]  # cut mid-line, no final newline
    )
    analysis = analyze_paths([str(noisy)])
    assert analysis.libraries["ucx"] is not None


def test_unicode_line_breaks_split_glued_library_lines(tmp_path: Path) -> None:
    line = (
        "[1717000000.1] [n1:7:0]  ucp_worker.c:2042 UCX  INFO  ucp_context_0 inter-node cfg#2 "
        "tag(rc_mlx5/mlx5_0:1)"
    )
    for brk in ["\r", "\u2028", "\u2029", "\x85", "\x0c"]:
        glued = tmp_path / "glued.log"
        glued.write_text(f"progress 10%{brk}{line}{brk}other text\n", encoding="utf-8")
        analysis = analyze_paths([str(glued)])
        assert analysis.inter_node == "ib", repr(brk)


def test_exit_status_follows_the_verdict() -> None:
    from builder.logs.api import exit_status
    from builder.model.analysis import Analysis

    def status(degraded: bool | None) -> int:
        return exit_status(Analysis(inputs=["x"], libraries={}, degraded=degraded))

    assert (status(False), status(True), status(None)) == (0, 1, 3)
