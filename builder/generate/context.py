"""Turn an ImageSpec into template context: every string here is safe to paste into a script.

All quoting and rejection happens here, in one place, so templates only place strings. Values
from a site profile are shell-quoted (or rejected when they cannot be); the generator's own values
(paths, ``$PATH``) are written as they are.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from builder.errors import EsdcError
from builder.generate import baseimages, quoting
from builder.generate.components import (
    ENV_DIR,
    INSTALL_TREE,
    LOCKED_SPACK,
    REPOS_DIR,
    SPACK_GIT,
    VIEW,
    VIEWS_DIR,
)
from builder.model.image import ImageSpec

_IMAGE_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]*\Z")
_SHA256 = re.compile(r"[0-9a-f]{64}\Z")
_COMMIT = re.compile(r"[0-9a-f]{40}\Z")
BUILD_IMAGE_SPACK = "/opt/spack"
HEREDOC = "ESDC_SPACK_YAML"


@dataclass(frozen=True)
class Context:
    """What the templates see; one attribute per template slot, all already safe."""

    env: str
    site: str
    notes: list[str]
    build_image: str | None
    final_image: str
    spack_yaml_lines: list[str]
    heredoc: str
    lock_source: str | None
    lock_source_q: str | None
    lock_sha256: str | None
    buildcache_lines: list[str]
    prepare_lines: list[str]
    spack_root: str
    final_install: list[str]
    env_exports: list[str]
    docker_env: list[str]
    test_lines: list[str]
    runscript_lines: list[str]
    label_lines: list[str]
    docker_labels: list[str]
    label_file_lines: list[str]
    help_lines: list[str]
    paths: dict[str, str] = field(default_factory=dict)
    #: The pip_packages install, its own step after the OS packages (their layer stays cached).
    pip_install: list[str] = field(default_factory=list)
    #: Folder of the build context holding the pip_packages wheels (``None``: no pip packages).
    wheels_source: str | None = None
    wheels_target: str = ""


#: Where ``esdc validate`` puts the wheels of an environment's pip_packages (project root).
WHEELS_DIR = ".esdc-wheels"
#: Where the definition copies them in the image (removed after the install); not under /tmp,
#: which ``ch-run`` shares with the host during a build.
WHEELS_TARGET = "/var/cache/esdc-wheels"


def _image(ref: str, what: str) -> str:
    if not _IMAGE_REF.match(ref):
        raise EsdcError(f"{what}: {ref!r} is not a valid image reference")
    return ref


def _section_lines(text: str, what: str) -> list[str]:
    """Lines of a free-text section; a line starting with '%' would open a new section.

    Only ``\n`` separates lines (tabs are kept): any other line break or control character
    would be one line to Apptainer but several to a recipe parser, so it is refused.
    """
    lines = text.strip("\n").split("\n")
    for line in lines:
        quoting.check_line(line.replace("\t", " "), what)
        if line.lstrip().startswith("%") or "bootstrap:" in line.lower():
            raise EsdcError(f"{what}: a line may not start with '%' or name a bootstrap: {line!r}")
    return lines


def _comment(text: str) -> str:
    """One comment line. Recipe parsers (spython) read 'Stage:', 'From:' and any 'bootstrap'
    outside sections as header keywords, even in comments; those words are defused."""
    line = " ".join(text.split())
    line = re.sub(r"(?i)\b(stage|from)\s*:", r"\1 -", line)
    return "# " + re.sub(r"(?i)bootstrap", "boot-strap", line)


def _test_lines(spec: ImageSpec) -> list[str]:
    lines = ["set -e"]
    for probe in spec.probes:
        program = probe.program
        lines.append(
            f"command -v {program} >/dev/null 2>&1 || "
            f'{{ echo "esdc test: {probe.library} missing ({program} not found)" >&2; exit 1; }}'
        )
        arguments = f" {probe.arguments}" if probe.arguments else ""
        pattern = shlex.quote(probe.pattern)
        # A program that runs but prints no version line is as broken as a missing one.
        lines.append(
            f"version=$({program}{arguments} 2>&1 | grep -m 1 -F -e {pattern} | sed 's/^ *//')"
        )
        lines.append(
            f'[ -n "$version" ] || '
            f'{{ echo "esdc test: {probe.library}: {program} printed no version" >&2; exit 1; }}'
        )
        lines.append(f'echo "{probe.library}: $version"')
    if spec.check_nccl:
        lines.append(
            f"ls {VIEW}/lib/libnccl.so* >/dev/null 2>&1 || "
            '{ echo "esdc test: NCCL missing (no libnccl.so in the view)" >&2; exit 1; }'
        )
        lines.append(f'echo "NCCL: $(ls {VIEW}/lib/libnccl.so.* | head -n 1)"')
    for test in spec.extra_tests:
        lines += _section_lines(test, f"environment {spec.env}: esdc.yaml tests")
    return lines


def _buildcache_lines(spec: ImageSpec) -> list[str]:
    if spec.buildcache is None:
        return []
    name = quoting.sh(spec.buildcache.name, "buildcache.name")
    url = quoting.sh(spec.buildcache.url, "buildcache.url")
    # Keys come from the mirror and are trusted explicitly; signatures stay checked on install.
    return [
        f"spack mirror add --scope site {name} {url}",
        "spack buildcache keys --install --trust",
    ]


def _commit(value: str, what: str) -> str:
    if not _COMMIT.match(value):
        raise EsdcError(f"{what}: {value!r} is not a 40-hex git commit")
    return value


def _prepare_lines(spec: ImageSpec) -> list[str]:
    """Shell lines before Spack runs: the lock's own Spack, package repositories at their commits.

    A lock is only valid for the Spack (and builtin packages) that wrote it, so a lock build
    checks out that commit; repositories are pinned so that a rebuild sees the same recipes.
    """
    lines: list[str] = []
    if spec.spack_commit is not None:
        commit = _commit(spec.spack_commit, "spack.lock: spack.commit")
        lines += [
            f"git clone -q --filter=blob:none {SPACK_GIT} {LOCKED_SPACK}",
            f"git -C {LOCKED_SPACK} checkout -q {commit}",
        ]
    for repo in spec.repositories:
        folder = f"{REPOS_DIR}/{quoting.package_name(repo.name, 'repository name')}"
        url = quoting.sh(repo.url, f"repository {repo.name}: url")
        commit = _commit(repo.commit, f"repository {repo.name}: commit")
        lines += [
            f"git clone -q {url} {folder}",
            f"git -C {folder} checkout -q {commit}",
        ]
    return lines


def build_context(spec: ImageSpec) -> Context:
    """Quote, check and split everything in ``spec`` for the templates."""
    packages = [
        quoting.sh(quoting.package_name(name, "os package"), "os package")
        for name in spec.final_os_packages
    ]
    final_install = baseimages.install_command(spec.package_manager, packages) if packages else []
    if spec.pip_packages:
        requirements = " ".join(quoting.sh(r, "pip package") for r in spec.pip_packages)
        # Wheels the host's pip fetched into the build context (esdc validate does): the build
        # needs no network or certificates of its own, and the image gets the host's very wheel.
        # The distribution's Python is externally managed (PEP 668): the image is ours to change;
        # dependencies come from the OS packages.
        pip_install = [
            "python3 -m pip install --no-cache-dir --break-system-packages --no-index "
            f"--no-deps --find-links {WHEELS_TARGET} {requirements}",
            f"rm -rf {WHEELS_TARGET}",
        ]
    else:
        pip_install = []
    exports: list[str] = []
    docker_env: list[str] = []
    for variable in spec.environment:
        name = quoting.env_name(variable.name, variable.origin)
        if variable.origin == "generator":
            exports.append(f"export {name}={variable.value}")
            docker_env.append(f"ENV {name}={variable.value}")
        else:
            exports.append(f"export {name}={quoting.sh(variable.value, variable.origin)}")
            docker_env.append(f"ENV {name}={quoting.docker_env(variable.value, variable.origin)}")
    yaml_lines = (
        _section_lines(spec.spack_yaml, f"environment {spec.env}: spack.yaml")
        if spec.spack_yaml
        else []
    )
    if any(line.strip() == HEREDOC for line in yaml_lines):
        raise EsdcError(f"environment {spec.env}: spack.yaml contains the line {HEREDOC}")
    lock_source = lock_q = lock_sha = None
    if spec.lock is not None:
        lock_source = quoting.check_line(spec.lock.source, "lock path")
        if any(ch.isspace() for ch in lock_source):
            raise EsdcError(f"lock path may not contain spaces: {lock_source!r}")
        lock_q = quoting.sh(lock_source, "lock path")
        if not _SHA256.match(spec.lock.sha256):
            raise EsdcError(f"lock sha256 is not 64 hex digits: {spec.lock.sha256!r}")
        lock_sha = spec.lock.sha256
    labels = [
        (quoting.label_key(label.key, "label"), quoting.label_value(label.value, label.key))
        for label in spec.labels
    ]
    return Context(
        env=quoting.check_line(spec.env, "environment name"),
        site=quoting.check_line(spec.site, "site name"),
        notes=[_comment(note) for note in spec.notes],
        build_image=_image(spec.build_image, "build image") if spec.build_image else None,
        final_image=_image(spec.final_image, f"site {spec.site}: os_base"),
        spack_yaml_lines=yaml_lines,
        heredoc=HEREDOC,
        lock_source=lock_source,
        lock_source_q=lock_q,
        lock_sha256=lock_sha,
        buildcache_lines=_buildcache_lines(spec),
        prepare_lines=_prepare_lines(spec),
        spack_root=LOCKED_SPACK if spec.spack_commit is not None else BUILD_IMAGE_SPACK,
        final_install=final_install,
        pip_install=pip_install,
        wheels_source=WHEELS_DIR if spec.pip_packages else None,
        wheels_target=WHEELS_TARGET,
        env_exports=exports,
        docker_env=docker_env,
        test_lines=_test_lines(spec),
        runscript_lines=_section_lines(spec.runscript, f"environment {spec.env}: runscript"),
        # Apptainer keeps the rest of a %labels line verbatim (quotes included): write it raw.
        label_lines=[
            f"{label.key} {quoting.check_line(label.value, label.key)}" for label in spec.labels
        ],
        docker_labels=[f"LABEL {key}={value}" for key, value in labels],
        label_file_lines=[
            shlex.quote(f"{label.key}={quoting.check_line(label.value, label.key)}")
            for label in spec.labels
        ],
        help_lines=_section_lines(spec.help, f"environment {spec.env}: help"),
        paths={
            "install_tree": INSTALL_TREE,
            "views": VIEWS_DIR,
            "view": VIEW,
            "env_dir": ENV_DIR,
        },
    )
