"""``esdc report RUN_DIR``: the HTML page and the CSV of all numbers."""

from __future__ import annotations

from pathlib import Path

from builder.fsio import atomic_write_text
from builder.report.html import render_html
from builder.report.tables import render_csv
from builder.verify.api import evaluate_run_dir

CSV_FILE = "results.csv"
HTML_FILE = "report.html"


def write_report(run_dir: Path, *, html: Path | None) -> list[Path]:
    """Judge the run directory and write the report page and ``results.csv``.

    Parameters
    ----------
    run_dir
        A campaign's run directory.
    html
        Where the page goes; default ``RUN_DIR/report.html``. ``results.csv`` always goes into
        the run directory.

    Returns
    -------
    list[Path]
        The files written, page first.
    """
    data, verdict = evaluate_run_dir(run_dir)
    html_path = html if html is not None else run_dir / HTML_FILE
    csv_path = run_dir / CSV_FILE
    csv_name = (
        str(csv_path.resolve()) if html_path.parent.resolve() != run_dir.resolve() else CSV_FILE
    )
    atomic_write_text(csv_path, render_csv(data))
    atomic_write_text(html_path, render_html(verdict, data, csv_name=csv_name))
    return [html_path, csv_path]
