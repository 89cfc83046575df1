"""parse_text / parse_paths and ``esdc parse``: several suites per file, inputs, errors, JSON."""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from builder.bench.api import parse_paths, parse_text
from builder.errors import EsdcError
from builder.model.bench import BENCH_SCHEMA

FIXTURES = Path(__file__).parents[2] / "fixtures" / "bench"
OSU_5 = FIXTURES / "osu" / "osu-5.6.3_latency_bw_bibw_noise_constructed.txt"
NCCL = FIXTURES / "nccl" / "nccl-tests-2.13_all_reduce_8gpus_constructed.txt"
PINGPONG = FIXTURES / "mpi4py" / "pingpong_ompi-ucx.txt"
NEST = FIXTURES / "nest" / "run_balanced_nest-3.10_2threads.txt"


def run_esdc(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "builder.cli", *args],
        input=stdin,
        capture_output=True,
        timeout=120,
        check=False,
    )


def test_one_file_holding_every_suite_gives_all_results_in_file_order() -> None:
    text = "\n".join(path.read_text(encoding="utf-8") for path in (PINGPONG, OSU_5, NEST, NCCL))
    results = parse_text(text, "campaign.log")
    assert [r.suite for r in results] == ["mpi4py", "osu", "osu", "osu", "nest", "nccl"]
    lines = [r.source.line for r in results]
    assert lines == sorted(lines)
    assert {r.source.file for r in results} == {"campaign.log"}


def test_unknown_input_names_the_file() -> None:
    with pytest.raises(EsdcError, match="no benchmark output recognised") as error:
        parse_text("Hello, world\n12 34\n", "hello.txt")
    assert str(error.value).startswith("hello.txt: ")


def test_empty_input_is_unknown() -> None:
    with pytest.raises(EsdcError, match="no benchmark output recognised"):
        parse_text("", "empty.txt")


def test_parse_paths_reads_gzip_and_several_files(tmp_path: Path) -> None:
    packed = tmp_path / "pingpong.txt.gz"
    packed.write_bytes(gzip.compress(PINGPONG.read_bytes()))
    report = parse_paths([str(packed), str(OSU_5)])
    assert [r.benchmark for r in report.results] == [
        "pingpong",
        "osu_latency",
        "osu_bw",
        "osu_bibw",
    ]
    assert report.results[0].source.file == str(packed)


def test_parse_paths_replaces_invalid_utf8(tmp_path: Path) -> None:
    dirty = tmp_path / "dirty.txt"
    dirty.write_bytes(b"\xff\xfe garbage from a crashed rank\n" + PINGPONG.read_bytes())
    (result,) = parse_paths([str(dirty)]).results
    assert result.benchmark == "pingpong"


def test_parse_paths_missing_file_is_one_error(tmp_path: Path) -> None:
    with pytest.raises(EsdcError, match="cannot open"):
        parse_paths([str(tmp_path / "nope.txt")])


def test_parse_paths_binary_garbage_is_unknown(tmp_path: Path) -> None:
    blob = tmp_path / "core"
    blob.write_bytes(bytes(range(256)) * 8)
    with pytest.raises(EsdcError, match="no benchmark output recognised"):
        parse_paths([str(blob)])


def test_report_json_has_the_bench_schema_shape() -> None:
    data = parse_paths([str(OSU_5)]).to_json_dict()
    assert list(data) == ["schema", "results"]
    assert data["schema"] == BENCH_SCHEMA
    first = data["results"][0]  # type: ignore[index]
    assert set(first) == {
        "suite",
        "benchmark",
        "version",
        "variant",
        "columns",
        "rows",
        "summary",
        "source",
        "complete",
        "problems",
    }
    assert first["complete"] is True and first["problems"] == []
    assert first["source"] == {"file": str(OSU_5), "line": 2}
    json.dumps(data, allow_nan=False)  # strict JSON: no NaN or Infinity anywhere


def test_cli_parse_json_output() -> None:
    done = run_esdc("parse", "--json", str(NCCL), str(NEST))
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["schema"] == "esdc.bench/1"
    nccl, nest = data["results"]
    assert nccl["benchmark"] == "all_reduce_perf"
    assert nccl["summary"]["avg_busbw"] == 34.1725
    assert nest["suite"] == "nest"


def test_cli_parse_reads_standard_input() -> None:
    done = run_esdc("parse", "--json", "-", stdin=PINGPONG.read_bytes())
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["source"]["file"] == "<stdin>"


def test_cli_parse_unknown_input_is_one_line_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("this is not a benchmark\n")
    done = run_esdc("parse", str(bad))
    assert done.returncode == 2
    message = done.stderr.decode().strip()
    assert len(message.splitlines()) == 1
    assert str(bad) in message and "no benchmark output recognised" in message
    assert b"Traceback" not in done.stderr


def test_cli_parse_keeps_the_rows_of_a_truncated_table(tmp_path: Path) -> None:
    cut = tmp_path / "cut.txt"
    cut.write_text("# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1   0.45\n2\n")
    done = run_esdc("parse", "--json", str(cut))
    assert done.returncode == 0, done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert result["rows"] == [[1, 0.45]]
    assert result["complete"] is False
    assert result["problems"][0]["line"] == 4


def test_parse_text_refuses_a_truncated_table_unless_asked_to_keep_it() -> None:
    cut = "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1   0.45\n2\n"
    with pytest.raises(EsdcError, match="truncated table at line 4") as error:
        parse_text(cut, "cut.txt")
    assert str(error.value).startswith("cut.txt:4: ")
    (result,) = parse_text(cut, "cut.txt", keep_partial=True)
    assert not result.complete


def test_cli_parse_prints_tables_for_people() -> None:
    done = run_esdc("parse", str(OSU_5))
    assert done.returncode == 0, done.stderr
    out = done.stdout.decode()
    assert "osu_latency" in out and "latency_us" in out and "more rows" not in out


def test_ranks_printing_the_same_test_interleaved_are_read_apart() -> None:
    # Constructed: two singleton ranks each running osu_latency under mpirun --tag-output.
    lines = []
    for text in ("# OSU MPI Latency Test v7.2", "# Size  Latency (us)", "1  0.4{}", "2  0.5{}"):
        lines += [f"[1,{rank}]<stdout>:" + text.format(rank) for rank in (0, 1)]
    zero, one = parse_text("\n".join(lines) + "\n", "singletons.txt")
    assert zero.rows == [[1, 0.40], [2, 0.50]] and zero.summary["rank"] == "0"
    assert one.rows == [[1, 0.41], [2, 0.51]] and one.summary["rank"] == "1"
    assert zero.complete and one.complete


def test_a_table_in_unprefixed_lines_is_read_once() -> None:
    text = (
        "[1,0]<stdout>:# note from rank 0\n[1,1]<stdout>:# note from rank 1\n"
        "# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1  0.45\n"
    )
    (result,) = parse_text(text, "mixed.txt")
    assert result.rows == [[1, 0.45]]


def test_cli_parse_damaged_nccl_cell_keeps_the_row_without_a_traceback(tmp_path: Path) -> None:
    text = NCCL.read_text(encoding="utf-8")
    damaged = tmp_path / "damaged.txt"
    damaged.write_text(text.replace(" 34.1725", " 3x.1725").replace("  0.02  ", "  0.0.2  ", 1))
    done = run_esdc("parse", "--json", str(damaged))
    assert done.returncode == 0, done.stderr
    assert b"Traceback" not in done.stderr
    (result,) = json.loads(done.stdout)["results"]
    assert len(result["rows"]) == 25
    assert result["complete"] is False
    assert all(problem["line"] > 0 for problem in result["problems"])


@pytest.mark.parametrize("kind", ["directory", "corrupt-gzip", "binary", "empty"])
def test_cli_parse_bad_inputs_are_one_line_and_exit_2(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "input.gz" if kind == "corrupt-gzip" else tmp_path / "input"
    if kind == "directory":
        path.mkdir()
    elif kind == "corrupt-gzip":
        path.write_bytes(gzip.compress(NCCL.read_bytes())[:200])
    elif kind == "binary":
        path.write_bytes(bytes(range(256)) * 64)
    else:
        path.write_bytes(b"")
    done = run_esdc("parse", str(path))
    assert done.returncode == 2
    message = done.stderr.decode().strip()
    assert len(message.splitlines()) == 1 and str(path) in message
    assert "Traceback" not in message


def test_cli_parse_reads_a_fifo_once(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    process = subprocess.Popen(
        [sys.executable, "-m", "builder.cli", "parse", "--json", str(fifo)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    fifo.write_bytes(PINGPONG.read_bytes())
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    (result,) = json.loads(out)["results"]
    assert result["benchmark"] == "pingpong"


def test_parse_paths_unreadable_file_is_one_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Simulated: this suite may run as root, where chmod 000 does not stop a read.
    locked = tmp_path / "locked.txt"
    locked.write_bytes(PINGPONG.read_bytes())
    real_open = open

    def refuse(file: object, *args: object, **kwargs: object) -> object:
        if Path(str(file)) == locked:
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)  # type: ignore[call-overload]

    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(EsdcError, match="cannot open: Permission denied") as error:
        parse_paths([str(locked)])
    assert str(error.value).startswith(str(locked))


def test_a_parser_bug_is_one_error_naming_the_file_and_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from builder.bench import osu

    def broken(self: object, tokens: list[str], line: object, run: object = None) -> None:
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(osu._Parser, "on_row", broken)
    with pytest.raises(EsdcError, match="ZeroDivisionError: simulated bug") as error:
        parse_text("# OSU MPI Latency Test v7.2\n# Size  Latency (us)\n1  0.45\n", "bug.txt")
    assert str(error.value).startswith("bug.txt:3: ")
