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
    assert titles == [
        "s pingpong: bandwidth (MB/s), median of repetitions",
        "s pingpong: time per message (us), median of repetitions",
    ]


def test_plots_show_the_estimator_of_the_thresholds_and_the_ratio_with_its_band() -> None:
    from builder.model.verdict import Bounds, MetricVerdict, Spread, Verdict

    def rep(mode: str, rep: str, time_8: float) -> RepOutput:
        result = BenchResult(
            suite="pingpong",
            benchmark="pingpong",
            columns=["size", "half_rtt_us", "bw_MBps", "iters"],
            rows=[[8, time_8, 8 / time_8, 1000], [1024, 2 * time_8, 512 / time_8, 1000]],
            source=SRC,
        )
        return RepOutput(mode=mode, suite="pingpong_inter", rep=rep, source="x", results=[result])  # type: ignore[arg-type]

    data = run([])
    data.outputs = [rep("bare", "0", 10.0), rep("bare", "1", 30.0), rep("container", "0", 11.0)]
    metric = MetricVerdict(
        suite="pingpong_inter", check="lat", benchmark="pingpong", metric="half_rtt_us",
        at_size=8, better="lower", bare=Spread(n=2), container=Spread(n=1), estimator="best",
        bounds=Bounds(upper=0.5), status="pass",
    )  # fmt: skip
    verdict = Verdict(run_id="r", verdict="pass", reason="", image="i", site="local", min_reps=1,
                      metrics=[metric])  # fmt: skip
    figures = {f.anchor: f for f in size_figures(data, verdict)}
    latency = figures["plot-pingpong_inter-pingpong-half_rtt_us"]
    assert latency.title == "pingpong_inter pingpong: half round trip (us), best repetition"
    # Best repetition of bare metal at 8 B is 10 us (not the median 20): the point's tooltip.
    assert "bare: 8 → 10</title>" in latency.svg
    ratio = figures["ratio-pingpong_inter-pingpong-half_rtt_us"]
    assert "container / bare metal" in ratio.title
    assert 'class="allowed-band"' in ratio.svg and "ratio: 8 → 1.1</title>" in ratio.svg
