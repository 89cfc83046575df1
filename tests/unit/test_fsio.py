"""Output paths: atomic writes only over a regular file or nothing; everything else is refused.

The refusals are one :class:`EsdcError` naming the path (exit 2 on the command line), and the
thing at the path is left exactly as it was.
"""

from __future__ import annotations

import os
import shutil
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import EsdcError
from builder.fsio import atomic_write_text, check_output_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "runs"


def test_a_fifo_is_refused_and_stays_a_fifo(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(EsdcError, match="refusing to replace a FIFO") as caught:
        atomic_write_text(fifo, "x")
    assert str(fifo) in str(caught.value)
    assert stat.S_ISFIFO(fifo.stat().st_mode)
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]


def test_a_directory_is_refused_and_kept(tmp_path: Path) -> None:
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "keep").write_text("k")
    with pytest.raises(EsdcError, match="refusing to replace a directory"):
        atomic_write_text(folder, "x")
    assert (folder / "keep").read_text() == "k"


def test_a_device_is_refused() -> None:
    with pytest.raises(EsdcError, match="a character device"):
        check_output_path(Path("/dev/null"))
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_an_unreachable_path_is_one_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("b")
    with pytest.raises(EsdcError, match="cannot write here"):
        atomic_write_text(blocker / "out.def", "x")
    assert blocker.read_text() == "b"


def test_an_unwritable_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    target = tmp_path / "out.def"
    target.write_text("old")
    monkeypatch.setattr(os, "access", lambda *_: False)
    with pytest.raises(EsdcError, match="not writable"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"


def test_a_failed_write_is_one_error_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "out.def"
    target.write_text("old")

    def full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(EsdcError, match="No space left on device"):
        atomic_write_text(target, "new")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.def"]


def test_a_regular_file_and_a_link_to_one_are_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out.def"
    target.write_text("old")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    link = tmp_path / "link.def"
    link.symlink_to(target)
    atomic_write_text(link, "newer")
    assert link.is_symlink() and target.read_text() == "newer"


def test_a_directory_is_fine_where_an_image_is_a_directory(tmp_path: Path) -> None:
    assert check_output_path(tmp_path, directory_ok=True) == tmp_path


@pytest.mark.parametrize("kind", ["fifo", "dir", "devnull"])
def test_generate_o_refuses_with_one_line(tmp_path: Path, kind: str) -> None:
    if kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif kind == "dir":
        target = tmp_path
    else:
        target = Path("/dev/null")
    shown = CliRunner().invoke(
        app, ["generate", "mpi-base", "--site", "local", "-o", str(target)], catch_exceptions=True
    )
    assert isinstance(shown.exception, EsdcError), shown.exception
    assert "refusing to replace" in str(shown.exception)
    assert "\n" not in str(shown.exception)
    if kind == "fifo":
        assert stat.S_ISFIFO(target.stat().st_mode)
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_report_html_refuses_a_fifo(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shutil.copytree(FIXTURES / "pass", run_dir)
    fifo = tmp_path / "report.html"
    os.mkfifo(fifo)
    shown = CliRunner().invoke(app, ["report", str(run_dir), "--html", str(fifo)])
    assert isinstance(shown.exception, EsdcError)
    assert "refusing to replace a FIFO" in str(shown.exception)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_build_o_refuses_a_fifo_before_building(tmp_path: Path) -> None:
    definition = tmp_path / "x.def"
    definition.write_text("Bootstrap: docker\nFrom: debian:12\n")
    fifo = tmp_path / "image.sif"
    os.mkfifo(fifo)
    shown = CliRunner().invoke(app, ["build", str(definition), "-o", str(fifo)])
    assert isinstance(shown.exception, EsdcError), shown.output
    assert "refusing to replace a FIFO" in str(shown.exception)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_corrupt_gz_input_is_one_error(tmp_path: Path) -> None:
    import gzip

    from builder.fsio import open_binary_input

    # One flipped bit in the deflate header: zlib.error (not an OSError) while reading.
    whole = bytearray(
        gzip.compress(b"".join(b"line %d of the log\n" % i for i in range(3000)), mtime=0)
    )
    whole[12] ^= 1
    path = tmp_path / "log.gz"
    path.write_bytes(bytes(whole))
    with pytest.raises(EsdcError, match="cannot read"), open_binary_input(path) as handle:
        handle.read()
