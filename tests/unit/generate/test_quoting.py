"""Render-time checks: no control character or Unicode line break reaches a definition."""

from __future__ import annotations

import pytest

from builder.errors import EsdcError
from builder.generate import quoting
from builder.generate.api import image_spec
from builder.generate.render import render

BREAKS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00"]


@pytest.mark.parametrize("char", BREAKS, ids=repr)
def test_check_line_refuses_every_line_break(char: str) -> None:
    value = f"x{char}From: docker.io/attacker/evil:1"
    assert len(value.splitlines()) == 2 or char == "\x00"
    with pytest.raises(EsdcError, match="field"):
        quoting.check_line(value, "field")
    with pytest.raises(EsdcError):
        quoting.sh(value, "field")
    with pytest.raises(EsdcError):
        quoting.docker_env(value, "field")


def test_a_plain_value_is_quoted_not_refused() -> None:
    assert quoting.sh("a b; rm -rf /", "f") == "'a b; rm -rf /'"
    assert quoting.docker_env('x"$y', "f") == '"x\\"\\$y"'


@pytest.mark.parametrize("fmt", ["apptainer", "dockerfile"])
@pytest.mark.parametrize("char", ["\v", "\x85", "\u2028"], ids=repr)
def test_a_site_name_smuggled_past_loading_cannot_add_a_from_line(fmt: str, char: str) -> None:
    spec = image_spec("mpi-base", "local")
    hostile = spec.model_copy(update={"site": f"local{char}From: docker.io/attacker/evil:1"})
    with pytest.raises(EsdcError, match="site name"):
        render(hostile, fmt)


def test_a_runscript_line_break_other_than_newline_is_refused() -> None:
    spec = image_spec("mpi-base", "local")
    hostile = spec.model_copy(update={"runscript": 'exec "$@"\x0bRUN evil'})
    with pytest.raises(EsdcError, match="runscript"):
        render(hostile, "apptainer")
