"""Every value that reaches a script is one line: hostile site profiles fail at load time.

A line break of any kind (not only ``\\n``: ``\\v``, ``\\f``, ``\\x1c``-``\\x1e``, NEL, U+2028,
U+2029) or a control character in a profile value is refused when the profile is loaded, with
the file and the line of the value; typed numbers (``pmix.version``) are checked the same way.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import EsdcError
from builder.profiles import load_site

REPO = Path(__file__).resolve().parents[2]

#: Every line break Python's str.splitlines() honours, plus NUL, ESC, DEL and a C1 control.
BREAKS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CONTROLS = ["\x00", "\x1b", "\x7f", "\x9b", "\t"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(REPO / "site-profiles", tmp_path / "site-profiles")
    shutil.copytree(REPO / "spack-envs", tmp_path / "spack-envs")
    monkeypatch.setenv("ESDC_HOME", str(tmp_path))
    return tmp_path


def _edit(home: Path, site: str, old: str, new: str) -> tuple[Path, int]:
    """Replace one line of a profile; return the file and the 1-based line number."""
    path = home / "site-profiles" / f"{site}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.rstrip("\n") == old)
    lines[index] = new + "\n"
    path.write_text("".join(lines))
    return path, index + 1


def _escaped(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` exactly (every character escaped)."""
    return '"' + "".join(f"\\u{ord(c):04x}" if not c.isalnum() else c for c in text) + '"'


@pytest.mark.parametrize("char", BREAKS + CONTROLS, ids=repr)
def test_a_break_in_a_partition_is_refused_with_file_and_line(home: Path, char: str) -> None:
    value = _escaped(f"dc-cpu{char}rm -f canary")
    path, line = _edit(home, "jureca-dc", "  cpu: dc-cpu", f"  cpu: {value}")
    with pytest.raises(EsdcError) as caught:
        load_site("jureca-dc")
    assert f"{path}:{line}: " in str(caught.value)
    assert "partitions.cpu" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("char", BREAKS + CONTROLS, ids=repr)
def test_a_break_in_the_site_name_or_an_environment_value_is_refused(home: Path, char: str) -> None:
    path, line = _edit(
        home, "local", "name: local", f"name: {_escaped(f'local{char}From: docker.io/a/evil:1')}"
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*name"):
        load_site("local")
    path, line = _edit(
        home,
        "jureca-dc",
        "  UCX_LOG_LEVEL: info",
        f"  UCX_LOG_LEVEL: {_escaped(f'info{char}RUN evil')}",
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*debug_environment\.UCX_LOG_LEVEL"):
        load_site("jureca-dc")


def test_an_account_with_a_newline_is_refused(home: Path) -> None:
    path, line = _edit(home, "jureca-dc", "os_base: rockylinux:8", 'accounts: ["ok", "a\\nb"]')
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*accounts\.1"):
        load_site("jureca-dc")


@pytest.mark.parametrize("version", ['"x.y"', "four", '"4.2.2\\n"', '"-1"', '""'])
def test_a_pmix_version_that_is_not_a_version_is_refused_at_load(home: Path, version: str) -> None:
    path, line = _edit(home, "jureca-dc", "  version: 4.2.9", f"  version: {version}")
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*pmix\.version"):
        load_site("jureca-dc")


def test_esdc_check_refuses_the_hostile_profile(home: Path) -> None:
    _edit(home, "jureca-dc", "  cpu: dc-cpu", '  cpu: "dc-cpu\\nrm -f canary"')
    shown = CliRunner().invoke(app, ["check", "nest", "--site", "jureca-dc"])
    assert isinstance(shown.exception, EsdcError), shown.output
    assert "partitions.cpu" in str(shown.exception)


def test_esdc_generate_refuses_a_bad_pmix_version_instead_of_crashing(home: Path) -> None:
    _edit(home, "jureca-dc", "  version: 4.2.9", '  version: "x.y"')
    shown = CliRunner().invoke(app, ["generate", "nest", "--site", "jureca-dc"])
    assert isinstance(shown.exception, EsdcError), shown.exception
    assert "pmix.version" in str(shown.exception)


def test_an_rsync_target_that_is_an_ssh_option_is_refused_at_load(home: Path) -> None:
    path, line = _edit(
        home, "jureca-dc", "  unicore_storage: HOME", '  rsync_target: "-oProxyCommand=sh:/x"'
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*rsync_target"):
        load_site("jureca-dc")


def test_every_shipped_profile_still_loads() -> None:
    for site in ("galileo100", "jureca-dc", "jusuf", "karolina", "local"):
        assert load_site(site).name == site


def test_a_character_yaml_refuses_is_named_with_its_line_on_one_line(home: Path) -> None:
    path, line = _edit(home, "jureca-dc", "  cpu: dc-cpu", "  cpu: dc-cpu\x00")
    with pytest.raises(EsdcError) as caught:
        load_site("jureca-dc")
    assert str(caught.value) == f"{path}:{line}: invalid YAML: character '\\x00' is not allowed"
