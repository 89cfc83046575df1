"""The environment a job ran with, as recorded in ``env.json``: secrets removed by name."""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Variable names that hold secrets; their values never reach a run directory.
SECRET_NAME = re.compile(r"TOKEN|PASSW(OR)?D|SECRET|KEY|CREDENTIAL|AUTH|COOKIE", re.IGNORECASE)
#: Value recorded in place of a secret, so readers can see the variable was set.
REDACTED = "<redacted>"


def is_secret_name(name: str) -> bool:
    """Whether a variable's name says it holds a secret (``GITLAB_TOKEN``, ``SSH_KEY``...)."""
    return SECRET_NAME.search(name) is not None


def redact(environment: Mapping[str, str]) -> dict[str, str]:
    """A copy of ``environment`` with the values of secret-named variables replaced (pure)."""
    return {
        name: (REDACTED if is_secret_name(name) else value)
        for name, value in sorted(environment.items())
    }
