"""Entry points of the transport analysis: files (the CLI) and open streams (verify).

Side effects stay here: opening inputs and loading the site profile. Everything after the
scan is pure (combine.py, diff.py).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from typing import IO

from builder.errors import EsdcError
from builder.logs.base import LineAnalyser
from builder.logs.combine import Combined, combine_detailed
from builder.logs.diff import compare
from builder.logs.scan import scan_file, scan_input
from builder.model.analysis import Analysis
from builder.model.site import SiteProfile

#: Makes a fresh set of analysers; the default is every library's (registry.py).
AnalyserFactory = Callable[[], list[LineAnalyser]]


def _default_analysers() -> list[LineAnalyser]:
    from builder.logs.registry import new_analysers

    return new_analysers()


def _site_profile(site: SiteProfile | str | None) -> SiteProfile | None:
    if site is None or isinstance(site, SiteProfile):
        return site
    from builder.profiles import load_site

    return load_site(site)


def _scan_files(files: Sequence[str], make: AnalyserFactory, site: SiteProfile | None) -> Combined:
    if not files:
        raise EsdcError("no log files given to analyse")
    analysers = make()
    for name in files:
        try:
            scan_file(name, analysers)
        except (OSError, EOFError, zlib.error) as exc:  # unreadable, or a damaged .gz
            raise EsdcError(f"cannot read: {exc}", where=name) from exc
    return combine_detailed(files, [a.facts() for a in analysers], site)


def _scan_one(handle: IO[bytes], name: str, analysers: list[LineAnalyser]) -> None:
    try:
        scan_input(handle, name, analysers)
    except (OSError, EOFError, zlib.error) as exc:  # unreadable, or a damaged .gz
        raise EsdcError(f"cannot read: {exc}", where=name) from exc


#: ``esdc analyze`` exit status: healthy, degraded, bad input or usage, no transport evidence.
EXIT_HEALTHY = 0
EXIT_DEGRADED = 1
EXIT_BAD_INPUT = 2
EXIT_NO_EVIDENCE = 3


def exit_status(analysis: Analysis) -> int:
    """The exit status that gates a pipeline: 0 healthy, 1 degraded, 3 no transport evidence.

    (2, bad input or usage, is the CLI's for every :class:`EsdcError`.)
    """
    if analysis.degraded is None:
        return EXIT_NO_EVIDENCE
    return EXIT_DEGRADED if analysis.degraded else EXIT_HEALTHY


def analyze_paths(
    files: list[str],
    *,
    baseline: list[str] | None = None,
    site: SiteProfile | str | None = None,
    analysers: AnalyserFactory = _default_analysers,
) -> Analysis:
    """Analyse debug logs (``-`` is standard input, ``.gz`` is decompressed).

    All ``files`` are one run: their lines feed one set of analysers and ``inputs`` lists the
    names as given. With ``baseline`` (bare-metal logs) the result is the differential
    analysis: the analysis of ``files`` (the container) with a finding for every difference
    from the baseline added, and ``degraded`` true when the container's path is worse or any
    error was found. ``site`` (a name, a path or a loaded profile) sets the expected paths.
    """
    profile = _site_profile(site)
    container = _scan_files(files, analysers, profile)
    if baseline is None:
        return container.analysis
    return compare(_scan_files(baseline, analysers, profile), container)


def analyze_both(
    files: list[str], baseline: list[str], *, site: SiteProfile | str | None = None
) -> tuple[Analysis, Analysis]:
    """The baseline's own analysis and the differential one of ``files`` (for printing both)."""
    profile = _site_profile(site)
    bare = _scan_files(baseline, _default_analysers, profile)
    return bare.analysis, compare(bare, _scan_files(files, _default_analysers, profile))


def analyze_streams(
    streams: Sequence[tuple[str, IO[bytes]]],
    *,
    baseline: Sequence[tuple[str, IO[bytes]]] | None = None,
    site: SiteProfile | str | None = None,
    analysers: AnalyserFactory = _default_analysers,
) -> Analysis:
    """:func:`analyze_paths` for open binary streams, each given as ``(name, stream)``.

    The caller keeps ownership of the streams (they are read, not closed).
    """
    profile = _site_profile(site)

    def run(pairs: Sequence[tuple[str, IO[bytes]]]) -> Combined:
        if not pairs:
            raise EsdcError("no log streams given to analyse")
        instances = analysers()
        for name, handle in pairs:
            _scan_one(handle, name, instances)
        return combine_detailed([n for n, _ in pairs], [a.facts() for a in instances], profile)

    container = run(streams)
    if baseline is None:
        return container.analysis
    return compare(run(baseline), container)
