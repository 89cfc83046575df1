"""The toolkit's own C ping-pong (``benchmarks/pingpong/pingpong.c``).

::

    rank 0/2 on node1
    rank 1/2 on node2
    pingpong bytes=8 iters=1000 half_rtt_us=0.61 bw_MBps=13.1
    pingpong bytes=1024 iters=1000 half_rtt_us=1.02 bw_MBps=1003.9

Consecutive ``pingpong`` lines form one table named ``pingpong``, columns ``size``,
``half_rtt_us``, ``bw_MBps``, ``iters``. The rank lines go into ``summary``: ``ranks`` (the world
size they print) and ``hosts`` (the distinct host names, in order of appearance), which tell an
intra-node run from an inter-node one. Rank lines may arrive after the first rows (ranks print
independently): a table ends when a rank already seen prints again (a new run). The program
prints no version.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from builder.bench.text import Line, to_float, to_int
from builder.errors import EsdcError
from builder.model.bench import BenchResult, Cell, SourceRef

SUITE = "pingpong"
RANK = re.compile(r"^rank (?P<rank>\d+)/(?P<size>\d+) on (?P<host>\S+)\s*$")
_NUMBER = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|nan|inf)"
#: The marker :mod:`builder.bench.detect` looks for, and a row.
ROW = re.compile(
    r"^pingpong bytes=(?P<bytes>\d+) iters=(?P<iters>\d+) "
    rf"half_rtt_us=(?P<rtt>{_NUMBER}) bw_MBps=(?P<bw>{_NUMBER})\s*$"
)
COLUMNS = ["size", "half_rtt_us", "bw_MBps", "iters"]


def parse_pingpong(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """Every ping-pong table in ``lines``.

    Raises
    ------
    EsdcError
        A ``pingpong`` line whose fields are not numbers (a cut line).
    """
    results: list[BenchResult] = []
    hosts: dict[str, None] = {}
    seen: set[int] = set()
    ranks: int | None = None
    start: int | None = None
    rows: list[list[Cell]] = []

    def close() -> None:
        nonlocal start, rows, hosts, ranks, seen
        if start is None:
            return
        summary: dict[str, object] = {"hosts": list(hosts)}
        if ranks is not None:
            summary["ranks"] = ranks
        results.append(
            BenchResult(
                suite=SUITE,
                benchmark="pingpong",
                columns=list(COLUMNS),
                rows=rows,
                summary=summary,
                source=SourceRef(file=source, line=start),
            )
        )
        start, rows, hosts, ranks, seen = None, [], {}, None, set()

    for line in lines:
        text = line.text.strip()
        if rank := RANK.match(text):
            if rows and int(rank["rank"]) in seen:
                close()  # a rank seen already: a new run, the previous table is over
            seen.add(int(rank["rank"]))
            hosts.setdefault(rank["host"], None)
            ranks = int(rank["size"])
            continue
        if not text.startswith("pingpong "):
            continue
        row = ROW.match(text)
        rtt = to_float(row["rtt"]) if row else None
        bw = to_float(row["bw"]) if row else None
        if row is None or rtt is None or bw is None:
            raise EsdcError(
                f"ping-pong line does not parse: {text!r}", where=source, line=line.number
            )
        if start is None:
            start = line.number
        rows.append([int(row["bytes"]), rtt, bw, to_int(row["iters"])])
    close()
    return results
