"""Run directories: what a campaign writes and what ``esdc verify`` reads.

Layout (one campaign)::

    runs/<id>/run.json                                 CampaignManifest
    runs/<id>/<mode>/<suite>/<rep>/record.json          RunRecord (mode: bare | container)
    runs/<id>/<mode>/<suite>/<rep>/stdout, stderr       the job's output
    runs/<id>/<mode>/<suite>/<rep>/env.json             the job's environment, secrets removed
    runs/<id>/<mode>/<suite>/<rep>/versions.json        library versions on the host / in the image
    runs/<id>/results.json, analysis.json, verdict.json, report.html, results.csv

``<rep>`` is ``debug`` for the logging run and ``0``, ``1``, ... for the quiet performance runs.
A rep directory is complete when its ``record.json`` exists (written last, atomically); a
resumed campaign skips complete reps.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

RUN_SCHEMA = "esdc.run/1"

Mode = Literal["bare", "container"]
RepKind = Literal["debug", "perf"]
CampaignStatus = Literal["running", "complete", "interrupted", "failed"]


class RunRecord(BaseModel):
    """One job of a campaign: what ran, how it ended, and which files it left."""

    schema_: str = Field(default=RUN_SCHEMA, alias="schema")
    mode: Mode
    suite: str
    rep: str
    kind: RepKind
    command: list[str]
    returncode: int | None
    started: str
    ended: str
    wall_s: float
    stdout: str = "stdout"
    stderr: str = "stderr"
    debug_logs: list[str] = Field(default_factory=list)
    toolkit_overhead_s: float | None = None

    model_config = {"populate_by_name": True}


class CampaignManifest(BaseModel):
    """The campaign as a whole (``run.json``)."""

    schema_: str = Field(default=RUN_SCHEMA, alias="schema")
    id: str
    site: str
    image: str
    image_digest: str | None = None
    suites: list[str]
    reps: int
    status: CampaignStatus = "running"
    created: str
    toolkit_version: str
    host: str | None = None

    model_config = {"populate_by_name": True}
