"""Apptainer through spython: ``build`` to a SIF, ``exec`` with binds, ``--env`` and ``--nv``.

Apptainer cannot be installed on the development machine, so the code here is exercised on
the commands it produces (tests named ``test_apptainer_*_command_*``). spython drives the
``singularity`` executable, which Apptainer installs as a compatibility link; the argv of a
hybrid launch names ``apptainer`` itself, since that is what runs on the compute nodes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from builder.build.hashing import file_sha256
from builder.build.models import BuiltImage
from builder.build.runtime import NO_ENV
from builder.errors import EsdcError
from builder.fsio import atomic_write_text


def _client() -> Any:
    """spython's client, imported late: importing spython is slow and logs on some systems."""
    from spython.main import Client

    return Client


def exec_argv(
    image: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] = NO_ENV,
    binds: Sequence[str] = (),
    gpu: bool = False,
    executable: str = "apptainer",
) -> list[str]:
    """``apptainer exec [--nv] [--bind B]... [--env K=V]... IMAGE argv``: one rank (pure).

    The command is assembled by spython's own helpers (``_init_command``, which also adds
    ``--quiet``/``--debug`` when the client is set so, and the bind list) so that it is exactly
    what ``Client.execute`` would run, with ``apptainer`` as the executable.
    """
    client = _client()
    command: list[str] = list(client._init_command("exec"))
    command[0] = executable
    if gpu:
        command.append("--nv")
    for bind in binds:
        # spython's _generate_bind_list checks the host side and sys.exit()s when it is
        # missing: on a login node the path may only exist on compute nodes, so no check here.
        command += ["--bind", bind]
    for key, value in env.items():
        command += ["--env", f"{key}={value}"]
    return [*command, image, *argv]


def sign_argv(image: Path, key_file: Path, executable: str = "apptainer") -> list[str]:
    """``apptainer sign --key KEY IMAGE`` (pure): a PEM key file, as Apptainer 1.2+ accepts."""
    return [executable, "sign", "--key", str(key_file), str(image)]


class ApptainerRuntime:
    """Apptainer (or SingularityCE) driven through spython."""

    name = "apptainer"

    def __init__(self, *, fakeroot: bool = True, executable: str = "apptainer") -> None:
        self.fakeroot = fakeroot
        self.executable = executable

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
        """The argv of one rank; ``join`` is meaningless for Apptainer (no per-rank user
        namespace unless ``--userns``), so it is accepted and ignored."""
        return exec_argv(image, argv, env=env, binds=binds, gpu=gpu, executable=self.executable)

    def versions(self) -> dict[str, str]:
        """``apptainer --version`` (empty when it is not installed)."""
        if shutil.which(self.executable) is None:
            return {}
        proc = subprocess.run(
            [self.executable, "--version"], capture_output=True, text=True, check=False
        )
        words = proc.stdout.split()
        return {self.executable: words[-1]} if words else {}

    def build_options(self) -> list[str]:
        """Options to ``apptainer build``: unprivileged builds need ``--fakeroot``."""
        return ["--fakeroot"] if self.fakeroot else []

    def build_argv(self, recipe: Path, image: Path) -> list[str]:
        """``apptainer build --force [--fakeroot] IMAGE RECIPE``, as spython's ``Client.build``
        assembles it (same ``_init_command`` and argument order), with this executable."""
        command: list[str] = list(_client()._init_command("build"))
        command[0] = self.executable
        return [*command, "--force", *self.build_options(), str(image), str(recipe)]

    def build(
        self, recipe: Path, tag: str, *, context: Path, output: Path | None = None
    ) -> BuiltImage:
        """Build ``recipe`` into a SIF; the output of the build goes to a log beside the image.

        ``context`` is where the build runs (``%files`` paths are relative to it). spython's
        ``stream_command`` runs it with stderr merged into stdout: ``Client.build(stream=True)``
        leaves stderr in a pipe nobody reads until the end, which stalls a chatty build.
        """
        from spython.utils import stream_command

        if shutil.which(self.executable) is None:
            raise EsdcError(f"{self.executable} is not installed on this machine", where=recipe)
        image = (output or recipe.with_suffix(".sif")).resolve()
        log = image.with_name(image.name + ".build.log")
        argv = self.build_argv(recipe.resolve(), image)
        atomic_write_text(
            log, f"# esdc apptainer build {datetime.now(UTC).isoformat()}\n$ {' '.join(argv)}\n"
        )
        cwd = Path.cwd()
        try:
            os.chdir(context)
            with open(log, "a") as sink:
                for line in stream_command(argv, output_type="both"):
                    sink.write(line)
        except subprocess.CalledProcessError as exc:
            raise EsdcError(
                f"apptainer build failed (exit {exc.returncode}); see {log}", where=recipe
            ) from exc
        finally:
            os.chdir(cwd)
        if not image.is_file():
            raise EsdcError(f"apptainer build wrote no image; see {log}", where=recipe)
        return BuiltImage(
            tag=tag, path=image, digest=file_sha256(image), runtime=self.name, build_log=log
        )
