"""rsync over ssh to a site's login node, then ``sha256sum`` there to check what arrived.

rsync writes into a temporary file and renames it when complete, so a broken transfer never
leaves a partial image under the final name.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

from builder.errors import EsdcError
from builder.model.ship import ShipResult
from builder.model.values import line_problem, no_option
from builder.ship.digest import file_sha256, require_digest_match


def split_target(target: str) -> tuple[str, str]:
    """Split ``[user@]host:path`` into host and remote directory.

    A host starting with ``-`` would be read as an option by ssh (``-oProxyCommand=...`` runs
    a local command) and rsync passes the host to ssh without ``--``, so it is refused here; a
    control character or line break in any part is refused too.
    """
    problem = line_problem(target)
    if problem is not None:
        raise EsdcError(f"rsync target: {problem}: {target!r}")
    host, sep, path = target.partition(":")
    if not sep or not host or not path:
        raise EsdcError(f"rsync target must look like [user@]host:/path, got {target!r}")
    try:
        no_option(host)
    except ValueError as exc:
        raise EsdcError(f"rsync target: the host {exc}") from exc
    return host, path


def ssh_argv(config: str | None = None) -> list[str]:
    """The ssh command both rsync and the digest check use (never prompts: BatchMode)."""
    argv = ["ssh", "-o", "BatchMode=yes", "-o", "ConnectTimeout=15"]
    if config:
        argv += ["-F", config]
    return argv


def rsync_argv(image: Path, target: str, *, ssh: list[str]) -> list[str]:
    """The rsync command that copies ``image`` into the remote directory of ``target``."""
    host, path = split_target(target)
    remote_dir = path.rstrip("/") + "/"
    return [
        "rsync",
        "--archive",
        "--partial-dir=.rsync-partial",
        "--mkpath",
        "-e",
        shlex.join(ssh),
        "--",
        str(image),
        f"{host}:{remote_dir}",
    ]


def remote_digest_argv(image: Path, target: str, *, ssh: list[str]) -> list[str]:
    """The ssh command that prints the remote copy's sha256."""
    host, path = split_target(target)
    remote_file = f"{path.rstrip('/')}/{image.name}"
    return [*ssh, "--", host, "sha256sum", "--", shlex.quote(remote_file)]


def parse_sha256sum(output: str) -> str:
    """``<hex>  <file>`` to ``sha256:<hex>``."""
    fields = output.split()
    if not fields or len(fields[0]) != 64:
        raise EsdcError(f"unexpected sha256sum output: {output[:80]!r}")
    return f"sha256:{fields[0]}"


def ship(image: Path, target: str) -> ShipResult:
    """Copy ``image`` to ``target`` and check the remote digest against the local one."""
    local_digest = file_sha256(image)
    ssh = ssh_argv(os.environ.get("ESDC_SSH_CONFIG"))
    host, _ = split_target(target)
    _run(rsync_argv(image, target, ssh=ssh), host)
    remote = parse_sha256sum(_run(remote_digest_argv(image, target, ssh=ssh), host))
    require_digest_match(local_digest, remote, where=target)
    return ShipResult(
        image=str(image),
        destination=f"{target.rstrip('/')}/{image.name}",
        transport="rsync",
        digest=local_digest,
        size=image.stat().st_size,
        verified=True,
    )


def _run(argv: list[str], host: str) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=3600, check=False)
    except FileNotFoundError as exc:
        raise EsdcError(f"{argv[0]} is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise EsdcError("transfer timed out", where=host) from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["(no message)"])[-1]
        raise EsdcError(f"{argv[0]} failed ({done.returncode}): {last}", where=host)
    return done.stdout
