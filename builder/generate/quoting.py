"""Shell and Dockerfile quoting: every site or environment value that reaches a script passes here.

A value is either quoted so that the shell reads it literally, or rejected with an EsdcError
naming the field it came from. Line breaks (all of Unicode's) and control characters are rejected
outright: no quoting makes a newline safe in a Dockerfile instruction or a definition section.
"""

from __future__ import annotations

import re
import shlex

from builder.errors import EsdcError
from builder.model.values import line_problem

_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_PACKAGE = re.compile(r"[A-Za-z0-9][A-Za-z0-9+._:=~-]*\Z")
_LABEL_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*\Z")
_SLURM_NAME = re.compile(r"[A-Za-z0-9_.+-]+\Z")


def check_line(value: str, field: str) -> str:
    """``value`` unchanged if it is one line (:data:`builder.model.values.Line`); else an error
    naming ``field``: every control character and Unicode line break is refused, not only
    ``\n``, because the recipe parsers split lines on all of them."""
    problem = line_problem(value)
    if problem is not None:
        raise EsdcError(f"{field}: {problem}: {value!r}")
    return value


def env_name(name: str, field: str) -> str:
    """An environment variable name, checked (names cannot be quoted, only validated)."""
    if not _ENV_NAME.match(name):
        raise EsdcError(f"{field}: {name!r} is not a valid environment variable name")
    return name


def package_name(name: str, field: str) -> str:
    """An OS package name (optionally ``name=version``), checked against the apt/dnf alphabet."""
    if not _PACKAGE.match(name):
        raise EsdcError(f"{field}: {name!r} is not a valid OS package name")
    return name


def slurm_name(name: str, field: str) -> str:
    """A Slurm partition or account name for an ``#SBATCH`` line (which no shell quotes)."""
    if not _SLURM_NAME.match(name):
        raise EsdcError(f"{field}: {name!r} is not a valid Slurm name (letters, digits, _.+-)")
    return name


def label_key(key: str, field: str) -> str:
    """A label key (reverse-DNS style), checked."""
    if not _LABEL_KEY.match(key):
        raise EsdcError(f"{field}: {key!r} is not a valid label key")
    return key


def sh(value: str, field: str) -> str:
    """Quote one value for a POSIX shell (``foo; rm -rf /`` becomes ``'foo; rm -rf /'``)."""
    return shlex.quote(check_line(value, field))


def docker_env(value: str, field: str) -> str:
    """Quote a value for a Dockerfile ``ENV``: double quotes, with ``\\``, ``"`` and ``$`` escaped.

    ``ENV`` is not run by a shell but the builder substitutes ``$VAR``; escaping ``$`` keeps the
    value literal.
    """
    check_line(value, field)
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$")
    return f'"{escaped}"'


def label_value(value: str, field: str) -> str:
    """A label value for Apptainer ``%labels`` (rest of line) and Dockerfile ``LABEL`` (quoted)."""
    return docker_env(value, field)
