"""The streaming scanner: fast and simple paths agree on every input shape."""

from __future__ import annotations

import gzip
import io
import sys
import tracemalloc
from pathlib import Path
from typing import ClassVar

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from builder.errors import EsdcError
from builder.logs import prefilter, scan
from builder.logs.base import LibraryFacts, LineAnalyser
from builder.logs.clean import repeat_key
from builder.model.analysis import Evidence


class Recorder(LineAnalyser):
    """A test analyser: records every line it is fed."""

    library: ClassVar[str] = "rec"
    anchors: ClassVar[tuple[bytes, ...]] = (b"UCX", b"select:", b"UCX  INFO")

    def __init__(self) -> None:
        self.seen: list[tuple[str, int, str]] = []

    def feed(self, text: str, evidence: Evidence) -> None:
        self.seen.append((evidence.file, evidence.line, text))

    def facts(self) -> LibraryFacts:
        return LibraryFacts(library=self.library)


class NcclRecorder(Recorder):
    library: ClassVar[str] = "nccl"
    anchors: ClassVar[tuple[bytes, ...]] = (b"NCCL INFO", b"UCX")


def fast(data: bytes, chunk: int = scan.CHUNK_BYTES) -> tuple[list[object], int]:
    analysers = [Recorder(), NcclRecorder()]
    lines = scan.scan_stream(io.BytesIO(data), "f", analysers, chunk_bytes=chunk)
    return [a.seen for a in analysers], lines


def simple(data: bytes) -> tuple[list[object], int]:
    analysers = [Recorder(), NcclRecorder()]
    lines = scan.scan_simple_stream(io.BytesIO(data), "f", analysers)
    return [a.seen for a in analysers], lines


SAMPLE = (
    b"app line 1\n"
    b"[1795318394.400350] [vm:8040 :0] ucp_worker.c:1763 UCX  INFO    ep_cfg[1]: tag(sysv/memory)\n"
    b"app line 3\n"
    b"[vm:1] select: component ucx selected\n"
    b"host:1:2 [0] NCCL INFO Using network IB UCX\n"
)


def test_lines_reach_the_analysers_whose_anchors_they_hold() -> None:
    (rec, nccl), lines = fast(SAMPLE)
    assert lines == 5
    assert [line for _, line, _ in rec] == [2, 4, 5]
    assert [line for _, line, _ in nccl] == [2, 5]
    assert rec[1] == ("f", 4, "[vm:1] select: component ucx selected")


def test_router_searches_with_the_shortest_covering_anchors() -> None:
    router = scan.build_router([Recorder(), NcclRecorder()])
    assert set(router.keys) == {b"UCX", b"select:", b"NCCL INFO"}
    assert router.targets(b"x UCX  INFO y") == [0, 1]
    assert router.targets(b"NCCL INFO") == [1]
    assert router.targets(b"nothing") == []


def test_crlf_colour_and_launcher_prefixes_are_cleaned() -> None:
    data = (
        b"[1,0]<stdout>:\x1b[32m[vm:1] select: component ob1 selected\x1b[0m\r\n0: UCX  INFO x\r\n"
    )
    (rec, _), lines = fast(data)
    assert lines == 2
    assert [t for _, _, t in rec] == ["[vm:1] select: component ob1 selected", "UCX  INFO x"]


def test_colour_codes_inside_an_anchor_do_not_hide_it() -> None:
    (rec, _), _ = fast(b"app\n[vm:1] sel\x1b[0mect: x\n")
    assert [(line, t) for _, line, t in rec] == [(2, "[vm:1] select: x")]


def test_truncated_last_line_counts() -> None:
    (rec, _), lines = fast(b"a\nb\n[vm:1] select: cut off")
    assert lines == 3
    assert rec == [("f", 3, "[vm:1] select: cut off")]
    assert simple(b"a\nb\n[vm:1] select: cut off") == fast(b"a\nb\n[vm:1] select: cut off")


def test_empty_input() -> None:
    assert fast(b"") == ([[], []], 0)
    assert simple(b"") == ([[], []], 0)


def test_binary_garbage_does_not_crash() -> None:
    garbage = bytes(range(256)) * 50 + b"\n\x00\x00UCX\xff\xfe\n" + bytes(range(255, -1, -1))
    result = fast(garbage, chunk=97)
    assert result == simple(garbage)
    (rec, _), _ = result
    assert rec[-1][2] == "UCX\ufffd\ufffd"


def test_huge_lines_are_cut_into_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scan, "MAX_LINE_BYTES", 64)
    data = b"x" * 200 + b"UCX" + b"y" * 300 + b"\nshort UCX\n" + b"z" * 1000 + b"select: tail"
    for chunk in (7, 64, 100, 4096):
        assert fast(data, chunk) == simple(data)
    (rec, _), lines = fast(data, 50)
    assert lines == 3
    assert [line for _, line, _ in rec] == [1, 2, 3]
    assert all(len(t) <= 64 for _, _, t in rec)


def test_gzip_and_stdin_inputs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    packed = tmp_path / "run.log.gz"
    packed.write_bytes(gzip.compress(SAMPLE))
    analysers = [Recorder()]
    scan.scan_file(packed, analysers)
    assert [line for _, line, _ in analysers[0].seen] == [2, 4, 5]
    assert analysers[0].seen[0][0] == str(packed)

    class FakeStdin:
        buffer = io.BytesIO(SAMPLE)

    monkeypatch.setattr(sys, "stdin", FakeStdin())
    from_stdin = [Recorder()]
    assert scan.scan_simple("-", from_stdin) == 5
    assert [(f, line) for f, line, _ in from_stdin[0].seen] == [("-", 2), ("-", 4), ("-", 5)]


def _by_scan_file(path: Path, env: str, monkeypatch: pytest.MonkeyPatch) -> list[object]:
    monkeypatch.setenv(prefilter.ENV_SWITCH, env)
    analysers = [Recorder(), NcclRecorder()]
    scan.scan_file(path, analysers)
    return [a.seen for a in analysers]


MIXED = (
    b"\x1b[1mUC\x1b[0mX colour inside an anchor\n"
    + b"[1,0]<stdout>:[vm:1] select: a\r\n"
    + b"x" * 300
    + b"UCX"
    + b"y" * 100
    + b"\n"
    + bytes(range(256))
    + b"\nhost:1:2 [0] NCCL INFO Using network IB\n"
    + b"NCCL INFO " * 30
    + b"\n\nlast select: cut"
)


@pytest.mark.parametrize("compressed", [False, True])
def test_grep_prefilter_python_fast_path_and_simple_path_agree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, compressed: bool
) -> None:
    monkeypatch.setattr(scan, "MAX_LINE_BYTES", 64)
    path = tmp_path / ("mixed.log.gz" if compressed else "mixed.log")
    path.write_bytes(gzip.compress(MIXED) if compressed else MIXED)
    expected = [Recorder(), NcclRecorder()]
    scan.scan_simple(path, expected)
    reference = [a.seen for a in expected]
    assert reference[0][0][2] == "UCX colour inside an anchor"
    assert _by_scan_file(path, "1", monkeypatch) == reference
    assert _by_scan_file(path, "0", monkeypatch) == reference


def test_stream_input_is_pumped_through_grep() -> None:
    analysers = [Recorder()]
    numbered = b"".join(
        SAMPLE.replace(b"vm:", b"vm%d:" % i).replace(b"host:", b"h%d:" % i) for i in range(1000)
    )
    scan.scan_input(io.BytesIO(numbered), "s", analysers)
    assert len(analysers[0].seen) == 3000
    assert analysers[0].seen[-1][1] == 5000


def test_repeats_of_a_line_apart_from_its_timestamp_are_read_once() -> None:
    analysers = [Recorder()]
    scan.scan_input(io.BytesIO(SAMPLE * 1000), "s", analysers)
    assert [line for _, line, _ in analysers[0].seen] == [2, 4, 5]
    assert repeat_key(b"[1717000000.5] [n:1 :0] x.c:1 UCX  INFO a") == repeat_key(
        b"[1717000001.75] [n:1 :0] x.c:1 UCX  INFO a"
    )
    # Lines read by their place, not their text, are never skipped.
    assert repeat_key(b"[n:1 :0] | 0..92 | eager short | sysv/memory |") is None
    assert repeat_key(b"[n:1 :0] x.c:1 UCX  INFO  rma(rc_mlx5/mlx5_0:1)") is None
    assert repeat_key(b"x" * 1000) is None


_PARTS = st.sampled_from(
    [
        b"\n",
        b"\r\n",
        b"UCX",
        b"UCX  INFO",
        b"select:",
        b"NCCL INFO",
        b"app ",
        b"\x1b[31m",
        b"\x1b[0m",
        b"[1,0]<stdout>:",
        b"0: ",
        b"\xff",
        b"\x00",
        b"sel",
        b"ect:",
        b"U",
        b"CX",
    ]
)


@settings(max_examples=150, deadline=None)
@given(parts=st.lists(_PARTS, max_size=60), chunk=st.integers(min_value=1, max_value=40))
def test_fast_path_equals_simple_path(parts: list[bytes], chunk: int) -> None:
    data = b"".join(parts)
    assert fast(data, chunk) == simple(data)


class _Endless(io.RawIOBase):
    """``size`` bytes of log, produced on demand so the test itself holds none of it."""

    def __init__(self, size: int) -> None:
        self.left = size
        self.block = (b"application output line that matches nothing\n" * 200) + (
            b"[vm:1] select: component ucx selected\n"
        )

    def readable(self) -> bool:
        return True

    def readinto(self, target: bytearray | memoryview) -> int:  # type: ignore[override]
        count = min(len(target), self.left, len(self.block))
        target[:count] = self.block[:count]
        self.left -= count
        return count


@pytest.mark.parametrize("size_mb", [4, 24])
def test_memory_stays_flat_whatever_the_input_size(size_mb: int) -> None:
    stream = io.BufferedReader(_Endless(size_mb * 1024 * 1024), buffer_size=1 << 16)

    class Counter(Recorder):
        def feed(self, text: str, evidence: Evidence) -> None:
            self.seen.clear()  # keep nothing: only the scanner's memory is measured

    tracemalloc.start()
    try:
        scan.scan_stream(stream, "big", [Counter()], chunk_bytes=1 << 20)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 6 * (1 << 20)


@settings(max_examples=25, deadline=None)
@given(parts=st.lists(_PARTS, max_size=60))
def test_grep_prefilter_equals_simple_path(parts: list[bytes]) -> None:
    data = b"".join(parts)
    analysers = [Recorder(), NcclRecorder()]
    scan.scan_input(io.BytesIO(data), "f", analysers)
    assert [a.seen for a in analysers] == simple(data)[0]


def test_read_errors_name_the_input() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, target: object) -> int:
            raise OSError("disk on fire")

    with pytest.raises(EsdcError, match=r"^broken\.log: cannot read: disk on fire"):
        scan.scan_input(io.BufferedReader(Broken()), "broken.log", [Recorder()])


_ENGINE = Path(__file__).parents[2] / "fixtures" / "logs" / "engine"
_REAL_LINES = sorted(
    {
        line + b"\n"
        for path in _ENGINE.glob("*.txt")
        for line in path.read_bytes().splitlines()
        if line.strip()
    }
)


@settings(max_examples=20, deadline=None)
@given(
    lines=st.lists(
        st.one_of(st.sampled_from(_REAL_LINES), _PARTS, st.binary(max_size=40)), max_size=80
    )
)
def test_real_analysers_see_the_same_on_every_path(lines: list[bytes]) -> None:
    from builder.logs.registry import new_analysers

    data = b"".join(lines)
    results = []
    for run in ("grep", "python", "simple"):
        analysers = new_analysers()
        if run == "grep":
            scan.scan_input(io.BytesIO(data), "f", analysers)
        elif run == "python":
            scan.scan_stream(io.BytesIO(data), "f", analysers, chunk_bytes=97)
        else:
            scan.scan_simple_stream(io.BytesIO(data), "f", analysers)
        results.append([a.facts().model_dump(mode="json") for a in analysers])
    assert results[0] == results[2]
    assert results[1] == results[2]
