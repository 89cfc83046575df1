"""Digests of image files and image directory trees."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from builder.build.hashing import file_sha256, tree_sha256


def _tree(root: Path) -> Path:
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "os-release").write_text("debian\n")
    (root / "bin").mkdir()
    (root / "bin" / "sh").write_text("#!")
    (root / "bin" / "sh").chmod(0o755)
    os.symlink("bin", root / "sbin")
    return root


def test_file_sha256_is_prefixed_hex(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"abc")
    assert file_sha256(path) == "sha256:" + hashlib.sha256(b"abc").hexdigest()


def test_tree_sha256_is_stable_across_copies(tmp_path: Path) -> None:
    assert tree_sha256(_tree(tmp_path / "a")) == tree_sha256(_tree(tmp_path / "b"))


def test_tree_sha256_sees_content_mode_and_link_changes(tmp_path: Path) -> None:
    base = tree_sha256(_tree(tmp_path / "a"))
    content = _tree(tmp_path / "b")
    (content / "etc" / "os-release").write_text("rocky\n")
    mode = _tree(tmp_path / "c")
    (mode / "bin" / "sh").chmod(0o644)
    link = _tree(tmp_path / "d")
    (link / "sbin").unlink()
    os.symlink("usr/bin", link / "sbin")
    digests = {tree_sha256(p) for p in (content, mode, link)}
    assert base not in digests and len(digests) == 3


def test_tree_sha256_excludes_top_level_names(tmp_path: Path) -> None:
    a = _tree(tmp_path / "a")
    b = _tree(tmp_path / "b")
    (b / ".git").mkdir()
    (b / ".git" / "HEAD").write_text("x")
    assert tree_sha256(a) == tree_sha256(b, exclude=frozenset({".git"}))
