"""Entry points of ``esdc parse``: benchmark outputs (files or text) to ``esdc.bench/1``.

Reading is the only side effect here; every parser below is a pure function of the text.
"""

from __future__ import annotations

from collections.abc import Sequence

from builder.bench.detect import PARSERS, detect_suites
from builder.bench.text import Line, split_lines, streams
from builder.errors import EsdcError
from builder.fsio import open_binary_input
from builder.model.bench import BenchReport, BenchResult, Suite

#: The name results read from standard input carry in ``source.file``.
STDIN_NAME = "<stdin>"


def parse_text(text: str, source: str, *, keep_partial: bool = False) -> list[BenchResult]:
    """Every benchmark result in ``text``, in the order they appear.

    The suite is detected from the text itself; a file may hold several benchmarks and
    several suites, with debug lines, UCX log lines and launcher noise interleaved.

    Parameters
    ----------
    text
        The whole output, as decoded text.
    source
        The name to report in ``source.file`` and in errors (a path, or ``<stdin>``).
    keep_partial
        Return cut or damaged tables with ``complete: false`` (what ``esdc parse`` shows)
        instead of refusing them (what a verdict needs: never judge from part of a table).

    Raises
    ------
    EsdcError
        Nothing recognisable (``no benchmark output recognised``), a parser that failed on a
        line, or, unless ``keep_partial``, a table that is cut (``truncated table at line N``);
        the message names ``source``.
    """
    lines = split_lines(text)
    suites = detect_suites(lines)
    groups = streams(lines)
    results = [
        result
        for group in groups
        for suite in suites
        for result in _run_parser(suite, group, source)
    ]
    if len(groups) > 1:
        results = _once_with_rank(results, lines)
    if not results:
        raise EsdcError(
            "no benchmark output recognised (OSU, nccl-tests, NEST, mpi4py.bench)", where=source
        )
    if not keep_partial:
        for result in results:
            if not result.complete and result.problems:
                first = result.problems[0]
                raise EsdcError(
                    f"truncated table at line {first.line}: {first.message}",
                    where=source,
                    line=first.line,
                )
    return sorted(results, key=lambda result: result.source.line)


def _once_with_rank(results: list[BenchResult], lines: Sequence[Line]) -> list[BenchResult]:
    """Results read per rank: each once (unprefixed lines go with every rank), rank noted."""
    rank_of = {line.number: line.stream for line in lines}
    unique: dict[str, BenchResult] = {}
    for result in results:
        unique.setdefault(result.model_dump_json(), result)
    for result in unique.values():
        if rank := rank_of.get(result.source.line):
            result.summary["rank"] = rank
    return list(unique.values())


def _run_parser(suite: Suite, lines: Sequence[Line], source: str) -> list[BenchResult]:
    try:
        return PARSERS[suite](lines, source)
    except EsdcError:
        raise
    except Exception as exc:  # a parser bug must still be one clear line naming the file
        raise EsdcError(
            f"the {suite} parser failed: {type(exc).__name__}: {exc}", where=source
        ) from exc


def read_text(name: str) -> str:
    """The decoded text of a file (``-`` is standard input, ``.gz`` is decompressed).

    Invalid UTF-8 (a crashed rank's bytes) is replaced rather than refused.
    """
    with open_binary_input(name) as handle:
        data = handle.read()
    return data.decode("utf-8", errors="replace")


def parse_paths(files: list[str]) -> BenchReport:
    """Parse benchmark outputs into one ``esdc.bench/1`` report.

    Parameters
    ----------
    files
        Paths of outputs; ``-`` reads standard input, ``*.gz`` files are decompressed.

    Raises
    ------
    EsdcError
        A file cannot be read or holds no recognisable output. Cut or damaged tables are
        kept with ``complete: false``.
    """
    if not files:
        raise EsdcError("no input files given")
    results: list[BenchResult] = []
    for name in files:
        source = STDIN_NAME if name == "-" else name
        results.extend(parse_text(read_text(name), source, keep_partial=True))
    return BenchReport(results=results)
