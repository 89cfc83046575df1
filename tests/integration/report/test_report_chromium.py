"""The report opened in a real headless Chromium: the SVG plots are in the rendered DOM and paint.

Chromium is a Debian package (``apt-get install chromium``) that the setup script installs; the
test is skipped, saying so, only where it is absent.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from builder.report.api import write_report

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "runs"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(
        CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)"
    ),
]


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM is not None
    return subprocess.run(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run_dir = tmp_path_factory.mktemp("run") / "fail-cm-ofi"
    shutil.copytree(FIXTURES / "fail-cm-ofi", run_dir)
    html, csv_path = write_report(run_dir, html=None)
    assert csv_path.is_file()
    return html


def test_rendered_dom_holds_the_plots_with_their_points(report: Path, tmp_path: Path) -> None:
    shown = _chromium(["--dump-dom", report.as_uri()], tmp_path / "profile")
    assert shown.returncode == 0, shown.stderr[-2000:]
    dom = shown.stdout
    assert 'class="verdict fail"' in dom
    # the verdict and the first failing finding come before any plot
    assert dom.index('id="first-failure"') < dom.index("<svg")
    assert "PML_FALLBACK" in dom[dom.index('id="first-failure"') :][:600]
    plots = re.findall(r'<svg class="plot line-plot".*?</svg>', dom, flags=re.S)
    assert len(plots) >= 3  # osu latency, osu bandwidth, mpi4py bandwidth and time
    for plot in plots:
        assert plot.count('<polyline class="series bare"') == 1
        assert plot.count('<polyline class="series container"') == 1
        assert plot.count('class="point"') >= 20
        assert "message size (bytes)" in plot
    # Each checked figure's container/bare-metal ratio, with the thresholds' allowed band.
    ratios = re.findall(r'<svg class="plot ratio-plot".*?</svg>', dom, flags=re.S)
    assert ratios and all('class="allowed-band"' in r for r in ratios)
    assert all('<polyline class="series ratio"' in r for r in ratios)
    # Both sides' versions, as each side's tools printed them.
    versions = dom[dom.index('id="versions"') :]
    versions = versions[: versions.index("</section>")]
    assert "bare metal (host copy)" in versions and "container (image copy)" in versions
    assert versions.count("Open MPI") >= 2


def test_screenshot_shows_the_plots_painted(report: Path, tmp_path: Path) -> None:
    png = tmp_path / "report.png"
    shown = _chromium(
        [f"--screenshot={png}", "--window-size=1280,4000", "--hide-scrollbars", report.as_uri()],
        tmp_path / "profile",
    )
    assert shown.returncode == 0, shown.stderr[-2000:]
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert (width, height) == (1280, 4000)
    # Both series colours must be painted somewhere: decode the PNG and look for them.
    colours = _colours(png)
    assert (0x00, 0x72, 0xB2) in colours  # bare metal (blue)
    assert (0xE6, 0x9F, 0x00) in colours  # container (orange)


def _colours(png: Path) -> set[tuple[int, int, int]]:
    """The RGB colours of a PNG (8-bit RGB or RGBA, non-interlaced: what Chromium writes)."""
    import struct
    import zlib

    data = png.read_bytes()
    pos, chunks, header = 8, [], b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        body = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    width, height, depth, colour_type = struct.unpack(">IIBB", header[:10])
    assert depth == 8 and colour_type in (2, 6)
    channels = 3 if colour_type == 2 else 4
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    previous = bytearray(stride)
    seen: set[tuple[int, int, int]] = set()
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else up_left
                line[i] = (line[i] + pred) & 0xFF
        seen.update(tuple(line[i : i + 3]) for i in range(0, stride, channels))  # type: ignore[misc]
        previous = line
    return seen
