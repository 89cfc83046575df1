"""Site profiles built in code for the launcher and campaign tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from builder.model.site import SiteProfile


def make_site(**overrides: Any) -> SiteProfile:
    """A small valid site profile; ``overrides`` replace top-level fields."""
    data: dict[str, Any] = {
        "name": "testsite",
        "scheduler": "local",
        "launcher": "mpirun",
        "pmix": {"version": "4.2.2"},
        "fabric": {"kind": "tcp", "inter_node": ["tcp"], "intra_node": ["shm"]},
        "runtime": {"kind": "charliecloud"},
        "environment": {"OMPI_MCA_pml_ucx_tls": "any", "OMPI_MCA_pml_ucx_devices": "any"},
        "debug_environment": {"UCX_LOG_LEVEL": "info"},
        "sources": ["test"],
    }
    data.update(overrides)
    return SiteProfile.model_validate(data)


@pytest.fixture
def local_site() -> SiteProfile:
    return make_site()


@pytest.fixture
def site_factory() -> Callable[..., SiteProfile]:
    """Build site profiles with some fields replaced."""
    return make_site
