"""Speed of rendering the whole env x site matrix (goal: under 1 s); a benchmark, not a gate."""

from __future__ import annotations

import pytest
from pytest_benchmark.fixture import BenchmarkFixture

from builder.generate.api import generate_definition
from builder.profiles import list_envs, list_sites


def _render_matrix() -> int:
    count = 0
    for env in list_envs():
        for site in list_sites():
            for fmt in ("apptainer", "dockerfile"):
                generate_definition(env, site, lock=None, fmt=fmt, force=True)
                count += 1
    return count


@pytest.mark.perf
def test_render_matrix(benchmark: BenchmarkFixture) -> None:
    count = benchmark(_render_matrix)
    assert count == 2 * len(list_envs()) * len(list_sites())
