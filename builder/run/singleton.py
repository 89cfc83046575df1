"""Detect launcher/PMI mismatches: N ranks that each believe they are rank 0 of 1.

Under a mismatched PMI (MPICH under ``srun --mpi=pmix``) every rank initialises as a singleton
and the job "succeeds" with N copies of rank 0. The outputs show it in two ways: rank lines that
say ``of 1`` (``rank 0/1 on host``), or a benchmark's title printed once per rank.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

_RANK_LINE = re.compile(r"\brank\s+(\d+)\s*(?:/|of)\s*(\d+)\b", re.IGNORECASE)
#: Lines a benchmark prints once per job, from rank 0 only.
_ONCE_PER_JOB = (
    re.compile(r"^#\s*MPI PingPong Test\b"),
    re.compile(r"^#\s*OSU\b.*\bTest\b"),
    re.compile(r"^#\s*nThread\b"),
    re.compile(r"^pingpong bytes=8\b"),
)
# mpirun --tag-output and srun --label prefixes.
_PREFIX = re.compile(r"^(?:\[\d+,\d+\]<std(?:out|err)>:|\d+:\s)")


def singleton_evidence(lines: Iterable[str], expected_ranks: int) -> str | None:
    """Why the output shows ranks running as singletons, or ``None`` (pure).

    Parameters
    ----------
    lines
        The job's standard output (and error), in order.
    expected_ranks
        The number of ranks the job was started with; a one-rank job cannot be a mismatch.
    """
    if expected_ranks < 2:
        return None
    sizes: Counter[int] = Counter()
    titles: Counter[str] = Counter()
    for raw in lines:
        line = _PREFIX.sub("", raw.rstrip("\n"))
        match = _RANK_LINE.search(line)
        if match is not None:
            sizes[int(match.group(2))] += 1
        for pattern in _ONCE_PER_JOB:
            if pattern.search(line):
                titles[pattern.pattern] += 1
    if sizes.get(1, 0) >= 2:
        return (
            f"{sizes[1]} ranks each reported a world of 1 (expected {expected_ranks} ranks in one "
            "world): launcher and MPI disagree on the PMI"
        )
    repeated = [count for count in titles.values() if count >= 2]
    if repeated:
        return (
            f"a once-per-job benchmark line was printed {max(repeated)} times: every rank ran "
            "as a singleton (launcher and MPI disagree on the PMI)"
        )
    return None
