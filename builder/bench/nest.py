"""NEST benchmark output: hpc_benchmark logger lines, result dictionaries, NEST's own log lines.

What NEST benchmarks print:

* ``pynest/examples/hpc_benchmark.py``: ``Logger.log`` writes ``<rank> <value> # <key>`` to
  stdout and stderr (ranks 0-4), followed by an empty line; its log files hold
  ``<counter> <rank> <value> # <key>``. Keys: ``virt_mem_0``, ``build_time_nodes``,
  ``virt_mem_after_nodes``, ``build_edge_time``, ``virt_mem_after_edges``, ``presim_time``,
  ``virt_mem_after_presim``, ``sim_time``, ``virt_mem_after_sim``, ``average rate``. At the end
  it prints the kernel status dictionary.
* beNNch models print one dictionary of ``py_time_*`` timers and ``*_memory`` figures (memory
  often as quoted strings), usually merged with the kernel status, sometimes prefixed
  (``final_kernel_status: {...}``); their log files hold ``key value`` lines.
* the kernel status holds ``time_construction_create``, ``time_construction_connect``,
  ``time_simulate``, ``time_communicate_prepare`` ... (``numpy`` arrays of per-thread values
  since NEST 3.9, printed as ``array([0.01, 0.02])``, possibly over several lines),
  ``num_processes``, ``local_num_threads``, ``network_size``, ``num_connections``.
* NEST's log: ``[INFO] [2026-11-22 04:06:06] Number of local nodes: 1254`` followed by
  ``Simulation time (ms): 50``, ``Number of OpenMP threads: 2``, ``Number of MPI processes: 2``
  or ``Not using MPI`` and ``Simulation finished.`` (NEST up to 3.8 starts those lines with
  ``Nov 22 04:06:06 SimulationManager::run [Info]:`` instead).

Choices:

* one result per NEST run; runs are separated by NEST's start-up banner (``-- N E S T --``)
  printed after timers (every MPI rank prints the banner at start-up, so banners in a row
  belong to one run).
  ``version`` is the banner's ``Version:``.
* ``benchmark``: ``hpc_benchmark`` when logger lines are present, ``beNNch`` when only a
  ``py_time_*`` dictionary is, else ``nest``.
* ``columns``/``rows``: one row per rank that logged, ``["rank", <logger keys in order>]``;
  empty when only dictionaries were printed.
* ``summary``: every logger key (the maximum over ranks: the slowest rank sets the wall time),
  dictionary timers (``time_*``, ``py_time_*``), memory figures (``*_memory``), counts
  (``num_processes``, ``local_num_threads``, ``network_size``, ``num_connections``,
  ``local_spike_counter``, ``num_local_nodes``) and ``simulations_finished``. Per-thread lists
  are summarised by their maximum; the lists themselves are kept under ``summary["per_thread"]``.
* a banner with no timers after it (the run died) is a truncated output, not an empty result;
  when NEST printed a ``[FATAL]``/``[ERROR]`` message and no timers, the error quotes it (for
  example NEST from PyPI, built without MPI, refuses to start under ``mpirun``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from builder.bench.text import Line, snake_case, to_cell
from builder.errors import EsdcError
from builder.model.bench import BenchResult, Cell, SourceRef

SUITE = "nest"

BANNER = re.compile(r"--\s*N E S T\s*--")
VERSION = re.compile(r"^\s*Version:\s*(?P<version>\S+)")
_NUM = r"[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+|nan|inf)"
LOGGER = re.compile(
    rf"^(?:(?P<counter>\d+)\s+)?(?P<rank>\d+)\s+(?P<value>{_NUM})"
    rf"\s+#\s*(?P<key>[A-Za-z_][\w ]*?)\s*$"
)
LOG_FILE_PAIR = re.compile(rf"^(?P<key>py_time_\w+|time_\w+|\w+_memory)\s+(?P<value>{_NUM})\s*$")
LOCAL_NODES = re.compile(r"Number of local nodes:\s*(?P<n>\d+)")
THREADS = re.compile(r"Number of OpenMP threads:\s*(?P<n>\d+)")
PROCESSES = re.compile(r"Number of MPI processes:\s*(?P<n>\d+)")
NOT_USING_MPI = re.compile(r"\bNot using MPI\b")
FINISHED = re.compile(r"\bSimulation finished\.")
#: NEST's own fatal or error messages: ``[FATAL] [2026-11-22 04:19:40] ...`` (3.9+) or
#: ``Nov 22 04:19:40 main [Fatal]: ...`` (older).
FAILURE = re.compile(
    r"^\[(?:FATAL|ERROR)\]\s+\[[^\]]*\]\s*(?P<message>.+)$"
    r"|^\w{3} +\d{1,2} [\d:]{8} \S+ \[(?:Fatal|Error)\]:\s*(?P<old>.*)$"
)
#: A dictionary entry whose value is a number, a quoted number, or a list/array of numbers.
DICT_ENTRY = re.compile(
    rf"'(?P<key>\w+)':\s*(?:array\(\[(?P<array>[^\]]*)\][^)]*\)|\[(?P<list>[^\[\]]*)\]"
    rf"|\((?P<tuple>[^()]*)\)|'(?P<quoted>{_NUM})'|(?P<number>{_NUM})(?=[,}}\s]))"
)
#: Longest printed dictionary read (numpy wraps long arrays; a kernel status is ~20 lines).
MAX_DICT_LINES = 400
_COUNTS = frozenset(
    {
        "num_processes",
        "local_num_threads",
        "total_num_virtual_procs",
        "network_size",
        "num_connections",
        "local_spike_counter",
        "biological_time",
        "average_rate",
    }
)


def _wanted(key: str) -> bool:
    """Dictionary keys kept in the summary: timers, memory figures and counts."""
    return key.startswith(("time_", "py_time_")) or key.endswith("_memory") or key in _COUNTS


def _number(token: str) -> float | int | None:
    cell = to_cell(token.strip())
    return cell if isinstance(cell, int | float) else None


@dataclass
class _Run:
    """One NEST run being collected."""

    line: int | None = None
    version: str | None = None
    banner_line: int | None = None
    logger: dict[int, dict[str, float | int | None]] = field(default_factory=dict)
    logger_keys: list[str] = field(default_factory=list)
    values: dict[str, object] = field(default_factory=dict)
    per_thread: dict[str, list[float]] = field(default_factory=dict)
    finished: int = 0
    #: The first fatal or error message NEST printed: line number and text.
    failure: tuple[int, str] | None = None
    measured: bool = False
    bennch: bool = False

    def start(self, number: int) -> None:
        if self.line is None:
            self.line = number


def _read_dict(run: _Run, blob: str) -> int:
    """Keep the wanted entries of a printed result or kernel status dictionary; count them."""
    kept = 0
    for entry in DICT_ENTRY.finditer(blob):
        key = entry["key"]
        if not _wanted(key):
            continue
        kept += 1
        items = entry["array"] or entry["list"] or entry["tuple"]
        if items is not None:
            numbers = [
                _number(item) for item in items.replace("\n", " ").split(",") if item.strip()
            ]
            floats = [float(n) for n in numbers if n is not None]
            if not floats:
                continue
            earlier = run.per_thread.get(key)
            if earlier is None or max(floats) >= max(earlier):
                run.per_thread[key] = floats
            _keep_max(run.values, key, max(floats))
        else:
            _keep_max(run.values, key, _number(entry["quoted"] or entry["number"]))
        run.measured = True
        if key.startswith("py_time_"):
            run.bennch = True
    return kept


def _keep_max(values: dict[str, object], key: str, value: float | int | None) -> None:
    """Store ``value`` unless an earlier rank's dictionary printed a larger one."""
    earlier = values.get(key)
    if value is None or not isinstance(earlier, int | float) or value > earlier:
        values[key] = value if value is not None else earlier


def _dict_span(lines: Sequence[Line], start: int) -> tuple[str, int]:
    """The text of a dictionary starting at ``lines[start]`` (numpy may wrap it over lines).

    Returns the text and the index of its last line. Brackets are counted outside quotes; an
    unbalanced dictionary (a cut output) ends after :data:`MAX_DICT_LINES` lines or at the end.
    """
    text = lines[start].text
    depth, parts = 0, []
    index = start
    end = min(len(lines), start + MAX_DICT_LINES)
    while index < end:
        chunk = lines[index].text if index > start else text[text.index("{") :]
        parts.append(chunk)
        depth += _bracket_balance(chunk)
        if depth <= 0:
            break
        index += 1
    return "\n".join(parts), min(index, end - 1)


def _bracket_balance(text: str) -> int:
    balance, quote = 0, ""
    for char in text:
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "{[(":
            balance += 1
        elif char in "}])":
            balance -= 1
    return balance


def _result(run: _Run, source: str) -> BenchResult:
    summary: dict[str, object] = {}
    ranks = sorted(run.logger)
    for key in run.logger_keys:
        values = [v for rank in ranks if (v := run.logger[rank].get(key)) is not None]
        summary[snake_case(key)] = max(values) if values else None
    summary.update(run.values)
    if run.finished:
        summary["simulations_finished"] = run.finished
    if run.per_thread:
        summary["per_thread"] = run.per_thread
    columns = ["rank", *(snake_case(key) for key in run.logger_keys)] if ranks else []
    rows: list[list[Cell]] = [
        [rank, *(run.logger[rank].get(key) for key in run.logger_keys)] for rank in ranks
    ]
    benchmark = "hpc_benchmark" if ranks else ("beNNch" if run.bennch else "nest")
    return BenchResult(
        suite=SUITE,
        benchmark=benchmark,
        version=run.version,
        columns=columns,
        rows=rows,
        summary=summary,
        source=SourceRef(file=source, line=run.line or 1),
    )


def parse_nest(lines: Sequence[Line], source: str) -> list[BenchResult]:
    """One result per NEST run in ``lines``.

    Raises
    ------
    EsdcError
        NEST started (banner) but printed no timers before the output ended.
    """
    results: list[BenchResult] = []
    run = _Run()

    def close() -> None:
        nonlocal run
        if run.measured:
            results.append(_result(run, source))
        elif run.failure is not None:
            number, message = run.failure
            raise EsdcError(
                f"NEST failed at line {number} before printing timers: {message}",
                where=source,
                line=number,
            )
        elif run.banner_line is not None:
            raise EsdcError(
                f"truncated table at line {run.banner_line}: NEST started but printed no timers",
                where=source,
                line=run.banner_line,
            )
        run = _Run()

    index = 0
    while index < len(lines):
        line = lines[index]
        text = line.text.strip()
        index += 1
        if not text:
            continue
        if BANNER.search(text):
            # Every MPI rank prints the banner: only a banner after timers starts a new run.
            if run.measured:
                close()
            if run.banner_line is None:
                run.banner_line = line.number
            run.start(line.number)
            continue
        if run.banner_line is not None and run.version is None and (v := VERSION.match(text)):
            run.version = v["version"]
            continue
        if "#" in text and (logged := LOGGER.match(text)):
            key = logged["key"]
            if key not in run.logger_keys:
                run.logger_keys.append(key)
            # stdout and stderr both carry each line: the last value of a (rank, key) wins.
            run.logger.setdefault(int(logged["rank"]), {})[key] = _number(logged["value"])
            run.measured = True
            run.start(line.number)
            continue
        if "{'" in text:
            blob, last = _dict_span(lines, index - 1)
            if _read_dict(run, blob):
                run.start(line.number)
                index = last + 1
            continue
        if pair := LOG_FILE_PAIR.match(text):
            run.values[pair["key"]] = _number(pair["value"])
            run.measured = True
            run.bennch = run.bennch or pair["key"].startswith("py_time_")
            run.start(line.number)
            continue
        _read_log_line(run, text, line.number)
    close()
    return results


def _read_log_line(run: _Run, text: str, number: int) -> None:
    """Counts from NEST's own ``[INFO]`` messages (one per line, or several run together)."""
    if run.failure is None and (failed := FAILURE.match(text)):
        run.failure = (number, (failed["message"] or failed["old"] or "").strip())
    if match := LOCAL_NODES.search(text):
        run.values["num_local_nodes"] = int(match["n"])
    if match := THREADS.search(text):
        run.values.setdefault("local_num_threads", int(match["n"]))
    if match := PROCESSES.search(text):
        run.values.setdefault("num_processes", int(match["n"]))
    if NOT_USING_MPI.search(text):
        run.values.setdefault("num_processes", 1)
    if FINISHED.search(text):
        run.finished += 1
