"""File-system edges shared by every verb: atomic writes and tolerant reads."""

from __future__ import annotations

import gzip
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from builder.errors import EsdcError


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, mode: int = 0o644) -> None:
    """Atomically write UTF-8 text."""
    atomic_write_bytes(path, text.encode("utf-8"), mode)


def atomic_write_json(path: Path, payload: Any) -> None:
    """Atomically write JSON with sorted keys and a trailing newline (stable diffs)."""
    atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True) + "\n")


@contextmanager
def open_binary_input(name: str | Path) -> Iterator[IO[bytes]]:
    """Open a log or output for reading as bytes: ``-`` is standard input, ``.gz`` is decompressed.

    Raises :class:`EsdcError` naming the file when it cannot be opened.
    """
    text_name = str(name)
    if text_name == "-":
        yield sys.stdin.buffer
        return
    path = Path(text_name)
    try:
        raw: IO[bytes] = open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise EsdcError(f"cannot open: {exc.strerror or exc}", where=path) from exc
    try:
        magic = raw.peek(2)[:2] if hasattr(raw, "peek") else b""
        if path.suffix == ".gz" or magic == b"\x1f\x8b":
            with gzip.GzipFile(fileobj=raw) as unzipped:
                yield unzipped  # type: ignore[misc]
        else:
            yield raw
    except (OSError, EOFError) as exc:
        raise EsdcError(f"cannot read: {exc}", where=path) from exc
    finally:
        raw.close()
