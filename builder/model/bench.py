"""The ``esdc.bench/1`` contract: benchmark outputs as numbers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

BENCH_SCHEMA = "esdc.bench/1"

Suite = Literal["osu", "nccl", "nest", "mpi4py", "pingpong"]
Cell = int | float | str | list[float] | None


class SourceRef(BaseModel):
    """Where a result's table starts: the file and the 1-based line of its title."""

    file: str
    line: int


class BenchProblem(BaseModel):
    """Why a result is not complete: the 1-based line at fault and what was wrong there."""

    line: int
    message: str


class BenchResult(BaseModel):
    """One benchmark table (one OSU test, one nccl-tests run, one NEST run, one pingpong).

    ``complete`` is false when the table was cut (a job killed mid-run: no footer, a last row
    cut short) or a row had to be dropped or a cell nulled; ``problems`` says where and why.
    The rows that were read are kept either way.
    """

    suite: Suite
    benchmark: str
    version: str | None = None
    variant: str | None = None
    columns: list[str]
    rows: list[list[Cell]] = Field(default_factory=list)
    summary: dict[str, object] = Field(default_factory=dict)
    source: SourceRef
    complete: bool = True
    problems: list[BenchProblem] = Field(default_factory=list)


class BenchReport(BaseModel):
    """The result of ``esdc parse``; serialised exactly as ``esdc.bench/1``."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field(default=BENCH_SCHEMA, alias="schema")
    results: list[BenchResult] = Field(default_factory=list)

    def to_json_dict(self) -> dict[str, object]:
        """The contract's JSON object."""
        data = self.model_dump(by_alias=True, mode="json")
        return {"schema": data.pop("schema"), **data}
