"""A Debian base image made with debootstrap, for runtimes that cannot pull from a registry.

design.md traps: importing the debootstrap *directory* with ``ch-image import`` followed
``/dev/full`` and filled the disk, so the base is always a tarball made with
``--exclude='./dev/*'``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from builder.errors import EsdcError
from builder.fsio import atomic_write_text

DEFAULT_MIRROR = "http://deb.debian.org/debian"
APT_SOURCES = (Path("/etc/apt/sources.list"), Path("/etc/apt/sources.list.d"))

#: Docker-style names of the base and the Debian suite they stand for.
SUITES = {"debian:12": "bookworm", "debian:bookworm": "bookworm"}


def mirror_from_sources(texts: list[str], suite: str) -> str | None:
    """The first Debian mirror that serves ``suite`` in apt source texts (pure).

    Understands one-line ``deb URI SUITE COMPONENTS`` entries and deb822 ``.sources``
    stanzas (``URIs:``/``Suites:``); security and updates suites do not count.
    """
    for text in texts:
        for line in text.splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 3 and fields[0] == "deb":
                uri_at = 1
                while uri_at < len(fields) and fields[uri_at].startswith("["):
                    # deb [arch=amd64 signed-by=...] URI ...: skip the option block
                    while uri_at < len(fields) and not fields[uri_at].endswith("]"):
                        uri_at += 1
                    uri_at += 1
                if uri_at + 1 < len(fields) and fields[uri_at + 1] == suite:
                    return fields[uri_at]
        for stanza in re.split(r"\n\s*\n", text):
            values: dict[str, list[str]] = {}
            for line in stanza.splitlines():
                if ":" in line and not line.lstrip().startswith("#"):
                    key, _, value = line.partition(":")
                    values[key.strip().lower()] = value.split()
            if suite in values.get("suites", []) and "deb" in values.get("types", ["deb"]):
                uris = values.get("uris", [])
                if uris:
                    return uris[0]
    return None


def host_mirror(suite: str) -> str:
    """The mirror this machine's apt uses for ``suite``, else :data:`DEFAULT_MIRROR`."""
    texts: list[str] = []
    for place in APT_SOURCES:
        files = (
            sorted(place.glob("*.list")) + sorted(place.glob("*.sources"))
            if place.is_dir()
            else [place]
        )
        for path in files:
            if path.is_file():
                texts.append(path.read_text(errors="replace"))
    return mirror_from_sources(texts, suite) or DEFAULT_MIRROR


def debootstrap_argv(suite: str, target: Path, mirror: str) -> list[str]:
    """The debootstrap command of a minimal base (pure)."""
    return ["debootstrap", "--variant=minbase", suite, str(target), mirror]


def tar_argv(root: Path, tarball: Path) -> list[str]:
    """The tar command that packs a root file system without device nodes (pure)."""
    return ["tar", "-C", str(root), "--exclude=./dev/*", "-czf", str(tarball), "."]


def make_base_tarball(base: str, tarball: Path, log: Path) -> Path:
    """Create ``tarball`` (a debootstrap minbase of ``base``) unless it already exists.

    Raises
    ------
    EsdcError
        For an unknown base, a missing debootstrap, or a failed bootstrap (see ``log``).
    """
    if tarball.is_file():
        return tarball
    suite = SUITES.get(base)
    if suite is None:
        known = ", ".join(sorted(SUITES))
        raise EsdcError(f"no debootstrap recipe for base image {base!r} (known: {known})")
    if shutil.which("debootstrap") is None:
        raise EsdcError("debootstrap is not installed (run scripts/setup-local.sh)")
    tarball.parent.mkdir(parents=True, exist_ok=True)
    log.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="esdc-debootstrap-", dir=tarball.parent) as tmp:
        root = Path(tmp) / "root"
        partial = Path(tmp) / "base.tgz"
        with open(log, "a") as sink:
            for argv in (
                debootstrap_argv(suite, root, host_mirror(suite)),
                tar_argv(root, partial),
            ):
                sink.write(f"$ {' '.join(argv)}\n")
                sink.flush()
                proc = subprocess.run(argv, stdout=sink, stderr=subprocess.STDOUT, check=False)
                if proc.returncode != 0:
                    raise EsdcError(f"{argv[0]} failed (exit {proc.returncode}); see {log}")
        partial.replace(tarball)
    atomic_write_text(tarball.with_suffix(".suite"), f"{base} {suite}\n")
    return tarball
