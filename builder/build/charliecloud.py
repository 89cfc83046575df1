"""Charliecloud for real: debootstrap base, ``ch-image build``, directory images, ``ch-run``.

design.md traps handled here: ``ch-image`` wants ``/usr/bin`` first on ``PATH`` (Debian's
python3 carries its ``lark``), ``ch-run`` wants ``USER`` set, and an inherited
``REQUESTS_CA_BUNDLE`` overrides ``--tls-no-verify``; all three are fixed in :func:`ch_env`.
Each ``ch-run`` gets its own user namespace, so ranks started by a host ``mpirun`` cannot use
CMA on each other unless they join one namespace (``--join``; ch-run takes the peer count
from ``OMPI_COMM_WORLD_LOCAL_SIZE`` or ``SLURM_STEP_TASKS_PER_NODE`` and the group tag from
``SLURM_STEP_ID`` or its parent's pid, which is right under both mpirun and srun).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pwd
import re
import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path

from builder.build.cache import cache_root
from builder.build.debian_base import SUITES, make_base_tarball
from builder.build.definition import copy_sources
from builder.build.hashing import bytes_sha256, file_sha256, tree_sha256
from builder.build.models import BuiltImage
from builder.build.runtime import NO_ENV
from builder.errors import EsdcError
from builder.fsio import atomic_write_text

_SYSTEM_PATH = "/usr/bin:/bin:/usr/sbin:/sbin"
_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)


_GIT_IDENTITY = {
    "GIT_AUTHOR_NAME": "esdc",
    "GIT_AUTHOR_EMAIL": "esdc@localhost",
    "GIT_COMMITTER_NAME": "esdc",
    "GIT_COMMITTER_EMAIL": "esdc@localhost",
}


def ch_env(base: Mapping[str, str], storage: Path) -> dict[str, str]:
    """The environment for ch-image / ch-convert / ch-run, from ``base`` (pure)."""
    env = {k: v for k, v in base.items() if k != "REQUESTS_CA_BUNDLE"}
    rest = [p for p in env.get("PATH", "").split(":") if p and p not in _SYSTEM_PATH.split(":")]
    env["PATH"] = ":".join([_SYSTEM_PATH, *rest])
    env.setdefault("USER", _user_name())
    # ch-image's build cache is a git repository: its commits fail (exit 128) where git has no
    # identity, as on a fresh machine. The identity is never seen outside that cache.
    for variable, value in _GIT_IDENTITY.items():
        env.setdefault(variable, value)
    env["CH_IMAGE_STORAGE"] = str(storage)
    return env


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.geteuid()).pw_name
    except KeyError:  # an id without a passwd entry (containers, CI)
        return str(os.geteuid())


def base_images(dockerfile_text: str) -> list[str]:
    """The images named by the ``FROM`` lines of a Dockerfile, in order (pure)."""
    return _FROM.findall(dockerfile_text)


def build_argv(tag: str, dockerfile: Path, context: Path, *, force: bool = True) -> list[str]:
    """``ch-image build`` of ``dockerfile`` (pure).

    ``--force`` makes ch-image 0.31 inject its workarounds for package managers (apt-get
    wants to drop privileges to ``_apt``, which a one-id user namespace cannot do).
    """
    return [
        "ch-image",
        "build",
        *(["--force"] if force else []),
        "-t",
        tag,
        "-f",
        str(dockerfile),
        str(context),
    ]


def import_argv(tarball: Path, tag: str) -> list[str]:
    """``ch-image import`` of a base tarball under ``tag`` (pure)."""
    return ["ch-image", "import", str(tarball), tag]


def _is_squash(path: Path) -> bool:
    return path.suffix in (".sqfs", ".squashfs")


def convert_argv(tag: str, output: Path) -> list[str]:
    """``ch-convert`` from ch-image storage to a directory or (``.sqfs``) a SquashFS file (pure)."""
    fmt = "squash" if _is_squash(output) else "dir"
    return ["ch-convert", "-i", "ch-image", "-o", fmt, tag, str(output)]


def run_argv(
    image: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] = NO_ENV,
    binds: Sequence[str] = (),
    join: bool = False,
) -> list[str]:
    """``ch-run [--join] [--bind=SRC:DST]... [--set-env=K=V]... IMAGE -- argv``: one rank (pure)."""
    command = ["ch-run"]
    if join:
        command.append("--join")
    for bind in binds:
        command.append(f"--bind={bind}")
    for key, value in env.items():
        command.append(f"--set-env={key}={value}")
    return [*command, image, "--", *argv]


def tool_version(tool: str, env: Mapping[str, str]) -> str | None:
    """``TOOL --version``'s last word, or None when the tool is missing."""
    if shutil.which(tool, path=env.get("PATH")) is None:
        return None
    proc = subprocess.run(
        [tool, "--version"], capture_output=True, text=True, env=dict(env), check=False
    )
    words = (proc.stdout or proc.stderr).split()
    return words[-1] if words else None


class CharliecloudRuntime:
    """Charliecloud 0.31+: builds with ``ch-image`` into a private storage, runs with ``ch-run``.

    Built images are kept under ``CACHE/charliecloud/images/KEY`` where KEY is the sha256 of
    the Dockerfile and its build context, so rebuilding an unchanged definition is a copy.
    """

    name = "charliecloud"

    def __init__(self, cache: Path | None = None) -> None:
        self.cache = (cache or cache_root()) / "charliecloud"
        self.storage = self.cache / "storage"
        self.env = ch_env(os.environ, self.storage)
        # ch-run exits with "$USER not set" otherwise (design.md); the launchers pass this
        # process's environment to every rank, so set it here once rather than per command.
        os.environ.setdefault("USER", self.env["USER"])

    # -- interface ------------------------------------------------------------------------------

    def exec_argv(
        self,
        image: str,
        argv: list[str],
        *,
        env: Mapping[str, str] = NO_ENV,
        binds: Sequence[str] = (),
        join: bool = False,
        gpu: bool = False,
    ) -> list[str]:
        """The argv that runs one rank in ``image`` (a directory image) with ``ch-run``."""
        if gpu:
            # Charliecloud has no run-time GPU switch: libraries are injected into the image
            # beforehand with ch-fromhost --nvidia. Refuse rather than silently run without.
            raise EsdcError(
                "charliecloud has no run-time GPU option; inject the driver with "
                "'ch-fromhost --nvidia IMAGE' and run without gpu",
                where=image,
            )
        return run_argv(image, argv, env=env, binds=binds, join=join)

    def versions(self) -> dict[str, str]:
        """Versions of ch-image and ch-run (missing tools are left out)."""
        found = {tool: tool_version(tool, self.env) for tool in ("ch-image", "ch-run")}
        return {tool: version for tool, version in found.items() if version}

    def build(
        self, recipe: Path, tag: str, *, context: Path, output: Path | None = None
    ) -> BuiltImage:
        """Build ``recipe`` (a Dockerfile) into a directory image, reusing the cache when possible.

        Parameters
        ----------
        recipe
            Dockerfile; its ``FROM debian:12`` base is made with debootstrap and imported.
        tag
            ch-image tag, e.g. ``esd/nest:local``.
        context
            Build context directory (files a ``COPY`` may name).
        output
            Where the image goes (a directory, or a ``.sqfs`` file); default in the cache.
        """
        self._check_tools()
        text = _read_text(recipe)
        key = _build_key(text, context)
        entry = self.cache / "images" / key.removeprefix("sha256:")[:32]
        cached_image = entry / "image"
        log = entry / "build.log"
        bases = base_images(text)
        if not bases:
            raise EsdcError("no FROM line", where=recipe)
        target = output or cached_image
        # ch-image refuses concurrent use of one storage directory ("already in use"): builds
        # from several processes (a campaign and a test, say) wait for each other, and the
        # second one of the same definition finds the first one's result in the cache.
        with self._storage_lock():
            cached = (entry / "digest").is_file() and cached_image.exists()
            if not cached:
                self._build_entry(recipe, tag, context, bases, entry)
        digest = _read_optional(entry / "digest") or tree_sha256(cached_image)
        if _is_squash(target):
            # A SquashFS file for shipping: ch-convert runs mksquashfs over the directory.
            self._run(
                ["ch-convert", "-i", "dir", "-o", "squash", str(cached_image), str(target)], log
            )
            digest = file_sha256(target)
        elif target != cached_image:
            digest = _place_copy(cached_image, target, digest)
        return BuiltImage(
            tag=tag,
            path=target,
            digest=digest,
            runtime=self.name,
            build_log=log,
            base_digest=_read_optional(entry / "base-digest"),
            cached=cached,
            unpacked=cached_image if _is_squash(target) else None,
        )

    def _build_entry(
        self, recipe: Path, tag: str, context: Path, bases: list[str], entry: Path
    ) -> None:
        """Build into the cache entry: base import, ch-image build, ch-convert, digest files."""
        entry.mkdir(parents=True, exist_ok=True)
        log = entry / "build.log"
        image = entry / "image"
        atomic_write_text(log, f"# esdc charliecloud build {datetime.now(UTC).isoformat()}\n")
        base_digest = None
        for base in dict.fromkeys(bases):
            if base in SUITES:
                base_digest = self._ensure_base(base, log)
        self._run(build_argv(tag, recipe, context), log)
        self._run(convert_argv(tag, image), log)
        if base_digest:
            atomic_write_text(entry / "base-digest", base_digest + "\n")
        # Written last: its presence is what marks the entry as complete.
        atomic_write_text(entry / "digest", tree_sha256(image) + "\n")

    # -- edges ----------------------------------------------------------------------------------

    def _ensure_base(self, base: str, log: Path) -> str:
        """Import the debootstrap tarball of ``base`` into storage once; return its digest."""
        tarball = self.cache / "base" / f"{base.replace(':', '-')}.tgz"
        make_base_tarball(base, tarball, self.cache / "base" / f"{base.replace(':', '-')}.log")
        digest = file_sha256(tarball)
        marker = self.cache / f"imported-{base.replace(':', '-')}"
        if _read_optional(marker) != digest or not self._has_image(base):
            self._run(import_argv(tarball, base), log)
            atomic_write_text(marker, digest + "\n")
        return digest

    @contextlib.contextmanager
    def _storage_lock(self) -> Iterator[None]:
        self.cache.mkdir(parents=True, exist_ok=True)
        with open(self.cache / "storage.lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _has_image(self, tag: str) -> bool:
        proc = subprocess.run(
            ["ch-image", "list", tag], capture_output=True, text=True, env=self.env, check=False
        )
        return proc.returncode == 0

    def _run(self, argv: list[str], log: Path) -> None:
        with open(log, "a") as sink:
            sink.write(f"$ {' '.join(argv)}\n")
            sink.flush()
            proc = subprocess.run(
                argv,
                stdout=sink,
                stderr=subprocess.STDOUT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        if proc.returncode != 0:
            tail = log.read_text(errors="replace").splitlines()[-5:]
            raise EsdcError(
                f"{argv[0]} {argv[1]} failed (exit {proc.returncode}); see {log}: "
                + " | ".join(tail)
            )

    def _check_tools(self) -> None:
        missing = [
            t
            for t in ("ch-image", "ch-convert", "ch-run")
            if shutil.which(t, path=self.env["PATH"]) is None
        ]
        if missing:
            raise EsdcError(
                f"Charliecloud tools missing: {', '.join(missing)} (run scripts/setup-local.sh)"
            )


def _read_text(path: Path) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc


def _read_optional(path: Path) -> str | None:
    return path.read_text().strip() if path.is_file() else None


def _build_key(dockerfile_text: str, context: Path) -> str:
    """Cache key: the Dockerfile's bytes and the content of every context path it copies.

    Only what ``COPY``/``ADD`` name is hashed: the generated definitions use the project root
    as context, and hashing all of it (virtual environment included) would cost more than a
    build, while anything not copied cannot change the image.
    """
    parts = [dockerfile_text]
    for source in copy_sources(dockerfile_text):
        matches = sorted(context.glob(source)) if any(c in source for c in "*?[") else []
        for path in matches or [context / source]:
            if path.is_dir():
                parts.append(f"{source}:{tree_sha256(path, exclude=frozenset({'.git'}))}")
            elif path.is_file():
                parts.append(f"{source}:{file_sha256(path)}")
            else:
                parts.append(f"{source}:missing")
    return bytes_sha256("\0".join(parts).encode())


def _digest_of(image: Path) -> str:
    return tree_sha256(image) if image.is_dir() else file_sha256(image)


def _place_copy(source: Path, target: Path, digest: str) -> str:
    """Put a copy of the cached image at ``target`` unless an identical copy is there already;
    return the copy's digest (it must equal ``digest``: a mismatch means a damaged copy)."""
    if target.exists() and _digest_of(target) == digest:
        return digest
    _copy_image(source, target)
    copied = _digest_of(target)
    if copied != digest:
        raise EsdcError(
            f"copy of the cached image differs from it ({copied} != {digest})", where=target
        )
    return copied


def _copy_image(source: Path, target: Path) -> None:
    """Copy a cached image to where the user asked for it, replacing an older copy."""
    if target.exists():
        if target.is_dir():
            shutil.rmtree(target)
        else:
            target.unlink()
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        shutil.copytree(source, target, symlinks=True)
    else:
        shutil.copy2(source, target)
