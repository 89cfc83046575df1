"""rsync targets that ssh would read as options, or that hold line breaks, never reach a command."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.ship import rsync

HOSTILE = [
    "-oProxyCommand=touch /tmp/pwned:/x",
    "user@-oProxyCommand=sh:/x",
    "login.site:/x\n-oProxyCommand=sh",
    "login.site:/x\u2028y",
]


@pytest.mark.parametrize("target", HOSTILE)
def test_a_hostile_target_is_refused_before_any_command(
    tmp_path: Path, target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ran: list[list[str]] = []

    def record(argv: list[str], host: str) -> str:
        ran.append(argv)
        return ""

    monkeypatch.setattr(rsync, "_run", record)
    image = tmp_path / "x.sif"
    image.write_bytes(b"x")
    with pytest.raises(EsdcError, match="rsync target"):
        rsync.ship(image, target)
    assert ran == []


def test_positional_arguments_follow_a_double_dash(tmp_path: Path) -> None:
    image = tmp_path / "-x.sif"
    argv = rsync.rsync_argv(image, "h:/d", ssh=["ssh"])
    assert argv[argv.index("--") + 1 :] == [str(image), "h:/d/"]
    digest = rsync.remote_digest_argv(image, "h:/d", ssh=["ssh", "-o", "BatchMode=yes"])
    assert digest[digest.index("--") + 1] == "h"
