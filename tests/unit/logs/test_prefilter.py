"""The grep prefilter: its command, its output parser and its failures."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.logs import prefilter


def test_literals_are_escaped_for_ere() -> None:
    literal = b"ep_cfg[ a.b*c (x) | {y} ^$ \\ +?"
    command = prefilter.grep_command([literal, b"plain"])
    assert command is not None
    data = b"x\n" + literal + b"\nfoo plain bar\nep_cfgX\n"
    out = subprocess.run([*command, "--", "-"], input=data, capture_output=True, check=True)
    assert out.stdout == b"2:" + literal + b"\n3:foo plain bar\n"


def test_switch_and_unusable_patterns_disable_grep(monkeypatch: pytest.MonkeyPatch) -> None:
    assert prefilter.grep_command([b"a\nb"]) is None
    assert prefilter.grep_command([]) is None
    monkeypatch.setenv(prefilter.ENV_SWITCH, "0")
    assert prefilter.grep_command([b"UCX"]) is None


def pieces(data: bytes, limit: int) -> list[tuple[int, bytes]]:
    return list(prefilter.numbered_pieces(io.BytesIO(data), limit))


def test_output_lines_become_numbered_pieces() -> None:
    assert pieces(b"3:abc\n17:def: x\n", 64) == [(3, b"abc"), (17, b"def: x")]
    assert pieces(b"", 64) == []


def test_long_lines_are_cut_like_readline() -> None:
    limit = 8
    assert pieces(b"5:" + b"a" * 8 + b"\n", limit) == [(5, b"a" * 8), (5, b"\n")]
    assert pieces(b"5:" + b"a" * 7 + b"\n", limit) == [(5, b"a" * 7)]
    assert pieces(b"5:" + b"a" * 20 + b"\n6:z\n", limit) == [
        (5, b"a" * 8),
        (5, b"a" * 8),
        (5, b"aaaa\n"),
        (6, b"z"),
    ]


def test_overlong_line_arriving_in_small_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prefilter, "PUMP_BYTES", 5)
    data = b"9:" + b"b" * 150 + b"\n10:c\n"
    got = pieces(data, 40)
    assert got[-1] == (10, b"c")
    assert b"".join(p for n, p in got if n == 9) == b"b" * 150 + b"\n"
    assert all(len(p) <= 40 for _, p in got)
    assert [len(p) for n, p in got if n == 9][:3] == [40, 40, 40]


def test_garbled_output_is_a_clear_error() -> None:
    with pytest.raises(EsdcError, match="unexpected output from grep"):
        pieces(b"not numbered\n", 64)


def test_grep_failure_is_reported(tmp_path: object) -> None:
    command = prefilter.grep_command([b"UCX"])
    assert command is not None
    with pytest.raises(EsdcError, match="grep failed"):
        prefilter.run_prefilter(command, "/no/such/file", lambda n, p: None, 64)


def test_stream_read_errors_are_reported() -> None:
    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, target: object) -> int:
            raise OSError("disk on fire")

    command = prefilter.grep_command([b"UCX"])
    assert command is not None
    with pytest.raises(EsdcError, match="disk on fire"):
        prefilter.run_prefilter(command, io.BufferedReader(Broken()), lambda n, p: None, 64)


def test_capped_chunks_cut_overlong_lines_and_keep_numbering() -> None:
    data = b"a\n" + b"x" * 50 + b"\nshort\n" + b"y" * 30 + b"UCX\n" + b"z" * 40
    out = b"".join(prefilter.capped_chunks(io.BytesIO(data), cap=16, size=8))
    assert out.split(b"\n") == [b"a", b"x" * 16, b"short", b"y" * 16, b"z" * 16]


def test_capped_chunks_leave_short_lines_alone() -> None:
    data = b"".join(b"line %d\n" % i for i in range(1000))
    assert b"".join(prefilter.capped_chunks(io.BytesIO(data), cap=64, size=64)) == data


def test_a_huge_single_line_reaches_grep_capped(tmp_path: Path) -> None:
    from builder.logs.registry import new_analysers
    from builder.logs.scan import scan_file

    big = tmp_path / "one-line.log"
    with big.open("wb") as sink:
        sink.write(b"UCX  ERROR first\n")
        for _ in range(prefilter.GREP_LINE_CAP // (1 << 20) + 4):
            sink.write(b"q" * (1 << 20))  # one line, longer than the cap
        sink.write(b"\n[n1:7:0] x.c:1 UCX  ERROR after the long line\n")
    analysers = new_analysers()
    scan_file(big, analysers)
    ucx = analysers[0].facts()
    lines = [e.line for f in ucx.findings for e in f.evidence]
    assert 1 in lines and 3 in lines  # numbering survives the cut


def test_numbered_pieces_drop_only_lines_the_consumer_has_read() -> None:
    out = (
        b"1:[1717000000.1] [n:1 :0] UCX  INFO a\n"
        b"2:[1717000009.9] [n:1 :0] UCX  INFO a\n"
        b"3:[n:1 :0] | 0..92 | eager | sysv/memory |\n"
        b"4:\x1b[1m[n:1 :0] UCX  INFO a\n"
        b"5:other\n"
    )
    seen = {b"[n:1 :0] UCX  INFO a"}  # what the consumer recorded (never a table row)
    got = list(prefilter.numbered_pieces(io.BytesIO(out), 1 << 20, seen))
    # 1 and 2 are repeats apart from the timestamp; a table row and a coloured line are kept.
    assert [n for n, _ in got] == [3, 4, 5]
