"""OS package inventory of an image: dpkg first, rpm next, the distro from os-release."""

from __future__ import annotations

import pytest

from builder.build.inventory import DPKG_QUERY, RPM_QUERY, distro_of, os_packages, parse_rpm_query
from builder.errors import EsdcError

DEBIAN_RELEASE = 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'
ROCKY_RELEASE = 'NAME="Rocky Linux"\nID="rocky"\nVERSION_ID="8.9"\n'
RPM_OUT = (
    "glibc\t0:2.28-236.el8\tx86_64\n"
    "gpg-pubkey\t0:6d745a60-60287f36\t(none)\n"
    "shadow-utils\t2:4.6-19.el8\tx86_64\n"
)


def _image(answers: dict[str, tuple[int, str, str]]):  # type: ignore[no-untyped-def]
    calls: list[list[str]] = []

    def run(argv: list[str]) -> tuple[int, str, str]:
        calls.append(argv)
        return answers.get(argv[0], (127, "", f"exec: {argv[0]}: not found"))

    return run, calls


def test_distro_of_reads_id_and_version() -> None:
    assert distro_of(DEBIAN_RELEASE) == ("debian", "12")
    assert distro_of(ROCKY_RELEASE) == ("rocky", "8.9")
    assert distro_of("") == ("unknown", "")


def test_rpm_components_carry_vendor_distro_and_epoch() -> None:
    components = parse_rpm_query(RPM_OUT, vendor="rocky", distro="rocky-8.9")
    assert [c.name for c in components] == ["glibc", "shadow-utils"]
    assert components[0].purl == "pkg:rpm/rocky/glibc@2.28-236.el8?arch=x86_64&distro=rocky-8.9"
    assert components[1].purl is not None and components[1].purl.endswith("&epoch=2")


def test_debian_image_is_listed_with_dpkg() -> None:
    run, calls = _image(
        {
            "cat": (0, DEBIAN_RELEASE, ""),
            "dpkg-query": (0, "libc6\t2.36-9\tamd64\tii \n", ""),
        }
    )
    components = os_packages(run, "img")
    assert [c.name for c in components] == ["libc6"]
    assert components[0].purl is not None and "distro=debian-12" in components[0].purl
    assert calls[1] == DPKG_QUERY


def test_rpm_image_falls_back_to_rpm() -> None:
    run, calls = _image({"cat": (0, ROCKY_RELEASE, ""), "rpm": (0, RPM_OUT, "")})
    assert [c.name for c in os_packages(run, "img")] == ["glibc", "shadow-utils"]
    assert calls[-1] == RPM_QUERY


def test_image_without_package_manager_has_no_os_components() -> None:
    run, _ = _image({})
    assert os_packages(run, "img") == []


def test_a_failing_dpkg_is_an_error_naming_the_image() -> None:
    run, _ = _image({"cat": (0, DEBIAN_RELEASE, ""), "dpkg-query": (2, "", "database locked")})
    with pytest.raises(EsdcError, match="database locked") as info:
        os_packages(run, "/i/nest")
    assert str(info.value).startswith("/i/nest:")
