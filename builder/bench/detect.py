"""Which benchmark suites a text holds, decided from marker lines before any table is parsed.

Each suite has a few unmistakable markers (an OSU title or header, an nccl-tests header, the
NEST banner, logger lines or result dictionaries, the mpi4py pingpong title). Detection only
chooses which parsers run; each parser still finds its own tables, so a file holding several
suites (a campaign log) yields the results of all of them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from builder.bench import mpi4py_bench, nccl_tests, nest, osu, pingpong
from builder.bench.text import Line
from builder.model.bench import BenchResult, Suite

Parser = Callable[[Sequence[Line], str], list[BenchResult]]

#: The parser of each suite, in the order results of equal line numbers are listed.
PARSERS: dict[Suite, Parser] = {
    "osu": osu.parse_osu,
    "nccl": nccl_tests.parse_nccl,
    "nest": nest.parse_nest,
    "mpi4py": mpi4py_bench.parse_mpi4py,
    "pingpong": pingpong.parse_pingpong,
}

_NEST_DICT = re.compile(r"'(?:py_)?time_(?:simulate|construction_create|create|presimulate)'")


def _is_nest_marker(text: str, stripped: str) -> bool:
    return bool(
        ("#" in text and nest.LOGGER.match(stripped))
        or nest.BANNER.search(text)
        or ("{'" in text and _NEST_DICT.search(text))
        or nest.LOG_FILE_PAIR.match(stripped)
        or nest.FAILURE.match(stripped)
    )


def _suites_of(text: str) -> set[Suite]:
    found: set[Suite] = set()
    stripped = text.lstrip()
    if stripped.startswith("#"):
        if osu.TITLE.match(stripped) or osu.SIZED_HEADER.match(stripped):
            found.add("osu")
        elif nccl_tests.is_marker(stripped):
            found.add("nccl")
        elif mpi4py_bench.TITLE.match(stripped) or mpi4py_bench.HEADER.match(stripped):
            found.add("mpi4py")
    elif (stripped[:1].isdigit() or "bus" in stripped) and nccl_tests.is_marker(stripped):
        found.add("nccl")  # old releases print no "#"; excerpts may hold rows only
    if _is_nest_marker(text, stripped):
        found.add("nest")
    if stripped.startswith("pingpong ") and pingpong.ROW.match(stripped):
        found.add("pingpong")
    return found


def detect_suites(lines: Sequence[Line]) -> list[Suite]:
    """The suites whose markers appear in ``lines``, in :data:`PARSERS` order."""
    found: set[Suite] = set()
    for line in lines:
        if line.text:
            found |= _suites_of(line.text)
            if len(found) == len(PARSERS):
                break
    return [suite for suite in PARSERS if suite in found]
