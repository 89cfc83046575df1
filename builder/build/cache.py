"""Where built artefacts are kept between runs: ``$ESDC_CACHE`` or ``~/.cache/esdc``."""

from __future__ import annotations

import os
from pathlib import Path


def cache_root() -> Path:
    """The project cache directory (created on first use by the callers that write into it)."""
    configured = os.environ.get("ESDC_CACHE")
    if configured:
        return Path(configured).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "esdc"
