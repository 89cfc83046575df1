"""Thresholds files: the model, site overrides, and one clear error for a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from builder.errors import EsdcError
from builder.verify.thresholds import (
    default_thresholds_dir,
    load_thresholds,
    parse_thresholds,
    resolve_for_site,
)

SOURCE = Path("benchmarks/osu/thresholds.yaml")
TEXT = """
suite: osu
checks:
  osu_latency: {metric: latency_us, at_size: 8, reference: 1.0, lower: null, upper: 0.05}
  osu_bw: {metric: bandwidth_MBps, at_size: 4194304, lower: -0.03}
sites:
  local:
    min_reps: 5
    checks:
      osu_latency: {upper: 0.25}
"""


def test_the_shipped_files_load_for_every_suite_and_site() -> None:
    for suite in ("osu", "nccl", "nest", "mpi4py"):
        thresholds = load_thresholds(suite)
        assert thresholds is not None and thresholds.suite == suite
        for site in ("local", "jureca-dc"):
            assert resolve_for_site(thresholds, site).checks


def test_a_suite_without_a_file_has_no_thresholds(tmp_path: Path) -> None:
    assert load_thresholds("pingpong", tmp_path) is None
    assert (default_thresholds_dir() / "osu" / "thresholds.yaml").is_file()


def test_direction_is_inferred_from_the_open_bound() -> None:
    thresholds = parse_thresholds(TEXT, SOURCE)
    assert thresholds.checks["osu_latency"].direction == "lower"
    assert thresholds.checks["osu_bw"].direction == "higher"
    assert thresholds.checks["osu_bw"].bounds().ratio_range() == (pytest.approx(0.97), None)


def test_site_override_changes_only_what_it_names() -> None:
    thresholds = parse_thresholds(TEXT, SOURCE)
    local = resolve_for_site(thresholds, "local")
    assert local.min_reps == 5
    assert local.checks["osu_latency"].upper == 0.25
    assert local.checks["osu_latency"].at_size == 8
    assert local.checks["osu_bw"] == thresholds.checks["osu_bw"]
    elsewhere = resolve_for_site(thresholds, "jusuf")
    assert elsewhere.min_reps == 3 and elsewhere.checks["osu_latency"].upper == 0.05


def test_explicit_null_in_an_override_opens_the_bound_and_keeps_the_direction() -> None:
    text = TEXT.replace("osu_latency: {upper: 0.25}", "osu_bw: {lower: null, upper: 0.5}")
    check = resolve_for_site(parse_thresholds(text, SOURCE), "local").checks["osu_bw"]
    assert check.lower is None and check.upper == 0.5
    assert check.direction == "higher"


def test_an_override_that_breaks_a_check_is_one_error() -> None:
    text = TEXT.replace("osu_latency: {upper: 0.25}", "osu_latency: {lower: 0.5}")
    with pytest.raises(EsdcError, match=r"sites\.local\.checks\.osu_latency"):
        resolve_for_site(parse_thresholds(text, SOURCE), "local")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("suite: osu\nchecks: {a: {metric: x, upper: 0.1}\n", "not valid YAML"),
        ("- just a list\n", "expected a mapping"),
        ("suite: osu\nchecks: {a: {metric: x}}\n", "checks.a"),
        ("suite: osu\nchecks: {a: {metric: x, upper: 0.1, colour: red}}\n", "checks.a.colour"),
        (
            "suite: osu\nchecks: {a: {metric: x, upper: 0.1}}\n"
            "sites: {local: {checks: {b: {upper: 1}}}}\n",
            "unknown check",
        ),
        ("suite: osu\nchecks: {a: {metric: x, lower: 0.1, upper: -0.1, better: lower}}\n", "above"),
    ],
)
def test_a_broken_file_is_one_error_naming_it(text: str, expected: str) -> None:
    with pytest.raises(EsdcError) as caught:
        parse_thresholds(text, SOURCE)
    message = str(caught.value)
    assert message.startswith(str(SOURCE))
    assert expected in message
    assert "\n" not in message


def test_a_yaml_error_names_the_line() -> None:
    with pytest.raises(EsdcError) as caught:
        parse_thresholds("suite: osu\nchecks:\n  a: [unclosed\n", SOURCE)
    assert caught.value.line is not None


def test_folder_and_suite_must_agree(tmp_path: Path) -> None:
    (tmp_path / "osu").mkdir()
    (tmp_path / "osu" / "thresholds.yaml").write_text(
        "suite: nccl\nchecks: {a: {metric: x, upper: 0.1}}\n"
    )
    with pytest.raises(EsdcError, match="folder says"):
        load_thresholds("osu", tmp_path)


def test_estimator_defaults_to_median_and_a_site_may_choose_best() -> None:
    text = TEXT.replace("    min_reps: 5\n", "    min_reps: 5\n    estimator: best\n")
    thresholds = parse_thresholds(text, SOURCE)
    assert resolve_for_site(thresholds, "jusuf").estimator == "median"
    assert resolve_for_site(thresholds, "local").estimator == "best"
    shipped = load_thresholds("mpi4py")
    assert shipped is not None and resolve_for_site(shipped, "local").estimator == "best"


def test_a_thresholds_file_that_is_not_utf8_is_one_error(tmp_path: Path) -> None:
    from builder.verify.thresholds import load_thresholds

    (tmp_path / "osu").mkdir()
    (tmp_path / "osu" / "thresholds.yaml").write_bytes(b"suite: osu\n\xf7\xff")
    with pytest.raises(EsdcError, match="not UTF-8"):
        load_thresholds("osu", tmp_path)


def test_a_wrong_type_in_thresholds_names_the_line(tmp_path: Path) -> None:
    from builder.verify.thresholds import load_thresholds

    (tmp_path / "osu").mkdir()
    (tmp_path / "osu" / "thresholds.yaml").write_text("suite: osu\nmin_reps: four\nchecks: {}\n")
    with pytest.raises(EsdcError, match=r"thresholds\.yaml:2: invalid thresholds at min_reps"):
        load_thresholds("osu", tmp_path)


def test_a_site_may_keep_its_thresholds_outside_the_source_tree(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from builder.verify.thresholds import default_thresholds_dir

    monkeypatch.setenv("ESDC_THRESHOLDS_DIR", str(tmp_path))
    assert default_thresholds_dir() == tmp_path
    monkeypatch.delenv("ESDC_THRESHOLDS_DIR")
    assert (default_thresholds_dir() / "mpi4py" / "thresholds.yaml").is_file()
