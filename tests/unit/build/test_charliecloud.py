"""Command construction of the Charliecloud runtime (pure functions; no ch-* run here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.build.charliecloud import (
    CharliecloudRuntime,
    base_images,
    build_argv,
    ch_env,
    convert_argv,
    import_argv,
    run_argv,
)
from builder.errors import EsdcError


def test_ch_env_puts_system_bin_first_drops_ca_bundle_and_sets_user() -> None:
    env = ch_env(
        {"PATH": "/work/.venv/bin:/usr/local/bin", "REQUESTS_CA_BUNDLE": "/x.pem"}, Path("/s")
    )
    assert env["PATH"].startswith("/usr/bin:/bin:")
    assert env["PATH"].endswith("/work/.venv/bin:/usr/local/bin")
    assert "REQUESTS_CA_BUNDLE" not in env
    assert env["USER"]
    assert env["CH_IMAGE_STORAGE"] == "/s"


def test_ch_env_keeps_a_user_that_is_set() -> None:
    assert ch_env({"USER": "alice", "PATH": ""}, Path("/s"))["USER"] == "alice"


def test_base_images_reads_every_from_line() -> None:
    text = "FROM debian:12 AS build\nRUN true\nfrom --platform=linux/amd64 debian:12-slim\n"
    assert base_images(text) == ["debian:12", "debian:12-slim"]


def test_build_argv_uses_force_for_apt_in_a_user_namespace() -> None:
    argv = build_argv("esd/nest:local", Path("/d/Dockerfile"), Path("/d"))
    assert argv == [
        "ch-image",
        "build",
        "--force",
        "-t",
        "esd/nest:local",
        "-f",
        "/d/Dockerfile",
        "/d",
    ]


def test_import_argv_imports_a_tarball_never_a_directory() -> None:
    assert import_argv(Path("/c/debian-12.tgz"), "debian:12") == [
        "ch-image",
        "import",
        "/c/debian-12.tgz",
        "debian:12",
    ]


@pytest.mark.parametrize(
    ("output", "fmt"), [("/i/nest", "dir"), ("/i/nest.sqfs", "squash"), ("/i/n.squashfs", "squash")]
)
def test_convert_argv_picks_format_from_output(output: str, fmt: str) -> None:
    assert convert_argv("t", Path(output)) == [
        "ch-convert",
        "-i",
        "ch-image",
        "-o",
        fmt,
        "t",
        output,
    ]


def test_run_argv_one_rank_with_join_binds_and_env() -> None:
    argv = run_argv(
        "/img", ["/opt/pingpong", "8"], env={"UCX_TLS": "sm,self"}, binds=["/scratch"], join=True
    )
    assert argv == [
        "ch-run",
        "--join",
        "--bind=/scratch",
        "--set-env=UCX_TLS=sm,self",
        "/img",
        "--",
        "/opt/pingpong",
        "8",
    ]


def test_run_argv_without_join_gives_each_rank_its_own_namespace() -> None:
    assert run_argv("/img", ["true"]) == ["ch-run", "/img", "--", "true"]


def test_exec_argv_refuses_gpu_with_a_hint(tmp_path: Path) -> None:
    runtime = CharliecloudRuntime(cache=tmp_path)
    with pytest.raises(EsdcError, match="ch-fromhost --nvidia"):
        runtime.exec_argv("/img", ["true"], gpu=True)


def test_runtime_keeps_storage_in_its_cache(tmp_path: Path) -> None:
    runtime = CharliecloudRuntime(cache=tmp_path)
    assert runtime.env["CH_IMAGE_STORAGE"] == str(tmp_path / "charliecloud" / "storage")


def test_cache_key_follows_copied_inputs_only(tmp_path: Path) -> None:
    from builder.build.charliecloud import _build_key

    (tmp_path / "hello.txt").write_text("a")
    (tmp_path / "unrelated.txt").write_text("a")
    dockerfile = "FROM debian:12\nCOPY hello.txt /opt/\n"
    key = _build_key(dockerfile, tmp_path)
    (tmp_path / "unrelated.txt").write_text("b")
    assert _build_key(dockerfile, tmp_path) == key
    (tmp_path / "hello.txt").write_text("b")
    assert _build_key(dockerfile, tmp_path) != key
    assert _build_key(dockerfile + "RUN true\n", tmp_path) != _build_key(dockerfile, tmp_path)
