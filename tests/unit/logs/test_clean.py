"""Cleaning of raw log lines: colour, carriage returns, launcher prefixes, bad bytes."""

from __future__ import annotations

from builder.logs.clean import (
    MAX_EVIDENCE_CHARS,
    clean_line,
    decode_line,
    evidence_text,
    repeat_key,
    strip_ansi,
    strip_ansi_bytes,
    strip_launcher_prefixes,
)

UCX = "[1795318394.400350] [vm:8040 :0]  ucp_worker.c:1763 UCX  INFO    ep_cfg[1]: tag(sysv/memory)"


def test_plain_line_is_unchanged_but_for_the_newline() -> None:
    assert clean_line(UCX.encode() + b"\n") == UCX


def test_crlf_and_stray_carriage_returns_are_removed() -> None:
    assert clean_line(b"abc\r\n") == "abc"
    assert clean_line(b"progress 10%\rprogress 20%\r\n") == "progress 10%progress 20%"


def test_ansi_colours_and_cursor_codes_are_removed() -> None:
    raw = (
        b"\x1b[1;32m[vm:9385]\x1b[0m select: \x1b[2Kinitializing pml component \x1b[31mucx\x1b[m\n"
    )
    assert clean_line(raw) == "[vm:9385] select: initializing pml component ucx"
    assert strip_ansi("\x1b]0;title\x07text") == "text"
    assert strip_ansi_bytes(b"a\x1b[0mb") == b"ab"
    assert strip_ansi_bytes(b"no escape") == b"no escape"


def test_tag_output_prefixes_are_removed() -> None:
    assert clean_line(f"[1,0]<stdout>:{UCX}\n".encode()) == UCX
    assert clean_line(f"[12,3]<stderr>: {UCX}\n".encode()) == UCX
    assert clean_line(b"[1,1]<stddiag>:[vm:1] select: x\n") == "[vm:1] select: x"


def test_srun_label_prefixes_are_removed() -> None:
    assert clean_line(f"0: {UCX}\n".encode()) == UCX
    assert clean_line(f" 12: {UCX}\n".encode()) == UCX


def test_nested_prefixes_in_either_order_are_removed() -> None:
    assert strip_launcher_prefixes(f"3: [1,3]<stdout>:{UCX}") == UCX
    assert strip_launcher_prefixes(f"[1,3]<stdout>:3: {UCX}") == UCX


def test_ucx_and_open_mpi_prefixes_are_not_mistaken_for_launcher_prefixes() -> None:
    assert strip_launcher_prefixes("[vm:23143] select: component ofi selected") == (
        "[vm:23143] select: component ofi selected"
    )
    assert strip_launcher_prefixes(UCX) == UCX


def test_invalid_utf8_is_replaced_and_nuls_dropped() -> None:
    assert decode_line(b"ok \xff\xfe end\x00\x00\n") == "ok \ufffd\ufffd end"


def test_evidence_text_is_capped() -> None:
    short = "x" * MAX_EVIDENCE_CHARS
    assert evidence_text(short) == short
    capped = evidence_text("y" * 10_000)
    assert len(capped) == MAX_EVIDENCE_CHARS
    assert capped.endswith("…")


def test_tag_output_marker_glued_at_the_end_of_a_line_is_dropped() -> None:
    # Real shape: tests/fixtures/bench/mpi4py/pingpong_ompi-ucx_tag-output_ucx-info.txt
    assert clean_line(b"1048576  2563.91 | 4.09e-04 \xc2\xb1 1.2e-05  10000[1,0]<stdout>:") == (
        "1048576  2563.91 | 4.09e-04 ± 1.2e-05  10000"
    )


def test_library_line_glued_after_another_ranks_output_is_recovered() -> None:
    glued = b"rank 0 done[1,1]<stdout>:[17.1] [vm:7 :0] w.c:1 UCX  INFO  ep_cfg[0]: tag(tcp/lo)"
    assert clean_line(glued) == "[17.1] [vm:7 :0] w.c:1 UCX  INFO  ep_cfg[0]: tag(tcp/lo)"


def test_clean_lines_split_at_every_unicode_line_break() -> None:
    from builder.logs.clean import clean_lines

    assert clean_lines(b"plain line\r\n") == ["plain line"]
    assert clean_lines(b"a 10%\rb 20%\r\n") == ["a 10%", "b 20%"]
    glued = "one\u2028two\u2029three\x85four\x0cfive".encode()
    assert clean_lines(glued + b"\n") == ["one", "two", "three", "four", "five"]
    assert clean_lines(b"\r\r\n") == [""]


def test_repeat_key_ignores_the_line_ending() -> None:
    assert repeat_key(b"UCX line\n") == repeat_key(b"UCX line") == repeat_key(b"UCX line\r\n")
