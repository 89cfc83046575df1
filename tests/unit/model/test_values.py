"""The one-line value type: Unicode line breaks and control characters, found and named."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, ValidationError

from builder.model.values import DottedVersion, Line, RsyncTarget, forbidden_character


class _Holder(BaseModel):
    line: Line = ""
    version: DottedVersion = "1"
    target: RsyncTarget = "h:/x"


@pytest.mark.parametrize(
    "char", ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029", "\x00"]
)
def test_every_line_break_python_splits_on_is_forbidden(char: str) -> None:
    value = f"a{char}b"
    assert len(value.splitlines()) == 2 or char == "\x00"
    assert forbidden_character(value) == (1, char)
    with pytest.raises(ValidationError, match="one line"):
        _Holder(line=value)


def test_printable_unicode_is_fine() -> None:
    assert _Holder(line="Jülich — dc-gpu ✓").line == "Jülich — dc-gpu ✓"


@pytest.mark.parametrize("version", ["x.y", "four", "4.", ".4", "4..2", "4.2 ", ""])
def test_a_dotted_version_is_digits_and_dots(version: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(version=version)
    assert _Holder(version="535.104").version == "535.104"


@pytest.mark.parametrize("target", ["-oProxyCommand=sh:/x", "u@-oX:/x", "h:/x\ny"])
def test_an_rsync_target_is_not_an_option(target: str) -> None:
    with pytest.raises(ValidationError):
        _Holder(target=target)
