"""Pre-flight results (``preflight.json`` in a run directory): the image checked at the site."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

Status = Literal["ok", "warning", "error", "skipped"]


class PreflightResult(BaseModel):
    """One check's outcome, with the output line(s) it rests on."""

    check: str
    status: Status
    message: str
    output: str = ""
