"""The project's own fuzz suite: hostile inputs built from the real fixtures, run in-process.

Every input is a real fixture (debug logs, benchmark outputs, site profiles, spack.yaml,
thresholds, a finished run directory) damaged by one or more mutations drawn by hypothesis from
:data:`MUTATIONS` (truncation, deleted or repeated lines, flipped bytes, NUL and binary garbage,
Unicode line breaks, hostile YAML scalars, corrupt gzip...). Each is fed to the command line
(typer's runner, so no process start) and must hold the toolkit's promise:

* the exit status is one the verb documents (0, 1, 2; analyze may also say "no evidence");
* an error is one :class:`EsdcError` line (exit 2), never a traceback;
* ``esdc verify`` never passes a run whose evidence was destroyed;
* a definition rendered from a hostile profile has no line the parsers would split differently.

The budget is small for CI (about 40 s on 2 cores); ``ESDC_FUZZ_SCALE=N`` multiplies the number
of examples and ``ESDC_FUZZ_STATS=FILE`` appends one JSON line per input (docs/reliability.md).
"""

from __future__ import annotations

import gzip
import json
import os
import random
import re
import shutil
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from builder.cli import app, error_line
from builder.errors import EsdcError

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
SCALE = max(1, int(os.environ.get("ESDC_FUZZ_SCALE", "1")))
STATS = os.environ.get("ESDC_FUZZ_STATS")
#: Long campaigns: collect every failure and report them at the end instead of stopping at one.
KEEP_GOING = os.environ.get("ESDC_FUZZ_KEEP_GOING") == "1"


def budget(examples: int) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """Hypothesis settings of one target: ``examples`` inputs (times ESDC_FUZZ_SCALE)."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        derandomize=SCALE == 1,  # CI runs the same inputs every time; scaled runs explore
        database=None,
        # No shrinking: it would spend minutes on slow targets; every failure names its input.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- mutations -----------------------------------------------------------------------------

#: Bytes that break parsers: NUL, invalid UTF-8, Unicode line breaks (UTF-8 and raw C1),
#: escape sequences, numbers a float() dislikes or overflows, format strings, blank.
PAYLOADS: tuple[bytes, ...] = (
    b"\x00",
    b"\xff\xfe\xfd",
    "\u2028".encode(),
    "\u2029".encode(),
    b"\x85",
    b"\x0b\x0c\x1c\x1d\x1e",
    b"\x1b[31m",
    b"nan",
    b"inf",
    b"-1",
    b"1e309",
    b"99999999999999999999999999",
    b"%s%n{0}",
    b"\r",
    b"",
    b"   ",
    b"\xc3",
    b"-oProxyCommand=sh",
)


def _lines(data: bytes) -> list[bytes]:
    return data.splitlines(keepends=True) or [b""]


def _span(rng: random.Random, size: int) -> tuple[int, int]:
    start = rng.randrange(size) if size else 0
    return start, min(size, start + 1 + rng.randrange(max(1, size // 4 + 1)))


def _truncate(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    return data[: rng.randrange(len(data) + 1)]


def _drop_lines(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    lines = _lines(data)
    start, end = _span(rng, len(lines))
    return b"".join(lines[:start] + lines[end:])


def _repeat_lines(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    lines = _lines(data)
    start, end = _span(rng, len(lines))
    return b"".join(lines[:end] + lines[start:end] * rng.randint(1, 5) + lines[end:])


def _shuffle_lines(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    lines = _lines(data)
    start, end = _span(rng, len(lines))
    window = lines[start:end]
    rng.shuffle(window)
    return b"".join(lines[:start] + window + lines[end:])


def _flip_bytes(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] ^= 1 << rng.randrange(8)
    return bytes(out)


def _insert(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    at = rng.randrange(len(data) + 1)
    return data[:at] + payload + data[at:]


def _replace_numbers(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    """Some numbers become the payload (a damaged table cell, a word for a version)."""
    numbers = list(re.finditer(rb"[0-9]+(\.[0-9]+)?", data))
    if not numbers:
        return data
    out = data
    for match in sorted(
        rng.sample(numbers, min(len(numbers), rng.randint(1, 6))), key=lambda m: -m.start()
    ):
        out = out[: match.start()] + (payload or b"x") + out[match.end() :]
    return out


def _break_lines(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    """Some newlines become other Unicode line breaks or CRLF."""
    breaks = [b"\r\n", b"\r", "\u2028".encode(), b"\x0b", b"\x0c", "\x85".encode()]
    return re.sub(rb"\n", lambda m: rng.choice(breaks) if rng.random() < 0.3 else m.group(0), data)


def _long_line(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    lines = _lines(data)
    at = rng.randrange(len(lines) + 1)
    return b"".join([*lines[:at], b"x" * rng.choice((4096, 70000, 300000)) + b"\n", *lines[at:]])


def _empty(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    return b""


def _garbage(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    return bytes(rng.randrange(256) for _ in range(rng.randint(64, 4096)))


def _nul_fill(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    start, end = _span(rng, len(data))
    return data[:start] + b"\x00" * (end - start) + data[end:]


def _gzip(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    return gzip.compress(data)


def _gzip_truncated(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    whole = gzip.compress(data)
    return whole[: rng.randrange(2, max(3, len(whole)))]


#: Hostile YAML scalars: wrong types, words for numbers, escapes that are line breaks or
#: controls, option-like and shell-like strings, anchors and tags.
YAML_VALUES: tuple[str, ...] = (
    '"x.y"',
    "four",
    "[]",
    "{}",
    "null",
    "-1",
    "1e999",
    "99999999999999999999999",
    '"a\\nb"',
    '"a\\u2028b"',
    '"a\\x85From: docker.io/attacker/evil:1"',
    '"a\\vRUN evil"',
    '"a\\0b"',
    '"-oProxyCommand=touch /tmp/x:/y"',
    "'$(id)'",
    "'; rm -rf /'",
    "!!binary aGk=",
    "&a [*a]",
    "true",
    '""',
)


def _yaml_value(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    """One ``key: value`` line gets a hostile value."""
    lines = _lines(data)
    keyed = [i for i, line in enumerate(lines) if re.match(rb"^\s*[-\w.]+:\s*\S", line)]
    if not keyed:
        return data
    index = rng.choice(keyed)
    key = lines[index].split(b":", 1)[0]
    lines[index] = key + b": " + rng.choice(YAML_VALUES).encode() + b"\n"
    return b"".join(lines)


#: Keys whose values reach a definition, a script or a command line.
_RENDERED_KEY = re.compile(
    rb"^\s*(name|os_base|launcher|module|cpu|gpu|[A-Z][A-Z0-9_]*|rsync_target|registry|url):\s*\S"
)
#: The second instructions an injected value tries to add (a line starting so is a success).
INJECTED = ("From: docker.io/attacker/evil:1", "RUN touch /tmp/pwned", "rm -f canary")
#: Values that add a line for some reader: every Unicode line break, as YAML escapes.
_INJECTIONS = ("\\n", "\\r", "\\v", "\\f", "\\x1c", "\\x1d", "\\x1e", "\\N", "\\L", "\\P", "\\0")


def _yaml_inject(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    """A value that reaches a rendered file gets a line break and a second instruction."""
    lines = _lines(data)
    keyed = [i for i, line in enumerate(lines) if _RENDERED_KEY.match(line)]
    if not keyed:
        return data
    index = rng.choice(keyed)
    key = lines[index].split(b":", 1)[0]
    tail = rng.choice(INJECTED)
    value = f'"x{rng.choice(_INJECTIONS)}{tail}"'.encode()
    lines[index] = key + b": " + value + b"\n"
    return b"".join(lines)


def _yaml_indent(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    lines = _lines(data)
    index = rng.randrange(len(lines))
    lines[index] = (b"  " + lines[index]) if rng.random() < 0.5 else lines[index].lstrip()
    return b"".join(lines)


@dataclass(frozen=True)
class Mutation:
    """A named damage; ``destroys`` when no evidence can survive it (the verify oracle)."""

    name: str
    apply: Callable[[bytes, random.Random, bytes], bytes]
    destroys: bool = False


MUTATIONS: tuple[Mutation, ...] = (
    Mutation("truncate", _truncate),
    Mutation("drop-lines", _drop_lines),
    Mutation("repeat-lines", _repeat_lines),
    Mutation("shuffle-lines", _shuffle_lines),
    Mutation("flip-bytes", _flip_bytes),
    Mutation("insert", _insert),
    Mutation("replace-numbers", _replace_numbers),
    Mutation("break-lines", _break_lines),
    Mutation("long-line", _long_line),
    Mutation("empty", _empty, destroys=True),
    Mutation("garbage", _garbage, destroys=True),
    Mutation("nul-fill", _nul_fill),
    Mutation("gzip", _gzip),
    Mutation("gzip-truncated", _gzip_truncated),
)
YAML_MUTATIONS: tuple[Mutation, ...] = (
    *(m for m in MUTATIONS if not m.name.startswith("gzip")),
    Mutation("yaml-value", _yaml_value),
    Mutation("yaml-value", _yaml_value),
    Mutation("yaml-value", _yaml_value),
    Mutation("yaml-indent", _yaml_indent),
    Mutation("yaml-inject", _yaml_inject),
    Mutation("yaml-inject", _yaml_inject),
)

Step = tuple[Mutation, int, bytes]


def steps(mutations: tuple[Mutation, ...], most: int = 3) -> st.SearchStrategy[list[Step]]:
    """One to ``most`` mutations, each with its random seed and payload."""
    one = st.tuples(
        st.sampled_from(mutations), st.integers(0, 2**32 - 1), st.sampled_from(PAYLOADS)
    )
    return st.lists(one, min_size=1, max_size=most)


def mutate(data: bytes, chain: list[Step]) -> bytes:
    for mutation, seed, payload in chain:
        data = mutation.apply(data, random.Random(seed), payload)
    return data


def describe(chain: list[Step]) -> str:
    return "+".join(f"{m.name}({seed}, {payload!r})" for m, seed, payload in chain)


def corpus(folder: Path, pattern: str = "*") -> list[Path]:
    return sorted(p for p in folder.rglob(pattern) if p.is_file() and p.name != "README.md")


LOGS = corpus(FIXTURES / "logs")
BENCH = corpus(FIXTURES / "bench")
SITES = corpus(REPO / "site-profiles", "*.yaml")
THRESHOLDS = corpus(REPO / "benchmarks", "thresholds.yaml")


# --- running the command line in-process ---------------------------------------------------


@dataclass
class Outcome:
    """What one command did: exit status, output, the error line or the traceback."""

    code: int
    stdout: str
    error: str | None = None
    crash: str | None = None


def esdc(*args: str) -> Outcome:
    """Run ``esdc ARGS`` in this process the way :func:`builder.cli.main` does.

    An exception in a helper thread (a reader feeding grep) is a crash too: the user sees its
    traceback and the command goes on with part of the input.
    """
    thread_errors: list[str] = []
    previous = threading.excepthook

    def hook(failure: threading.ExceptHookArgs) -> None:
        thread_errors.append(
            "".join(
                traceback.format_exception(
                    failure.exc_type, failure.exc_value, failure.exc_traceback
                )
            )
        )

    threading.excepthook = hook
    try:
        result = CliRunner().invoke(app, list(args), catch_exceptions=True)
    finally:
        threading.excepthook = previous
    if thread_errors:
        return Outcome(result.exit_code, result.stdout, crash=thread_errors[0])
    exc = result.exception
    if exc is None or isinstance(exc, SystemExit):
        return Outcome(result.exit_code, result.stdout)
    if isinstance(exc, EsdcError):
        return Outcome(2, result.stdout, error=error_line(str(exc)))
    assert result.exc_info is not None
    return Outcome(1, result.stdout, crash="".join(traceback.format_exception(*result.exc_info)))


@dataclass
class Ledger:
    """Failures seen during one test (all of them with ESDC_FUZZ_KEEP_GOING)."""

    failures: list[str] = field(default_factory=list)

    def fail(self, message: str) -> None:
        """Stop here, or with ESDC_FUZZ_KEEP_GOING note it for the end of the test."""
        if STATS:
            with open(STATS, "a", encoding="utf-8") as sink:
                sink.write(json.dumps({"failure": message.split(" on ")[0].split(":")[0]}) + "\n")
        if not KEEP_GOING:
            raise AssertionError(message)
        self.failures.append(message)


def record(target: str, chain: list[Step], outcome: Outcome, *, wrong_pass: bool = False) -> None:
    if not STATS:
        return
    line = {
        "target": target,
        "mutations": [m.name for m, _, _ in chain],
        "code": outcome.code,
        "crash": outcome.crash is not None,
        "wrong_pass": wrong_pass,
    }
    with open(STATS, "a", encoding="utf-8") as sink:
        sink.write(json.dumps(line) + "\n")


def check(outcome: Outcome, allowed: set[int], ledger: Ledger, what: str) -> None:
    """The common property: a documented exit status, one error line, no traceback."""
    if outcome.crash is not None:
        ledger.fail(f"traceback on {what}:\n{outcome.crash}")
    elif outcome.code not in allowed:
        ledger.fail(f"exit {outcome.code} on {what}")
    elif outcome.error is not None and (
        "\n" in outcome.error.strip() or "Traceback" in outcome.error
    ):
        ledger.fail(f"error of several lines on {what}")


def settle(ledger: Ledger) -> None:
    if ledger.failures:
        shown = "\n".join(ledger.failures[:5])
        raise AssertionError(f"{len(ledger.failures)} failure(s); first ones:\n{shown}")


@contextmanager
def scratch() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="esdc-fuzz-"))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# --- targets -------------------------------------------------------------------------------

#: analyze: 0 healthy, 1 degraded, 2 bad input, 3 no transport evidence (design.md: "its own code").
ANALYZE_CODES = {0, 1, 2, 3}


def test_fuzz_analyze() -> None:
    ledger = Ledger()

    @budget(60)
    @given(seed=st.sampled_from(LOGS), chain=steps(MUTATIONS), baseline=st.booleans())
    def run(seed: Path, chain: list[Step], baseline: bool) -> None:
        data = mutate(seed.read_bytes(), chain)
        with scratch() as folder:
            suffix = ".gz" if any(m.name.startswith("gzip") for m, _, _ in chain) else ".log"
            path = folder / f"input{suffix}"
            path.write_bytes(data)
            args = ["analyze", "--json", str(path)]
            if baseline:
                args = ["analyze", "--json", "--baseline", str(seed), "--", str(path)]
            outcome = esdc(*args)
        record("analyze", chain, outcome)
        what = f"analyze {seed.relative_to(REPO)} {describe(chain)}"
        check(outcome, ANALYZE_CODES, ledger, what)
        produced = json.loads(outcome.stdout) if outcome.code in (0, 1) else {}
        if outcome.code in (0, 1) and produced.get("schema") != "esdc.analysis/1":
            ledger.fail(f"no analysis JSON on {what}")

    run()
    settle(ledger)


def test_fuzz_parse() -> None:
    ledger = Ledger()

    @budget(100)
    @given(seed=st.sampled_from(BENCH), chain=steps(MUTATIONS))
    def run(seed: Path, chain: list[Step]) -> None:
        data = mutate(seed.read_bytes(), chain)
        with scratch() as folder:
            path = folder / "output.txt"
            path.write_bytes(data)
            outcome = esdc("parse", "--json", str(path))
        record("parse", chain, outcome)
        what = f"parse {seed.relative_to(REPO)} {describe(chain)}"
        check(outcome, {0, 2}, ledger, what)
        if outcome.code == 0 and json.loads(outcome.stdout).get("schema") != "esdc.bench/1":
            ledger.fail(f"no bench JSON on {what}")

    run()
    settle(ledger)


def _one_line_each(text: str) -> bool:
    """True when every reader splits ``text`` into the same lines as ``\\n`` does, and no line
    starts with an instruction an injected value carried."""
    lines = text.rstrip("\n").split("\n")
    injected = any(line.lstrip().startswith(INJECTED) for line in text.splitlines())
    return text.splitlines() == lines and not injected


def check_definition(outcome: Outcome, ledger: Ledger, what: str) -> None:
    """``esdc generate``'s property: exit 0 or 2, and no value adds a line a parser would read."""
    check(outcome, {0, 2}, ledger, what)
    if outcome.code == 0 and not _one_line_each(outcome.stdout):
        ledger.fail(f"a value added a line to the definition: {what}")


def test_fuzz_site_profiles() -> None:
    ledger = Ledger()

    @budget(50)
    @given(
        seed=st.sampled_from(SITES),
        chain=steps(YAML_MUTATIONS),
        fmt=st.sampled_from(["apptainer", "dockerfile"]),
    )
    def run(seed: Path, chain: list[Step], fmt: str) -> None:
        data = mutate(seed.read_bytes(), chain)
        with scratch() as folder:
            path = folder / seed.name
            path.write_bytes(data)
            outcome = esdc("generate", "mpi-base", "--site", str(path), "--format", fmt)
            checked = esdc("check", "mpi-base", "--site", str(path))
        record("site-profile", chain, outcome)
        what = f"site profile {seed.name} {describe(chain)}"
        check(checked, {0, 2}, ledger, what)
        check_definition(outcome, ledger, what)

    run()
    settle(ledger)


def test_fuzz_spack_yaml(tmp_path: Path) -> None:
    ledger = Ledger()
    home = tmp_path / "home"
    shutil.copytree(REPO / "site-profiles", home / "site-profiles")
    shutil.copytree(REPO / "spack-envs", home / "spack-envs")
    manifest = home / "spack-envs" / "mpi-base" / "spack.yaml"
    meta = home / "spack-envs" / "mpi-base" / "esdc.yaml"
    originals = {manifest: manifest.read_bytes(), meta: meta.read_bytes()}

    @budget(30)
    @given(target=st.sampled_from(sorted(originals)), chain=steps(YAML_MUTATIONS))
    def run(target: Path, chain: list[Step]) -> None:
        for path, data in originals.items():
            path.write_bytes(data)
        target.write_bytes(mutate(originals[target], chain))
        outcome = esdc(
            "generate", str(target.parent), "--site", str(home / "site-profiles/jureca-dc.yaml")
        )
        record("spack-env", chain, outcome)
        check_definition(outcome, ledger, f"{target.name} {describe(chain)}")

    run()
    settle(ledger)


def test_fuzz_thresholds(tmp_path: Path) -> None:
    from builder.verify.thresholds import load_thresholds, resolve_for_site

    ledger = Ledger()

    @budget(40)
    @given(seed=st.sampled_from(THRESHOLDS), chain=steps(YAML_MUTATIONS))
    def run(seed: Path, chain: list[Step]) -> None:
        suite = seed.parent.name
        folder = tmp_path / "benchmarks"
        (folder / suite).mkdir(parents=True, exist_ok=True)
        (folder / suite / "thresholds.yaml").write_bytes(mutate(seed.read_bytes(), chain))
        what = f"thresholds {suite} {describe(chain)}"
        try:
            loaded = load_thresholds(suite, folder)
            if loaded is not None:
                for site in ("local", "jureca-dc"):
                    resolve_for_site(loaded, site)
            outcome = Outcome(0, "")
        except EsdcError as exc:
            outcome = Outcome(2, "", error=error_line(str(exc)))
        except Exception:
            outcome = Outcome(1, "", crash=traceback.format_exc())
        record("thresholds", chain, outcome)
        check(outcome, {0, 2}, ledger, what)

    run()
    settle(ledger)


# --- run directories -----------------------------------------------------------------------

RUN = FIXTURES / "runs" / "pass"


def _evidence_files(run_dir: Path) -> list[str]:
    """Files verify reads: the manifest, records, perf stdouts and every debug log."""
    names = ["run.json"]
    for record_path in sorted(run_dir.rglob("record.json")):
        rep = record_path.parent
        names.append(record_path.relative_to(run_dir).as_posix())
        data = json.loads(record_path.read_text())
        logs = [
            data["stdout"],
            *(([data["stderr"], *data["debug_logs"]]) if rep.name == "debug" else []),
        ]
        names += [(rep / name).relative_to(run_dir).as_posix() for name in dict.fromkeys(logs)]
    return names


EVIDENCE = _evidence_files(RUN)
#: Structural damage besides byte mutations: the file gone, a folder or a FIFO in its place.
STRUCTURE = ("mutate", "mutate", "mutate", "delete", "directory", "fifo")


def _strip_transport(data: bytes, rng: random.Random, payload: bytes) -> bytes:
    """Every line naming a transport library goes (a path-stripped log)."""
    words = rb"UCX|ucx|select|pml|btl|mtl|NET/|NCCL|ofi|tcp|shm|sysv|cma"
    return b"".join(line for line in _lines(data) if not re.search(words, line))


#: Damage to evidence, weighted toward what destroys it (the wrong-pass hunt).
VERIFY_MUTATIONS: tuple[Mutation, ...] = (
    *(m for m in MUTATIONS if m.destroys),
    *(m for m in MUTATIONS if m.destroys),
    Mutation("nul-fill", _nul_fill),
    Mutation("strip-transport", _strip_transport),
    Mutation("strip-transport", _strip_transport),
    *(m for m in MUTATIONS if m.name in ("truncate", "flip-bytes", "drop-lines", "insert")),
)
#: The debug logs (the transport evidence) are drawn as often as everything else together.
DEBUG_LOGS = [name for name in EVIDENCE if "/debug/" in name and not name.endswith(".json")]


def test_fuzz_verify(tmp_path: Path) -> None:
    ledger = Ledger()

    @budget(16)
    @given(
        target=st.sampled_from(EVIDENCE) | st.sampled_from(DEBUG_LOGS),
        damage=st.sampled_from(STRUCTURE),
        chain=steps(VERIFY_MUTATIONS, most=2),
    )
    def run(target: str, damage: str, chain: list[Step]) -> None:
        run_dir = tmp_path / "run"
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.copytree(RUN, run_dir)
        path = run_dir / target
        if damage == "delete":
            path.unlink()
        elif damage == "directory":
            path.unlink()
            path.mkdir()
        elif damage == "fifo":
            path.unlink()
            os.mkfifo(path)
        else:
            path.write_bytes(mutate(path.read_bytes(), chain))
        outcome = esdc("verify", str(run_dir), "--json")
        what = f"verify: {damage} {target} {describe(chain) if damage == 'mutate' else ''}"
        # Evidence destroyed: the file gone, replaced, emptied (a stderr may be empty), garbage,
        # or a debug log with a zero-filled stretch.
        destroyed = damage != "mutate" or any(
            (m.destroys and not (m.name == "empty" and target.endswith("stderr")))
            or (m.name == "nul-fill" and target in DEBUG_LOGS)
            for m, _, _ in chain
        )
        wrong_pass = destroyed and outcome.code == 0
        record("verify", chain, outcome, wrong_pass=wrong_pass)
        check(outcome, {0, 1, 2}, ledger, what)
        if wrong_pass:
            ledger.fail(f"PASS with destroyed evidence: {what}")

    run()
    settle(ledger)


def test_the_verify_oracle_sees_the_issue_case(tmp_path: Path) -> None:
    """The oracle sees the issue's example (an emptied container stdout) as destroyed evidence."""
    run_dir = tmp_path / "run"
    shutil.copytree(RUN, run_dir)
    (run_dir / "container/mpi4py/debug/stdout").write_bytes(b"")
    assert "container/mpi4py/debug/stdout" in EVIDENCE
    assert esdc("verify", str(run_dir)).code == 2


# --- crashes the fuzz suite found (reproducers) ------------------------------------------------

_BY_NAME = {m.name: m for m in MUTATIONS}
#: (fixture, mutation chain, verb): each reproduces one crash the suite found, now fixed.
KNOWN_CRASHES = [
    pytest.param(
        "tests/fixtures/bench/nccl/nccl-tests-2.13_all_reduce_8gpus_constructed.txt",
        [("flip-bytes", 409649215, b"inf")],
        "parse",
        id="nccl-damaged-cell",  # fixed: the row is kept with complete: false
    ),
    pytest.param(
        "tests/fixtures/logs/libfabric/real-fi-info-tcp-info.txt",
        [
            ("gzip-truncated", 2058108834, b"\x85"),
            ("replace-numbers", 3016734480, b"\x0b\x0c\x1c\x1d\x1e"),
            ("long-line", 1106424563, b"-oProxyCommand=sh"),
        ],
        "analyze",
        id="corrupt-gz-log",  # fixed: one error line naming the file, exit 2
    ),
]


@pytest.mark.parametrize(("fixture", "chain", "verb"), KNOWN_CRASHES)
def test_known_crash(fixture: str, chain: list[tuple[str, int, bytes]], verb: str) -> None:
    steps_ = [(_BY_NAME[name], seed, payload) for name, seed, payload in chain]
    data = mutate((REPO / fixture).read_bytes(), steps_)
    with scratch() as folder:
        path = folder / ("input.gz" if verb == "analyze" else "input.txt")
        path.write_bytes(data)
        outcome = esdc(verb, "--json", str(path))
    assert outcome.crash is None, outcome.crash
    assert outcome.code in ANALYZE_CODES
