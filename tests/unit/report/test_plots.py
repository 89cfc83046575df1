"""Which plots a run gets: sized benchmarks against size, NEST wall-clock timers as bars."""

from __future__ import annotations

from builder.model.bench import BenchResult, SourceRef
from builder.model.run import CampaignManifest
from builder.report.plots import is_wall_timer, size_figures, timer_figures
from builder.verify.collect import RepOutput, RunData

SRC = SourceRef(file="stdout", line=1)


def run(results: list[BenchResult]) -> RunData:
    manifest = CampaignManifest(
        id="r", site="local", image="i", suites=["s"], reps=1, created="t", toolkit_version="0"
    )
    outputs = [
        RepOutput(mode=mode, suite="s", rep="0", source="x", results=results)  # type: ignore[arg-type]
        for mode in ("bare", "container")
    ]
    return RunData(manifest=manifest, outputs=outputs)


def test_wall_timers_only() -> None:
    assert (
        is_wall_timer("sim_time")
        and is_wall_timer("py_time_simulate")
        and is_wall_timer("time_simulate")
    )
    assert not is_wall_timer("biological_time") and not is_wall_timer("time_simulate_cpu")
    assert not is_wall_timer("num_processes")


def test_nest_timers_become_bars_without_simulated_time() -> None:
    nest = BenchResult(
        suite="nest",
        benchmark="hpc_benchmark",
        columns=["rank", "sim_time"],
        rows=[[0, 1.0]],
        summary={"sim_time": 1.0, "biological_time": 250.0, "time_simulate": [0.9, 1.1]},
        source=SRC,
    )
    figures = timer_figures(run([nest]))
    assert len(figures) == 1 and not size_figures(run([nest]))
    svg = figures[0].svg
    assert "biological_time" not in svg and "sim_time" in svg and "time_simulate" in svg
    assert svg.count('class="bar bare"') == 2 and svg.count('class="bar container"') == 2
    assert 'class="bar-label"' in svg and "rotate(-35)" in svg


def test_mpi4py_gets_bandwidth_and_time_plots() -> None:
    pingpong = BenchResult(
        suite="mpi4py",
        benchmark="pingpong",
        columns=["size", "bandwidth_MBps", "time_mean_s", "time_std_s", "samples"],
        rows=[[1, 0.5, 2e-6, 1e-7, 100], [1024, 400.0, 2.5e-6, 1e-7, 100]],
        source=SRC,
    )
    titles = [f.title for f in size_figures(run([pingpong]))]
    assert titles == ["mpi4py pingpong: bandwidth (MB/s)", "mpi4py pingpong: time per message (s)"]
