"""Where ``esdc validate`` puts the validation image's definition and image, per runtime."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from builder.model.site import SiteProfile
from builder.run.validate import definition_format, definition_path, image_path


def test_charliecloud_sites_build_a_dockerfile_into_a_directory(local_site: SiteProfile) -> None:
    assert definition_format(local_site) == "dockerfile"
    root = Path("/runs")
    definition = definition_path(root, "mpi-base", local_site)
    assert definition == root / ".images/mpi-base@testsite/context/Dockerfile"
    assert image_path(root, "mpi-base", local_site) == root / ".images/mpi-base@testsite/image"
    # The build context holds the definition only, never the image it produces.
    assert image_path(root, "mpi-base", local_site).parent != definition.parent


def test_apptainer_sites_build_a_definition_into_a_sif(
    site_factory: Callable[..., SiteProfile],
) -> None:
    site = site_factory(runtime={"kind": "apptainer"})
    assert definition_format(site) == "apptainer"
    assert definition_path(Path("/r"), "e", site).name == "e@testsite.def"
    assert image_path(Path("/r"), "e", site).name == "image.sif"


def test_wheels_are_fetched_with_the_host_pip_without_dependencies(tmp_path: Path) -> None:
    import sys

    from builder.build.wheels import wheel_download_argv

    argv = wheel_download_argv(["nest-simulator==3.10.0"], tmp_path)
    assert argv[:4] == [sys.executable, "-m", "pip", "download"]
    assert "--no-deps" in argv and "--only-binary=:all:" in argv
    assert argv[-3:] == ["--dest", str(tmp_path), "nest-simulator==3.10.0"]
