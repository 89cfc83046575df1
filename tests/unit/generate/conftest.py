"""Shared helpers of the generate tests: environments built in memory from spec strings."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from builder.model.env import EnvMeta, EnvSpec
from builder.profiles import parse_spec

MakeEnv = Callable[..., EnvSpec]


def constructed_env(
    specs: list[str], requirements: dict[str, list[str]] | None = None, **meta: object
) -> EnvSpec:
    """An environment named 'constructed' with these root specs, requirements and esdc.yaml."""
    return EnvSpec(
        name="constructed",
        folder=Path("/nonexistent"),
        manifest={"specs": specs},
        specs=[parse_spec(spec) for spec in specs],
        requirements=requirements or {},
        meta=EnvMeta.model_validate(meta),
    )


@pytest.fixture
def make_env() -> MakeEnv:
    """:func:`constructed_env`, as a fixture."""
    return constructed_env
