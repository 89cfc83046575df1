"""Inline SVG plots: deterministic text, log axes, escaping, and no external references."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from builder.report.svg import Bar, Point, Series, bar_chart, line_plot, tick_label

SVG_NS = "{http://www.w3.org/2000/svg}"


def series() -> list[Series]:
    bare = Series(
        name="bare",
        points=[Point(x=2.0**i, y=0.5 * (1 + i), low=0.4, high=0.7 * (1 + i)) for i in range(10)],
    )
    container = Series(
        name="container", points=[Point(x=2.0**i, y=9.0 * (1 + i)) for i in range(10)]
    )
    return [bare, container]


def test_line_plot_is_valid_svg_with_both_series_points_legend_and_labels() -> None:
    svg = line_plot(
        series(), title="latency <8B & up>", x_label="message size (bytes)", y_label="latency (us)"
    )
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG_NS}svg"
    polylines = root.findall(f".//{SVG_NS}polyline")
    assert [p.get("class") for p in polylines] == ["series bare", "series container"]
    assert all(len(p.get("points", "").split()) == 10 for p in polylines)
    assert len(root.findall(f".//{SVG_NS}circle")) == 20
    texts = "".join(root.itertext())
    assert (
        "latency <8B & up>" in texts and "message size (bytes)" in texts and "latency (us)" in texts
    )
    assert "bare" in texts and "container" in texts
    assert "http" not in svg.replace('xmlns="http://www.w3.org/2000/svg"', "")


def test_log_axis_orders_points_left_to_right_and_bottom_up() -> None:
    root = ET.fromstring(line_plot(series()[:1], title="t", x_label="x", y_label="y"))
    points = [
        tuple(map(float, p.split(",")))
        for p in root.find(f".//{SVG_NS}polyline").get("points", "").split()
    ]  # type: ignore[union-attr]
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    assert xs == sorted(xs) and ys == sorted(ys, reverse=True)  # SVG y grows downwards
    # equal ratios are equal distances on a log axis
    assert abs((xs[2] - xs[1]) - (xs[1] - xs[0])) < 0.2


def test_same_data_same_bytes() -> None:
    assert line_plot(series(), title="t", x_label="x", y_label="y") == line_plot(
        series(), title="t", x_label="x", y_label="y"
    )


def test_non_positive_values_are_left_out_of_a_log_plot_and_empty_data_says_so() -> None:
    svg = line_plot(
        [Series(name="bare", points=[Point(x=0, y=1), Point(x=1, y=-1)])],
        title="t",
        x_label="x",
        y_label="y",
    )
    assert "no data" in svg
    ET.fromstring(svg)


def test_bar_chart_has_a_bar_per_mode_and_timer() -> None:
    bars = [
        Bar(label="sim_time", values={"bare": 12.0, "container": 12.5}),
        Bar(label="presim", values={"bare": 0.5}),
    ]
    root = ET.fromstring(
        bar_chart(bars, ["bare", "container"], title="NEST timers", y_label="time (s)")
    )
    rects = [r for r in root.findall(f".//{SVG_NS}rect") if "bar" in (r.get("class") or "")]
    assert len(rects) == 3
    heights = {r.get("class"): float(r.get("height", "0")) for r in rects[:2]}
    assert heights["bar container"] > heights["bar bare"]


def test_tick_labels() -> None:
    assert [tick_label(v) for v in (1, 100, 1000, 1e6, 0.001)] == ["1", "100", "1k", "1M", "0.001"]
    assert re.fullmatch(r"1e-0?6", tick_label(1e-6))


def test_linear_ticks_are_round_numbers() -> None:
    bars = [Bar(label="sim_time", values={"bare": 0.62, "container": 1.04})]
    svg = bar_chart(bars, ["bare", "container"], title="t", y_label="s")
    labels = re.findall(r'text-anchor="end">([^<]+)</text>', svg)
    assert labels == ["0", "0.5", "1", "1.5"]
