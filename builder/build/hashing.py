"""Content digests of image artefacts: one file, or a whole directory tree (pure over the tree)."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    """The sha256 of a file's bytes, as ``sha256:HEX``."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def bytes_sha256(data: bytes) -> str:
    """The sha256 of ``data``, as ``sha256:HEX``."""
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def tree_sha256(root: Path, *, exclude: frozenset[str] = frozenset()) -> str:
    """A digest of a directory tree that changes when any name, type, mode, link or content does.

    Entries are visited in sorted order and never followed through symbolic links, so the
    digest is the same on every machine that holds the same tree. Ownership and times are left
    out: they differ between an unpacked copy and its origin without the image being different.
    Top-level names in ``exclude`` are skipped (e.g. files the build writes beside the image).
    """
    digest = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        current = Path(dirpath)
        if current == root:
            dirnames[:] = [d for d in dirnames if d not in exclude]
            filenames = [f for f in filenames if f not in exclude]
        dirnames.sort()
        # os.walk lists symbolic links to directories among dirnames; hash them as links.
        entries = sorted([*filenames, *(d for d in dirnames if (current / d).is_symlink())])
        rel_dir = current.relative_to(root).as_posix()
        digest.update(f"D {rel_dir}\n".encode())
        for name in entries:
            path = current / name
            info = path.lstat()
            mode = stat.S_IMODE(info.st_mode)
            rel = f"{rel_dir}/{name}".encode("utf-8", "surrogateescape")
            if stat.S_ISLNK(info.st_mode):
                target = os.readlink(path).encode("utf-8", "surrogateescape")
                digest.update(b"L " + rel + b" -> " + target + b"\n")
            elif stat.S_ISREG(info.st_mode):
                digest.update(b"F " + rel + f" {mode:o} {info.st_size}\n".encode())
                with open(path, "rb") as handle:
                    while chunk := handle.read(_CHUNK):
                        digest.update(chunk)
            else:
                # Device nodes, fifos and sockets: only their kind and name matter.
                digest.update(b"O " + rel + f" {stat.S_IFMT(info.st_mode):o}\n".encode())
    return f"sha256:{digest.hexdigest()}"
