"""What OS packages an image holds: ``dpkg-query`` or ``rpm -qa`` run inside it, as SBOM parts.

The commands run through the runtime's own ``exec_argv`` (``ch-run IMAGE -- ...``,
``apptainer exec IMAGE ...``), so the inventory is of the image as it runs, not of a recipe.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Mapping
from urllib.parse import quote

from builder.build.sbom import Component, parse_dpkg_query
from builder.errors import EsdcError

DPKG_QUERY = [
    "dpkg-query",
    "-W",
    "-f=${Package}\t${Version}\t${Architecture}\t${db:Status-Abbrev}\n",
]
RPM_QUERY = ["rpm", "-qa", "--qf", "%{NAME}\t%{EPOCHNUM}:%{VERSION}-%{RELEASE}\t%{ARCH}\n"]
OS_RELEASE = ["cat", "/etc/os-release"]

#: Runs an argv inside the image: returns (exit status, stdout, stderr).
InImage = Callable[[list[str]], tuple[int, str, str]]


def distro_of(os_release: str) -> tuple[str, str]:
    """``(ID, VERSION_ID)`` from an os-release text, e.g. ``("debian", "12")`` (pure)."""
    values: dict[str, str] = {}
    for line in os_release.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values.get("ID", "unknown"), values.get("VERSION_ID", "")


def parse_rpm_query(output: str, *, vendor: str, distro: str) -> list[Component]:
    """Components from :data:`RPM_QUERY` output (pure); ``gpg-pubkey`` entries are skipped."""
    components: dict[str, Component] = {}
    for line in output.splitlines():
        fields = line.split("\t")
        if len(fields) != 3 or fields[0] == "gpg-pubkey":
            continue
        name, epoch_version, arch = fields
        epoch, _, version = epoch_version.partition(":")
        qualifiers = f"arch={arch}&distro={distro}" + (
            f"&epoch={epoch}" if epoch not in ("", "0") else ""
        )
        purl = f"pkg:rpm/{vendor}/{name}@{quote(version, safe='')}?{qualifiers}"
        components[purl] = Component(bom_ref=purl, name=name, version=version, purl=purl)
    return sorted(components.values(), key=lambda c: (c.name, c.version))


def _missing_tool(status: int, stderr: str) -> bool:
    return status == 127 or "No such file" in stderr or "not found" in stderr


def os_packages(in_image: InImage, where: str) -> list[Component]:
    """The Debian or RPM packages installed in an image; none when it has neither tool."""
    status, release, _ = in_image(OS_RELEASE)
    vendor, version = distro_of(release) if status == 0 else ("unknown", "")
    distro = f"{vendor}-{version}" if version else vendor
    status, out, err = in_image(DPKG_QUERY)
    if status == 0:
        return parse_dpkg_query(out, distro=distro)
    if not _missing_tool(status, err):
        raise EsdcError(f"dpkg-query failed in the image: {err.strip()[-300:]}", where=where)
    status, out, err = in_image(RPM_QUERY)
    if status == 0:
        return parse_rpm_query(out, vendor=vendor, distro=distro)
    if not _missing_tool(status, err):
        raise EsdcError(f"rpm -qa failed in the image: {err.strip()[-300:]}", where=where)
    return []


def subprocess_in_image(
    exec_argv: Callable[[str, list[str]], list[str]], image: str, env: Mapping[str, str] | None
) -> InImage:
    """An :data:`InImage` that runs commands with ``exec_argv(image, argv)`` as a subprocess."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        proc = subprocess.run(
            exec_argv(image, argv),
            capture_output=True,
            text=True,
            env=dict(env) if env is not None else None,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        return proc.returncode, proc.stdout, proc.stderr

    return run
