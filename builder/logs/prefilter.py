"""Candidate-line prefilter through the system's ``grep``: the edge that makes scanning fast.

With one anchor set per library the analysers hold dozens of literal anchors (about 80). Python
has no multi-literal search in its standard library: one ``bytes.find`` pass per anchor runs at
well under 1 GB/s each, so 80 passes reach about a twentieth of grep, and an alternation regex
or a pure-C Aho-Corasick package measured slower still. grep matches all anchors in one
pass, so it selects the candidate lines (with their numbers) and Python only cleans, routes and
feeds those few lines.

Exactness: grep only preselects. Every line it returns is cut into the same pieces, stripped of
colour codes and checked against the analysers' anchors exactly as :func:`scan.scan_simple_stream`
does; lines holding an escape byte are always preselected, because a colour code inside an
anchor hides it from grep but not from the Python check. The result is the simple path's, which
the tests compare.

Where grep is missing (or ``ESDC_SCAN_GREP=0``), :func:`grep_command` returns ``None`` and the
caller falls back to the pure-Python fast path. grep holds one line at a time, so a file that
could hold a line longer than :data:`GREP_LINE_CAP` is pumped to grep through
:func:`capped_chunks`, which cuts such lines: memory stays bounded whatever the input.
"""

from __future__ import annotations

import contextlib
import operator
import os
import re
import shutil
import subprocess
import threading
import zlib
from collections.abc import Callable, Collection, Iterator, Sequence
from itertools import compress
from typing import IO

from builder.errors import EsdcError

#: Set to ``0`` to force the pure-Python scanner (tests compare both).
ENV_SWITCH = "ESDC_SCAN_GREP"
#: Bytes handed to grep's standard input per write when the input is a stream.
PUMP_BYTES = 1 << 20
#: Longest line grep is given (see :func:`capped_chunks`): grep's memory stays bounded.
GREP_LINE_CAP = 16 << 20


_ERE_SPECIAL = re.compile(rb"([][.*^$+?(){}|\\])")


def ere_literal(literal: bytes) -> bytes:
    """``literal`` escaped for a POSIX extended regular expression."""
    return _ERE_SPECIAL.sub(rb"\\\1", literal)


def grep_command(patterns: Sequence[bytes]) -> list[str | bytes] | None:
    """``grep -a -n -E 'P1|P2|...'`` for literal ``patterns``; ``None`` when grep cannot be used.

    One ERE alternation measured twice as fast as ``grep -F`` with the same ~80 literals
    (GNU grep 3.8), so the literals are escaped and joined.
    """
    if os.environ.get(ENV_SWITCH, "1") == "0" or not patterns:
        return None
    grep = shutil.which("grep")
    if grep is None or any(b"\n" in p or b"\x00" in p or not p for p in patterns):
        return None
    alternation = b"|".join(ere_literal(p) for p in patterns)
    return [grep, "-a", "-n", "-E", "-e", alternation]


def numbered_pieces(
    stream: IO[bytes], max_piece: int, repeats: Collection[bytes] = ()
) -> Iterator[tuple[int, bytes]]:
    """Parse grep's ``N:line`` output into ``(N, piece)``, pieces cut like ``readline(max_piece)``.

    A line of up to ``max_piece`` bytes is one piece; a longer one comes as consecutive pieces
    of ``max_piece`` bytes from the line start (its newline counted), all numbered ``N``. Output
    is read in large blocks and split in C; only an overlong line is handled piece by piece, so
    memory stays bounded by the block size plus ``max_piece``. A line whose
    :func:`~builder.logs.clean.repeat_key` is in ``repeats`` (lines the consumer has read) is
    skipped here, before any other work: dense logs repeat most of their lines.
    """
    pending = b""
    open_line: int | None = None  # number of an overlong line whose first pieces went out
    while True:
        block = stream.read1(PUMP_BYTES) if hasattr(stream, "read1") else stream.read(PUMP_BYTES)
        if not block:
            break
        pending = pending + block if pending else block
        while True:
            if open_line is not None:
                newline = pending.find(b"\n", 0, max_piece)
                if newline == -1:
                    if len(pending) < max_piece:
                        break  # wait for more of this line
                    yield open_line, pending[:max_piece]
                    pending = pending[max_piece:]
                    continue
                yield open_line, pending[: newline + 1]
                pending = pending[newline + 1 :]
                open_line = None
            cut = pending.rfind(b"\n") + 1
            if cut:
                body = pending[: cut - 1]
                lines = body.split(b"\n")
                if repeats:
                    lines = _unread(body, lines, repeats)
                for line in lines:
                    yield from _line_pieces(line, max_piece)
                pending = pending[cut:]
            if len(pending) <= max_piece + 32:
                break
            # An overlong line without its newline yet: hand on its pieces as they arrive.
            number, content = _split_number(pending)
            open_line, pending = number, content
    if pending:
        if open_line is not None:
            yield open_line, pending
        else:
            yield from _line_pieces(pending.rstrip(b"\n"), max_piece)


#: grep's ``N:`` and a leading timestamp, then the rest of the line: a line's repeat key when
#: it has one (see :func:`builder.logs.clean.repeat_key`), found for a whole block at once.
_NUMBERED_KEY = re.compile(rb"(?m)^\d+:(?:\[\d{9,}\.\d+\][ \t]*)?(.*)$")


def _unread(body: bytes, lines: list[bytes], repeats: Collection[bytes]) -> list[bytes]:
    """``lines`` (grep's ``N:line`` of ``body``) less those whose key is in ``repeats``.

    The keys of the whole block come from one regex pass in C. A key computed here either
    equals the line's :func:`repeat_key` or is no key at all (never in ``repeats``), so this
    only ever drops lines the consumer would skip; the consumer still checks what is left.
    """
    keys = _NUMBERED_KEY.findall(body)
    if len(keys) != len(lines):
        return lines
    if b"\x1b" not in body:  # the usual block: select in C, no Python step per line
        return list(compress(lines, map(operator.not_, map(repeats.__contains__, keys))))
    return [
        line
        for line, key in zip(lines, keys, strict=True)
        if key not in repeats or b"\x1b" in key  # colour: the consumer keys it uncoloured
    ]


def _split_number(line: bytes) -> tuple[int, bytes]:
    number, colon, content = line.partition(b":")
    if not colon or not number.isdigit():
        raise EsdcError(f"unexpected output from grep: {line[:80]!r}")
    return int(number), content


def _line_pieces(line: bytes, max_piece: int) -> Iterator[tuple[int, bytes]]:
    """One complete grep output line (newline removed) as numbered pieces."""
    number, content = _split_number(line)
    if len(content) < max_piece:
        yield number, content
        return
    whole = content + b"\n"
    for start in range(0, len(whole), max_piece):
        yield number, whole[start : start + max_piece]


def run_prefilter(
    command: list[str | bytes],
    source: IO[bytes] | str,
    handle_piece: Callable[[int, bytes], None],
    max_piece: int,
    repeats: Collection[bytes] = (),
) -> None:
    """Run grep over ``source`` (a path, or a stream pumped to its stdin); feed every piece.

    Raises :class:`EsdcError` when grep fails (exit status 2) or the stream cannot be read.
    """
    from_path = isinstance(source, str)
    argv: list[str | bytes] = [*command, "--", source if isinstance(source, str) else "-"]
    process = subprocess.Popen(
        argv,
        stdin=subprocess.DEVNULL if from_path else subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "LC_ALL": "C"},
    )
    assert process.stdout is not None and process.stderr is not None
    pump_error: list[BaseException] = []
    pump: threading.Thread | None = None
    if not from_path:
        assert process.stdin is not None and not isinstance(source, str)
        pump = threading.Thread(target=_pump, args=(source, process.stdin, pump_error), daemon=True)
        pump.start()
    try:
        for number, piece in numbered_pieces(process.stdout, max_piece, repeats):
            handle_piece(number, piece)
        status = process.wait()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if pump is not None:
            pump.join()
        process.stdout.close()
        errors = process.stderr.read().decode("utf-8", "replace").strip()
        process.stderr.close()
    if pump_error:
        error = pump_error[0]
        raise EsdcError(f"cannot read: {error}") from error
    if status not in (0, 1):  # 1: no line matched
        raise EsdcError(f"grep failed ({status}): {errors or 'no message'}")


def _pump(source: IO[bytes], sink: IO[bytes], errors: list[BaseException]) -> None:
    """Copy ``source`` into grep's stdin, lines capped; remember a read error for the caller."""
    try:
        for chunk in capped_chunks(source):
            sink.write(chunk)
    except BrokenPipeError:
        pass  # grep stopped early (killed after an error on our side)
    except (OSError, EOFError, zlib.error) as exc:  # a corrupt .gz, an unreadable stream
        errors.append(exc)
    finally:
        with contextlib.suppress(BrokenPipeError):
            sink.close()


def capped_chunks(
    source: IO[bytes], cap: int = GREP_LINE_CAP, size: int = PUMP_BYTES
) -> Iterator[bytes]:
    """``source`` in chunks, every line cut after ``cap`` bytes (newlines and numbering kept).

    grep holds a whole line in memory; a single line of a gigabyte (pasted binary data, a
    log without newlines) would cost it that much. A line longer than ``cap`` keeps its first
    ``cap`` bytes and loses the rest, which no library line needs. ``cap`` must be at least
    ``size``: then only the run of bytes across chunk boundaries can exceed it, and each chunk
    costs two searches.
    """
    run = 0  # bytes of the current (unterminated) line already passed on
    while True:
        chunk = source.read(size)
        if not chunk:
            return
        first = chunk.find(b"\n")
        if first == -1:
            room = cap - run
            if room > 0:
                yield chunk[:room]
            run += len(chunk)
            continue
        room = cap - run
        if first > room:  # the line in progress overflows: drop its excess up to the newline
            yield chunk[: max(room, 0)] + chunk[first:]
        else:
            yield chunk
        run = len(chunk) - chunk.rfind(b"\n") - 1
