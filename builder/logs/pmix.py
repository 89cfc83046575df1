"""PMIx analyser: errors between a launcher's PMIx server and the ranks' PMIx client.

What it reads:

* ``PMIX ERROR: <CODE> in file <f> at line <n>`` (every PMIx and OpenPMIx release),
  ``UNPACK-PMIX-VALUE: UNSUPPORTED TYPE <n>``, ``PMIX_ERR_*`` names (``PMIX_ERR_PACK_MISMATCH``),
  ``OUT-OF-RESOURCE``; ``srun: error:``/``slurmstepd: error:`` lines about the ``mpi/pmix`` plugin;
* versions: ``pmix_info``'s ``PMIx: 4.2.2``, ``ompi_info``'s ``PMIx: OpenPMIx v4.2.2``, and the
  Slurm plugin name (``mpi/pmix_v4``) as an observation;
* aborts (``MPI_ABORT was invoked``, ``MPI_Abort(``, ``*** Process received signal ***``,
  ``exited on signal``, Slurm's ``task N: Aborted``/``Killed``, a fatal MPI error ``*** An error
  occurred in MPI_Init``): PMIx errors printed after an
  abort in the same file are consequences of the abort, not of PMIx, and are reported as
  ``PMIX_ERROR_AFTER_ABORT`` (warning) instead of ``PMIX_ERROR`` (error).

Observations it records (``kind``): ``abort`` (the first abort line of each file),
``slurm_pmix_plugin`` (``pmix_v4``), ``pmix_error`` (one per distinct error code).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from builder.logs.base import (
    CodeInfo,
    FindingTally,
    LibraryFacts,
    LineAnalyser,
    Observation,
    add_evidence,
)
from builder.logs.rules import Obs, Rule
from builder.model.analysis import Evidence, Finding, Severity

LIBRARY = "pmix"

CODES: list[CodeInfo] = [
    CodeInfo(
        code="PMIX_ERROR",
        severity="error",
        library=LIBRARY,
        summary="PMIx reported an error (PMIX ERROR lines, UNPACK-PMIX-VALUE: UNSUPPORTED TYPE, "
        "PMIX_ERR_PACK_MISMATCH, OUT-OF-RESOURCE, Slurm mpi/pmix plugin errors) with no abort "
        "before it: often a PMIx client/server version mismatch between container and host.",
    ),
    CodeInfo(
        code="PMIX_ERROR_AFTER_ABORT",
        severity="warning",
        library=LIBRARY,
        summary="PMIx errors printed after an application abort (MPI_ABORT, a fatal signal) in "
        "the same log: side effects of the abort, not evidence against PMIx.",
    ),
]

#: Line shapes read by the rule engine (rules.py).
RULES: tuple[Rule, ...] = (
    Rule(
        anchor="mpi/pmix",
        pattern=r"(?:Couldn't find the specified plugin name for|cannot find mpi plugin for|"
        r"Couldn't load specified plugin name for|[Cc]annot create (?:mpi )?context for) "
        r"mpi/(?P<plugin>pmix\w*)",
        code="PMIX_PLUGIN_UNAVAILABLE",
        severity="error",
        summary="Slurm cannot find or load its PMIx plugin (mpi/pmix, mpi/pmix_vN): srun "
        "--mpi=pmix cannot launch ranks (plugin not built, or the PMIx library it needs missing).",
        message="Slurm cannot use its mpi/{plugin} plugin; PMIx launches fail",
        observe=Obs.LAUNCH_FAILED,
        value="mpi/{plugin}",
        examples=(
            "srun: error: Couldn't find the specified plugin name for mpi/pmix looking at all "
            "files",
            "slurmd: error: Couldn't load specified plugin name for mpi/pmix_v4: Plugin init() "
            "callback failed",
        ),
    ),
    Rule(
        anchor="can not load PMIx library",
        pattern=r"mpi/(?P<plugin>pmix\w*).*can not load PMIx library",
        code="PMIX_PLUGIN_UNAVAILABLE",
        severity="error",
        summary="Slurm cannot find or load its PMIx plugin.",
        message="Slurm's mpi/{plugin} plugin cannot load the PMIx library",
        observe=Obs.LAUNCH_FAILED,
        value="mpi/{plugin}",
        examples=(
            "slurmd: error:  mpi/pmix_v4: init: (null) [0]: mpi_pmix.c:193: pmi/pmix: can not "
            "load PMIx library",
        ),
    ),
    Rule(
        anchor="pmix_init failed",
        pattern=r"pmix_init failed",
        code="PMIX_INIT_FAILED",
        severity="error",
        summary="A PMIx client could not initialise (missing component such as psec munge, "
        "no server to connect to, client/server mismatch): the rank cannot start.",
        message="a PMIx client failed to initialise",
        examples=("It looks like pmix_init failed for some reason; your parallel process is",),
    ),
    Rule(
        anchor="PMIx_Init failed",
        pattern=r"PMIx_Init failed",
        code="PMIX_INIT_FAILED",
        severity="error",
        summary="A PMIx client could not initialise.",
        message="a PMIx client failed to initialise",
        examples=("[node1:12345] PMIx_Init failed with error -46",),
    ),
    Rule(
        anchor="PMI2_Init failed",
        pattern=r"PMI2?_Init failed",
        code="PMI_INIT_FAILED",
        severity="error",
        summary="The MPI library could not initialise its PMI/PMI2 client: the launcher "
        "(srun --mpi=..., mpirun of another MPI) offers no process-management interface it "
        "speaks.",
        message="the MPI library's PMI client failed to initialise",
        examples=("PMI2_Init failed to intialize.  Return code: 14",),
    ),
    Rule(
        anchor="PMK_KVS_Barrier duplicate request",
        pattern=r"PMK_KVS_Barrier duplicate request from task (?P<task>\d+)",
        code="SLURM_PMI_MISMATCH",
        severity="error",
        summary="srun's PMI-1 server received a duplicate barrier: the ranks speak another "
        "process-management interface than srun offers (srun --mpi=none/pmi2/pmix mismatch), "
        "so they cannot form one job.",
        message="srun's PMI-1 server got a duplicate barrier request (task {task}): the MPI "
        "library and srun --mpi disagree on the PMI flavour",
        examples=("srun: error: PMK_KVS_Barrier duplicate request from task 0",),
    ),
    Rule(
        anchor="rank 0 of 1",
        pattern=r"\brank 0 of 1\b",
        observe=Obs.SINGLETON,
        value="rank 0 of 1",
        examples=("Hello world: rank 0 of 1 running on node357.hydra.os",),
    ),
    Rule(
        anchor="rank 0 out of 1",
        pattern=r"\brank 0 out of 1\b",
        observe=Obs.SINGLETON,
        value="rank 0 of 1",
        examples=("Hello world from processor node12, rank 0 out of 1 processors",),
    ),
    Rule(
        anchor="pmix: init called",
        pattern=r"\[(?P<rank>[\w.\-]+:\d+)\] pmix: init called",
        observe=Obs.PMIX_INIT_CALLED,
        value="{rank}",
        examples=("[nid001003:949863] pmix: init called",),
    ),
    Rule(
        anchor="NO DEBUGGER WAITING",
        pattern=r"\[(?P<rank>[\w.\-]+:\d+)\] .*NO DEBUGGER WAITING",
        observe=Obs.PMIX_INIT_DONE,
        value="{rank}",
        examples=("[nid001003:949863] [slurm.pmix.491379.3:1] NO DEBUGGER WAITING",),
    ),
)

_SEVERITY: dict[str, Severity] = {info.code: info.severity for info in CODES}

#: Characters of a line that are parsed: real lines are far shorter.
MAX_PARSE_CHARS = 8192
#: Distinct error codes kept as observations.
MAX_ERROR_KINDS = 32

_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
#: ``[host:pid]`` at the start of a line (Open MPI / PMIx output prefix).
_RANK_RE = re.compile(r"^\s*\[([A-Za-z0-9_.\-]+):0*(\d+)\]")
_PMIX_ERROR_RE = re.compile(r"PMIX ERROR:\s*(.*?)(?:\s+in file\s+(\S+)\s+at line\s+(\d+)|\s*$)")
_UNSUPPORTED_TYPE_RE = re.compile(r"UNPACK-PMIX-VALUE:\s*UNSUPPORTED TYPE\s*(\d+)?")
_ERR_NAME_RE = re.compile(r"\b(PMIX_ERR_[A-Z0-9_]+)")
_SLURM_ERROR_RE = re.compile(r"\b(?:srun|slurmstepd|slurmd): error:\s*.*$")
_PLUGIN_RE = re.compile(r"\bmpi/(pmix(?:_v\d+)?)\b")
_VERSION_RE = re.compile(r"\bPMIx:\s*(?:Open\s?PMIx\s+)?v?(\d+\.\d+(?:\.\d+)?(?:[a-z]+\d*)?)")
_OPENPMIX_VERSION_RE = re.compile(r"\bOpenPMIx\s+v?(\d+\.\d+(?:\.\d+)?(?:[a-z]+\d*)?)")
_ABORT_RES = (
    re.compile(r"MPI_ABORT was invoked"),
    re.compile(r"\bMPI_Abort\("),
    re.compile(r"\*\*\* Process received signal \*\*\*"),
    re.compile(r"exited on signal \d+"),
    re.compile(r"\btask \d+: (?:Aborted|Killed|Segmentation fault|Bus error)"),
    re.compile(r"\*\*\* An error occurred in MPI_\w+"),
)


class Analyser(LineAnalyser):
    """Reads PMIx errors, versions and the aborts that explain them; see the module docstring."""

    library: ClassVar[str] = LIBRARY
    anchors: ClassVar[tuple[bytes, ...]] = (
        b"PMIX ERROR",
        b"UNPACK-PMIX-VALUE",
        b"PMIX_ERR_",
        b"OUT-OF-RESOURCE",
        b"PMIx:",
        b"OpenPMIx",
        b"mpi/pmix",
        b"pmixp_",
        b"MPI_ABORT was invoked",
        b"MPI_Abort(",
        b"Process received signal",
        b"exited on signal",
        b": Aborted",
        b": Killed",
        b": Segmentation fault",
        b": Bus error",
        b"An error occurred in MPI_",
    )

    def __init__(self) -> None:
        self._versions: dict[str, dict[str, None]] = {}
        self._version_evidence: list[Evidence] = []
        #: First abort line of each file: later PMIx errors there are its consequences.
        self._aborts: dict[str, Observation] = {}
        self._plugins: dict[str, Observation] = {}
        self._error_kinds: dict[str, Observation] = {}
        self._tallies: dict[str, FindingTally] = {}

    def feed(self, text: str, evidence: Evidence) -> None:
        """Consume one cleaned candidate line; lines that do not parse are ignored."""
        if len(text) > MAX_PARSE_CHARS:
            text = text[:MAX_PARSE_CHARS]  # longer lines are garbage; keep regexes linear
        if "\x1b" in text:
            text = _ANSI_RE.sub("", text)
        if self._feed_abort(text, evidence):
            return
        error = self._error_kind(text, evidence)
        if error is not None:
            self._record_error(error, text, evidence)
            return
        self._feed_version(text, evidence)

    def _feed_abort(self, text: str, evidence: Evidence) -> bool:
        if not any(pattern.search(text) for pattern in _ABORT_RES):
            return False
        if evidence.file not in self._aborts and len(self._aborts) < 4096:
            match = _RANK_RE.search(text)
            rank = f"{match.group(1)}:{int(match.group(2))}" if match else None
            self._aborts[evidence.file] = Observation(
                kind="abort", value=" ".join(text.split())[:120], rank=rank, evidence=[evidence]
            )
        return True

    def _error_kind(self, text: str, evidence: Evidence) -> str | None:
        """The PMIx error a line reports (``UNREACHABLE``, ``PMIX_ERR_PACK_MISMATCH``, ...)."""
        # PMIx prints the prefix in capitals; prose such as "PMIx errors" is not an error line.
        if "PMIX ERROR" in text:
            match = _PMIX_ERROR_RE.search(text)
            kind = match.group(1).strip() if match else ""
            return kind or "PMIX ERROR"
        if match := _UNSUPPORTED_TYPE_RE.search(text):
            return f"UNPACK-PMIX-VALUE: UNSUPPORTED TYPE {match.group(1) or '?'}".strip()
        if "pmix" in text.lower() and (match := _SLURM_ERROR_RE.search(text)):
            self._note_plugin(text, evidence)
            return " ".join(match.group(0).split())
        if match := _ERR_NAME_RE.search(text):
            return match.group(1)
        if "OUT-OF-RESOURCE" in text:
            return "OUT-OF-RESOURCE"
        return None

    def _record_error(self, kind: str, text: str, evidence: Evidence) -> None:
        abort = self._aborts.get(evidence.file)
        after_abort = abort is not None and abort.evidence[0].line < evidence.line
        code = "PMIX_ERROR_AFTER_ABORT" if after_abort else "PMIX_ERROR"
        tally = self._tallies.setdefault(code, FindingTally())
        tally.count += 1
        short_kind = kind if len(kind) <= 100 else kind[:99] + "…"
        if short_kind not in tally.details and len(tally.details) < 4:
            tally.details.append(short_kind)
        add_evidence(tally.evidence, evidence)
        observation = self._error_kinds.get(short_kind)
        if observation is None and len(self._error_kinds) < MAX_ERROR_KINDS:
            match = _RANK_RE.search(text)
            rank = f"{match.group(1)}:{int(match.group(2))}" if match else None
            observation = Observation(kind="pmix_error", value=short_kind, rank=rank)
            self._error_kinds[short_kind] = observation
        if observation is not None:
            add_evidence(observation.evidence, evidence)

    def _feed_version(self, text: str, evidence: Evidence) -> None:
        if "mpi/pmix" in text:
            self._note_plugin(text, evidence)
        match = _VERSION_RE.search(text) or _OPENPMIX_VERSION_RE.search(text)
        if match is None:
            return
        rank_match = _RANK_RE.search(text)
        rank = f"{rank_match.group(1)}:{int(rank_match.group(2))}" if rank_match else "?"
        ranks = self._versions.setdefault(match.group(1), {})
        if len(ranks) < 512:
            ranks[rank] = None  # an insertion-ordered set
        add_evidence(self._version_evidence, evidence)

    def _note_plugin(self, text: str, evidence: Evidence) -> None:
        match = _PLUGIN_RE.search(text)
        if match is None:
            return
        plugin = match.group(1)
        observation = self._plugins.get(plugin)
        if observation is None and len(self._plugins) < 8:
            observation = Observation(kind="slurm_pmix_plugin", value=plugin)
            self._plugins[plugin] = observation
        if observation is not None:
            add_evidence(observation.evidence, evidence)

    def facts(self) -> LibraryFacts:
        """Versions, errors (split by whether an abort came first), aborts and plugins."""
        observations = (
            list(self._aborts.values())[:64]
            + list(self._plugins.values())
            + list(self._error_kinds.values())
        )
        return LibraryFacts(
            library=LIBRARY,
            versions={k: list(v) for k, v in self._versions.items()},
            version_evidence=list(self._version_evidence),
            observations=observations,
            findings=[self._finding(code, tally) for code, tally in self._tallies.items()],
        )

    def _finding(self, code: str, tally: FindingTally) -> Finding:
        return Finding(
            code=code,
            severity=_SEVERITY[code],
            library=LIBRARY,
            message=_MESSAGES[code](tally),
            evidence=list(tally.evidence),
        )


def _hint(tally: FindingTally) -> str:
    """Why a reader should suspect a version mismatch, when the errors look like one."""
    joined = " ".join(tally.details).upper()
    if "UNSUPPORTED TYPE" in joined or "PACK_MISMATCH" in joined or "UNPACK" in joined:
        return (
            "; unpack/type errors usually mean the PMIx client (in the container) and the "
            "launcher's PMIx server speak different versions"
        )
    return ""


_MESSAGES: dict[str, Callable[[FindingTally], str]] = {
    "PMIX_ERROR": lambda t: f"PMIx errors ({t.times()}): {', '.join(t.details)}{_hint(t)}",
    "PMIX_ERROR_AFTER_ABORT": lambda t: (
        f"PMIx errors after an application abort ({t.times()}): "
        f"{', '.join(t.details)}; they follow the abort and are not blamed on PMIx"
    ),
}
