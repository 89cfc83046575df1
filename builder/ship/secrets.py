"""Credentials from the environment or a file the user names; never printed, logged or stored.

``ESDC_<NAME>`` holds the value itself; ``ESDC_<NAME>_FILE`` names a file holding it. Values are
wrapped in :class:`pydantic.SecretStr` so that a stray ``repr`` or log line shows ``**********``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import SecretStr

from builder.errors import EsdcError


def read_secret(
    name: str, environ: Mapping[str, str] | None = None, *, label: str = "secret"
) -> SecretStr | None:
    """Return the secret ``ESDC_<name>`` (or the content of ``ESDC_<name>_FILE``), if set.

    ``label`` names the secret in the error for an unreadable file (``token``, ``password``).
    """
    env = os.environ if environ is None else environ
    key = f"ESDC_{name}"
    if env.get(key):
        return SecretStr(env[key])
    file_name = env.get(f"{key}_FILE")
    if not file_name:
        return None
    try:
        return SecretStr(Path(file_name).read_text(encoding="utf-8").strip())
    except OSError as exc:
        raise EsdcError(
            f"cannot read the {label} file named by {key}_FILE: {exc.strerror or exc}",
            where=file_name,
        ) from exc
