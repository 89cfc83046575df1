"""Inline SVG plots rendered as text (pure and deterministic: same data, same bytes).

No plotting library and no script: the report must open anywhere, offline, and diff cleanly.
Coordinates are rounded to one decimal. Every data point is a ``<circle class="point">`` and every
series a ``<polyline class="series ...">`` so that tests (and people with dev tools) can find them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from html import escape

from pydantic import BaseModel, Field

WIDTH, HEIGHT = 640, 360
LEFT, RIGHT, TOP, BOTTOM = 78, 150, 34, 52
#: Extra bottom margin of bar charts, for slanted group labels.
LABEL_ROOM = 110
#: One colour per mode; colour-blind safe (blue / orange), with distinct markers as well.
COLOURS = {"bare": "#0072b2", "container": "#e69f00"}
FALLBACK_COLOURS = ("#009e73", "#cc79a7", "#56b4e9", "#d55e00")


class Point(BaseModel):
    """A median with its range over the repetitions."""

    x: float
    y: float
    low: float | None = None
    high: float | None = None


class Series(BaseModel):
    """One line of a plot (one mode)."""

    name: str
    points: list[Point] = Field(default_factory=list)


class Bar(BaseModel):
    """One bar group entry: a label and a value per series name."""

    label: str
    values: dict[str, float]


def _colour(name: str, index: int) -> str:
    return COLOURS.get(name, FALLBACK_COLOURS[index % len(FALLBACK_COLOURS)])


def _fmt(value: float) -> str:
    return f"{value:.1f}"


def tick_label(value: float) -> str:
    """Short tick label: ``1``, ``100``, ``10k``, ``1M``, ``1e-06``."""
    for factor, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if value >= factor and (value / factor).is_integer():
            return f"{int(value / factor)}{suffix}"
    if value >= 1 and float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


def _log_range(values: list[float]) -> tuple[float, float]:
    low = math.floor(math.log10(min(values)))
    high = math.ceil(math.log10(max(values)))
    return float(low), float(high if high > low else low + 1)


def nice_step(span: float) -> float:
    """A tick step of 1, 2 or 5 times a power of ten giving about five ticks over ``span``."""
    raw = span / 5
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _lin_range(values: list[float]) -> tuple[float, float]:
    high = max(values)
    if high <= 0:
        return 0.0, 1.0
    step = nice_step(high)
    return 0.0, math.ceil(high / step) * step


def _frame(
    title: str,
    x_label: str,
    y_label: str,
    css_class: str,
    *,
    height: int = HEIGHT,
    bottom: int = BOTTOM,
) -> list[str]:
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - bottom
    return [
        f'<svg class="{css_class}" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
        f'<rect class="frame" x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" '
        'fill="none" stroke="#444"/>',
        f'<text class="plot-title" x="{LEFT}" y="20" font-size="14" font-weight="bold">'
        f"{escape(title)}</text>",
        f'<text class="x-label" x="{LEFT + plot_w / 2:.1f}" y="{height - 10}" font-size="12" '
        f'text-anchor="middle">{escape(x_label)}</text>',
        f'<text class="y-label" transform="translate(16 {TOP + plot_h / 2:.1f}) rotate(-90)" '
        f'font-size="12" text-anchor="middle">{escape(y_label)}</text>',
    ]


def _legend(names: list[str]) -> list[str]:
    parts = ['<g class="legend">']
    x = WIDTH - RIGHT + 14
    for index, name in enumerate(names):
        y = TOP + 14 + index * 20
        colour = _colour(name, index)
        parts.append(
            f'<line x1="{x}" y1="{y}" x2="{x + 22}" y2="{y}" stroke="{colour}" stroke-width="2"/>'
            f'<text x="{x + 28}" y="{y + 4}" font-size="12">{escape(name)}</text>'
        )
    parts.append("</g>")
    return parts


def line_plot(
    series: list[Series],
    *,
    title: str,
    x_label: str,
    y_label: str,
    log_x: bool = True,
    log_y: bool = True,
    band: tuple[float | None, float | None] | None = None,
    css_class: str = "plot line-plot",
) -> str:
    """A line plot of several series with min..max whiskers, log-log by default.

    Non-positive values cannot sit on a log axis and are left out of the plot (not of the data).
    ``band`` shades the allowed y interval (``None`` on a side: open to the plot's edge).
    """

    def usable(p: Point) -> bool:
        return (not log_x or p.x > 0) and (not log_y or p.y > 0)

    kept = [Series(name=s.name, points=[p for p in s.points if usable(p)]) for s in series]
    xs = [p.x for s in kept for p in s.points]
    ys = [
        v
        for s in kept
        for p in s.points
        for v in (p.y, p.low, p.high)
        if v is not None and (not log_y or v > 0)
    ]
    band_edges = [v for v in band or () if v is not None and (not log_y or v > 0)]
    ys += band_edges
    parts = _frame(title, x_label, y_label, css_class)
    if not xs:
        parts.append(f'<text x="{LEFT + 10}" y="{TOP + 24}" font-size="12">no data</text></svg>')
        return "\n".join(parts)
    x_lo, x_hi = _log_range(xs) if log_x else _lin_range(xs)
    y_lo, y_hi = _log_range(ys) if log_y else _lin_range(ys)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(value: float) -> float:
        pos = math.log10(value) if log_x else value
        return LEFT + (pos - x_lo) / (x_hi - x_lo) * plot_w

    def sy(value: float) -> float:
        pos = math.log10(value) if log_y else value
        return TOP + plot_h - (pos - y_lo) / (y_hi - y_lo) * plot_h

    parts.extend(_ticks(x_lo, x_hi, log_x, sx, axis="x"))
    parts.extend(_ticks(y_lo, y_hi, log_y, sy, axis="y"))
    if band is not None and band_edges:
        low, high = band
        top = TOP if high is None else sy(high)
        bottom = TOP + plot_h if low is None or (log_y and low <= 0) else sy(low)
        parts.append(
            f'<rect class="allowed-band" x="{LEFT}" y="{_fmt(top)}" width="{plot_w}" '
            f'height="{_fmt(max(0.0, bottom - top))}" fill="#2e7d32" fill-opacity="0.12">'
            "<title>allowed by the thresholds</title></rect>"
        )
    for index, line in enumerate(kept):
        colour = _colour(line.name, index)
        cls = escape(line.name.replace(" ", "-"))
        coords = " ".join(f"{_fmt(sx(p.x))},{_fmt(sy(p.y))}" for p in line.points)
        parts.append(f'<g class="series-group {cls}">')
        parts.append(
            f'<polyline class="series {cls}" points="{coords}" fill="none" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        for p in line.points:
            if p.low is not None and p.high is not None and (not log_y or p.low > 0):
                parts.append(
                    f'<line class="whisker" x1="{_fmt(sx(p.x))}" y1="{_fmt(sy(p.low))}" '
                    f'x2="{_fmt(sx(p.x))}" y2="{_fmt(sy(p.high))}" stroke="{colour}"/>'
                )
            # Filled markers for the first series, hollow for the next: readable in grey print.
            fill = f'fill="{colour}"' if index % 2 == 0 else f'fill="white" stroke="{colour}"'
            cx, cy = _fmt(sx(p.x)), _fmt(sy(p.y))
            shape = f'<circle class="point" cx="{cx}" cy="{cy}" r="3" {fill}>'
            parts.append(
                f"{shape}<title>{escape(line.name)}: {tick_label(p.x)} → {p.y:.4g}</title></circle>"
            )
        parts.append("</g>")
    parts.extend(_legend([s.name for s in kept]))
    parts.append("</svg>")
    return "\n".join(parts)


def _ticks(
    lo: float, hi: float, log: bool, scale: Callable[[float], float], *, axis: str
) -> list[str]:
    if log:
        decades = max(1, math.ceil((hi - lo) / 8))
        values = [10.0**e for e in range(int(lo), int(hi) + 1, decades)]
    else:
        step = nice_step(hi - lo)
        values = [lo + step * i for i in range(round((hi - lo) / step) + 1)]
    parts = []
    for value in values:
        pos = scale(value)
        if axis == "x":
            parts.append(
                f'<line class="tick" x1="{_fmt(pos)}" y1="{HEIGHT - BOTTOM}" x2="{_fmt(pos)}" '
                f'y2="{HEIGHT - BOTTOM + 5}" stroke="#444"/>'
                f'<text x="{_fmt(pos)}" y="{HEIGHT - BOTTOM + 18}" font-size="11" '
                f'text-anchor="middle">{tick_label(value)}</text>'
            )
        else:
            parts.append(
                f'<line class="grid" x1="{LEFT}" y1="{_fmt(pos)}" x2="{WIDTH - RIGHT}" '
                f'y2="{_fmt(pos)}" '
                'stroke="#ddd"/>'
                f'<text x="{LEFT - 6}" y="{_fmt(pos + 4)}" font-size="11" text-anchor="end">'
                f"{tick_label(value)}</text>"
            )
    return parts


def bar_chart(bars: list[Bar], series_names: list[str], *, title: str, y_label: str) -> str:
    """Grouped bars: one group per label, one bar per series (linear axis from zero)."""
    # Timer names are long: they stand slanted under their group, in a taller bottom margin.
    bottom = BOTTOM + LABEL_ROOM
    height = HEIGHT + LABEL_ROOM
    parts = _frame(title, "", y_label, "plot bar-chart", height=height, bottom=bottom)
    values = [v for bar in bars for v in bar.values.values()]
    if not values:
        parts.append(f'<text x="{LEFT + 10}" y="{TOP + 24}" font-size="12">no data</text></svg>')
        return "\n".join(parts)
    _, y_hi = _lin_range(values)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, height - TOP - bottom

    def sy(value: float) -> float:
        return TOP + plot_h - value / y_hi * plot_h

    parts.extend(_ticks(0.0, y_hi, False, sy, axis="y"))
    group_w = plot_w / len(bars)
    bar_w = group_w * 0.8 / max(1, len(series_names))
    for g, bar in enumerate(bars):
        x0 = LEFT + g * group_w + group_w * 0.1
        for s, name in enumerate(series_names):
            if name not in bar.values:
                continue
            value = bar.values[name]
            x = x0 + s * bar_w
            parts.append(
                f'<rect class="bar {escape(name)}" x="{_fmt(x)}" y="{_fmt(sy(value))}" '
                f'width="{_fmt(bar_w)}" '
                f'height="{_fmt(TOP + plot_h - sy(value))}" fill="{_colour(name, s)}">'
                f"<title>{escape(name)} {escape(bar.label)}: {value:.4g}</title></rect>"
            )
        parts.append(
            f'<text class="bar-label" font-size="10" text-anchor="end" '
            f'transform="translate({_fmt(x0 + group_w * 0.4)} {height - bottom + 12}) rotate(-35)">'
            f"{escape(bar.label)}</text>"
        )
    parts.extend(_legend(series_names))
    parts.append("</svg>")
    return "\n".join(parts)
