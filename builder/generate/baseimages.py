"""Which Spack build image and package manager go with a site's base OS.

The build stage must use the same distribution as the final stage: binaries built against a
newer glibc do not run on an older one.
"""

from __future__ import annotations

from dataclasses import dataclass

from builder.errors import EsdcError
from builder.model.image import PackageManager


@dataclass(frozen=True)
class BaseOs:
    """One row: how a base OS installs packages and which Spack build image goes with it."""

    manager: PackageManager
    build_repository: str | None  # Spack's published build image, None where there is none
    spack_os: str  # Spack's name of the OS, as a spack.lock records it in arch.platform_os
    compiler: str  # the system compiler of that OS (what Spack finds in its build image)


# One row per base OS a site may name; add a distribution here and nowhere else.
_KNOWN: dict[str, BaseOs] = {
    "rockylinux:8": BaseOs("dnf", "spack/rockylinux8", "rocky8", "gcc@8.5.0"),
    "rockylinux:9": BaseOs("dnf", "spack/rockylinux9", "rocky9", "gcc@11.4.1"),
    "almalinux:8": BaseOs("dnf", "spack/almalinux8", "almalinux8", "gcc@8.5.0"),
    "almalinux:9": BaseOs("dnf", "spack/almalinux9", "almalinux9", "gcc@11.4.1"),
    "ubuntu:20.04": BaseOs("apt", "spack/ubuntu-focal", "ubuntu20.04", "gcc@9.4.0"),
    "ubuntu:22.04": BaseOs("apt", "spack/ubuntu-jammy", "ubuntu22.04", "gcc@11.4.0"),
    "ubuntu:24.04": BaseOs("apt", "spack/ubuntu-noble", "ubuntu24.04", "gcc@13.2.0"),
    # Spack publishes no Debian 12 build image; Debian bases are used for OS-package images.
    "debian:12": BaseOs("apt", None, "debian12", "gcc@12.2.0"),
}


def known_bases() -> list[str]:
    """The base OS images the generator knows, sorted."""
    return sorted(_KNOWN)


def package_manager(os_base: str, site: str) -> PackageManager:
    """apt or dnf for ``os_base``; unknown bases are an error naming the site."""
    if os_base not in _KNOWN:
        raise EsdcError(
            f"site {site}: os_base {os_base!r} is not supported; known: {', '.join(known_bases())}"
        )
    return _KNOWN[os_base].manager


def spack_os(os_base: str, site: str) -> str:
    """Spack's name of ``os_base`` (``rockylinux:8`` -> ``rocky8``), as locks record it."""
    package_manager(os_base, site)
    return _KNOWN[os_base].spack_os


def build_compiler(os_base: str, site: str) -> str:
    """The compiler of ``os_base``'s build image (``rockylinux:9`` -> ``gcc@11.4.1``)."""
    package_manager(os_base, site)
    return _KNOWN[os_base].compiler


def spack_build_image(os_base: str, spack_version: str, site: str) -> str:
    """The ``spack/<distro>:v<version>`` image whose OS matches ``os_base``."""
    package_manager(os_base, site)
    repository = _KNOWN[os_base].build_repository
    if repository is None:
        usable = ", ".join(base for base in known_bases() if _KNOWN[base].build_repository)
        raise EsdcError(
            f"site {site}: Spack publishes no build image for {os_base!r}; "
            f"use one of {usable} as os_base, or software: os_packages"
        )
    version = spack_version if spack_version.startswith("v") else f"v{spack_version}"
    return f"{repository}:{version}"


def install_command(manager: PackageManager, packages: list[str]) -> list[str]:
    """Shell lines that install ``packages`` (already quoted) and clean the package cache."""
    joined = " ".join(packages)
    if manager == "apt":
        return [
            "apt-get update -q",
            "DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "
            + joined,
            "rm -rf /var/lib/apt/lists/*",
        ]
    return [f"dnf install -y -q {joined}", "dnf clean all"]
