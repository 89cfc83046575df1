"""The order of a campaign's jobs (pure): logging runs first, then interleaved performance runs.

Performance reps alternate bare and container runs and swap which goes first on every rep
(bare, container, container, bare, ...) so that slow drift of the machine (thermal, other
tenants) lands on both modes alike instead of biasing one.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict

from builder.model.run import Mode, RepKind

DEBUG_REP = "debug"
MODES: tuple[Mode, Mode] = ("bare", "container")


class PlannedRep(BaseModel):
    """One job of the campaign: which mode, which suite, which rep."""

    model_config = ConfigDict(frozen=True)

    mode: Mode
    suite: str
    rep: str
    kind: RepKind

    @property
    def label(self) -> str:
        """``mode/suite/rep``, for progress lines and errors."""
        return f"{self.mode}/{self.suite}/{self.rep}"


def plan_campaign(suites: Sequence[str], reps: int) -> list[PlannedRep]:
    """Every job of a campaign in the order it runs."""
    planned: list[PlannedRep] = []
    for suite in suites:
        planned += [
            PlannedRep(mode=mode, suite=suite, rep=DEBUG_REP, kind="debug") for mode in MODES
        ]
        for index in range(reps):
            order = MODES if index % 2 == 0 else MODES[::-1]
            planned += [
                PlannedRep(mode=mode, suite=suite, rep=str(index), kind="perf") for mode in order
            ]
    return planned
