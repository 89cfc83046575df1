"""Cleaning of raw log lines before an analyser sees them.

Real logs arrive decorated: terminals add ANSI colour codes, Windows-style tools add ``\\r``,
``mpirun --tag-output`` prefixes every line with ``[1,0]<stdout>:``, ``srun --label`` with
``0: ``, and crashed ranks leave NULs and invalid UTF-8 behind. The functions here remove all
of that and are pure, so the scanner's fast and simple paths clean lines identically.
"""

from __future__ import annotations

import re

#: Longest evidence text kept; a longer line is cut and ends with an ellipsis.
MAX_EVIDENCE_CHARS = 500

#: ANSI escape sequences: CSI (``ESC [ ... final``), OSC (``ESC ] ... BEL``) and two-byte escapes.
#: None of them spans a newline, so stripping them never changes line numbers.
_ANSI_TEXT = re.compile(
    r"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\^_]"
)
_ANSI_BYTES = re.compile(
    rb"\x1b\[[0-9;:?<=>]*[ -/]*[@-~]|\x1b\][^\x07\x1b\n]*(?:\x07|\x1b\\)?|\x1b[@-Z\\^_]"
)

#: ``mpirun --tag-output``: ``[jobid,rank]<stdout>:`` (also ``<stderr>``, ``<stddiag>``).
_TAG_OUTPUT = re.compile(r"^\[\d+,\d+\]<(?:stdout|stderr|stddiag)>:\s?")
#: ``srun --label``: the task number, right-aligned, a colon and a space.
_SRUN_LABEL = re.compile(r"^ *\d+: ")
_LABEL_START = frozenset(" 0123456789")


def strip_ansi_bytes(data: bytes) -> bytes:
    """Remove ANSI escape sequences from raw bytes (cheap no-op when there is no ESC byte)."""
    if b"\x1b" not in data:
        return data
    return _ANSI_BYTES.sub(b"", data)


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor movement, terminal titles) from text."""
    if "\x1b" not in text:
        return text
    return _ANSI_TEXT.sub("", text)


def decode_line(raw: bytes) -> str:
    """Decode one raw line as UTF-8, replacing invalid bytes and dropping NULs and line ends."""
    text = raw.decode("utf-8", errors="replace")
    if "\x00" in text:
        text = text.replace("\x00", "")
    return text.rstrip("\r\n").replace("\r", "")


#: A ``--tag-output`` marker anywhere in a line: ranks that print without a trailing newline get
#: the next rank's tagged line glued onto theirs.
_TAG_OUTPUT_ANYWHERE = re.compile(r"\[\d+,\d+\]<(?:stdout|stderr|stddiag)>:\s?")


def strip_glued_tags(text: str) -> str:
    """Keep what follows the last ``--tag-output`` marker glued inside a line.

    ``text...[1,0]<stdout>:`` loses the dangling marker; ``app text[1,1]<stdout>:UCX ...`` becomes
    the line that starts at the marker, which is the one a library printed.
    """
    if ">:" not in text:
        return text
    markers = list(_TAG_OUTPUT_ANYWHERE.finditer(text))
    if not markers or (len(markers) == 1 and markers[0].start() == 0):
        return text
    last = markers[-1]
    rest = text[last.end() :]
    if rest.strip():
        return rest
    return _TAG_OUTPUT_ANYWHERE.sub("", text[: last.start()]) if last.start() else text


def strip_launcher_prefixes(text: str) -> str:
    """Remove ``srun --label`` and ``mpirun --tag-output`` prefixes (in either nesting order)."""
    text = strip_glued_tags(text)
    head = text[:2]
    if not head or not (head[0] in _LABEL_START or (head[0] == "[" and head[1:].isdigit())):
        return text  # cheap exit for the usual line: neither prefix can start here
    # srun may wrap mpirun output and the other way round; two rounds cover both orders.
    for _ in range(2):
        stripped = _TAG_OUTPUT.sub("", text, count=1)
        stripped = _SRUN_LABEL.sub("", stripped, count=1)
        if stripped == text:
            break
        text = stripped
    return text


def clean_line(raw: bytes) -> str:
    """The text an analyser receives for one raw line: decoded, uncoloured, prefixes removed."""
    return strip_launcher_prefixes(strip_ansi(decode_line(raw)))


#: Characters ``str.splitlines`` breaks at besides ``\n``: CR, VT, FF, FS, GS, RS, NEL, LS, PS.
_OTHER_BREAKS = frozenset("\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")


def clean_lines(raw: bytes) -> list[str]:
    """The lines an analyser receives for one raw (``\n``-terminated) line.

    Usually one. Any other line break inside it (a bare ``\r`` of a progress display or an
    old Mac file, a form feed, NEL, U+2028/U+2029) starts a new line with the same number, so
    that two library lines glued by such a break are both read.
    """
    text = decode_line(raw) if b"\r" not in raw else _decode_keeping_cr(raw)
    if not _OTHER_BREAKS.intersection(text):
        return [strip_launcher_prefixes(strip_ansi(text))]
    parts = [strip_launcher_prefixes(strip_ansi(part)) for part in text.splitlines()]
    return [part for part in parts if part] or [""]


def _decode_keeping_cr(raw: bytes) -> str:
    text = raw.decode("utf-8", errors="replace").replace("\x00", "")
    return text.rstrip("\r\n")


def evidence_text(text: str) -> str:
    """``text`` capped at :data:`MAX_EVIDENCE_CHARS` characters (an ellipsis marks a cut)."""
    if len(text) <= MAX_EVIDENCE_CHARS:
        return text
    return text[: MAX_EVIDENCE_CHARS - 1] + "…"


#: A leading unix timestamp (``[1717000000.123456] ``): the part of a line that makes every
#: repeat of a library line distinct.
_TIMESTAMP = re.compile(rb"\[\d{9,}\.\d+\]\s*")
#: A UCX lane group (``rma(``, ``am(``...): without ``cfg`` it continues the configuration above.
_LANE_GROUP = re.compile(rb"\b(?:tag|rma|amo|am|stream|ka|rma_am|amo_am)\(")
#: Distinct repeated-line keys remembered per input, and the longest line that is remembered:
#: together they bound the memory of the repeat filter (about 16 MB at most).
MAX_REPEAT_KEYS = 1 << 16
MAX_REPEAT_KEY_BYTES = 256


def repeat_key(raw: bytes) -> bytes | None:
    """The key under which a repeat of ``raw`` is skipped, or ``None`` if it must be read.

    Dense debug logs print the same library line again and again (each endpoint, each
    communicator, each iteration), differing only in the timestamp. A line equal to an earlier
    one apart from its leading timestamp adds nothing but a count, so it is read once. Lines
    that a reader interprets by their place rather than their text are always read: UCX
    protocol-table rows (``|``) and continuation lines of very old UCX (lane groups without a
    configuration number). The line ending is no part of the key: a last line without one
    repeats the line before it as much as a terminated one does.
    """
    raw = raw.rstrip(b"\r\n")
    if raw[:1] == b"[":
        stamp = _TIMESTAMP.match(raw)
        if stamp:
            raw = raw[stamp.end() :]
    elif b"] [" in raw[:40]:  # a launcher prefix before the timestamp
        raw = _TIMESTAMP.sub(b"", raw, count=1)
    if len(raw) > MAX_REPEAT_KEY_BYTES or b"|" in raw:
        return None
    if b"(" in raw and b"cfg" not in raw and b"UCX" in raw and _LANE_GROUP.search(raw):
        return None
    return raw
