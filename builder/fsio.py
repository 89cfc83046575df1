"""File-system edges shared by every verb: atomic writes and tolerant reads."""

from __future__ import annotations

import gzip
import json
import os
import stat
import sys
import tempfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

from builder.errors import EsdcError

#: What ``stat`` calls each kind of file that is not a regular file, in the refusal message.
_KINDS: tuple[tuple[Callable[[int], bool], str], ...] = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
)


def file_kind(mode: int) -> str:
    """``a directory``, ``a FIFO``... for an ``st_mode`` (``a regular file`` for one)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def check_output_path(path: Path, *, directory_ok: bool = False) -> Path:
    """The path to write, after refusing any target that writing would destroy or cannot reach.

    Only a regular file (through a symbolic link: the file it names) or nothing may be
    replaced; ``directory_ok`` also accepts a directory (an image in directory format). Devices
    (``/dev/null``), FIFOs, sockets and unwritable targets are refused with one
    :class:`EsdcError` naming the path, and nothing at the path is touched.
    """
    target = path.resolve() if path.is_symlink() else path
    try:
        mode = target.stat().st_mode
    except FileNotFoundError:
        return target
    except OSError as exc:
        raise EsdcError(f"cannot write here: {exc.strerror or exc}", where=path) from exc
    if stat.S_ISDIR(mode) and directory_ok:
        return target
    if not stat.S_ISREG(mode):
        raise EsdcError(
            f"refusing to replace {file_kind(mode)}: only a regular file or nothing may be "
            "at an output path",
            where=path,
        )
    if not os.access(target, os.W_OK):
        raise EsdcError("cannot write here: the file is not writable", where=path)
    return target


def atomic_write_bytes(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never a part.

    The target must be a regular file or absent (:func:`check_output_path`); every failure is
    one :class:`EsdcError` naming the path, and leaves the target untouched.
    """
    target = check_output_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    except OSError as exc:
        raise EsdcError(f"cannot write here: {exc.strerror or exc}", where=path) from exc
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, mode)
        os.replace(tmp_name, target)
    except OSError as exc:
        Path(tmp_name).unlink(missing_ok=True)
        raise EsdcError(f"cannot write: {exc.strerror or exc}", where=path) from exc
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
    except (OSError, EOFError, zlib.error) as exc:
        # A damaged .gz is an error of that input, never a traceback.
        raise EsdcError(f"cannot read: {exc}", where=path) from exc
    finally:
        raw.close()
