"""Facts read from generated definitions: format, bases, environment, site and lock digest."""

from __future__ import annotations

from pathlib import Path

from builder.build.definition import copy_sources, read_facts

LOCK_SHA = "ab" * 32

DOCKERFILE = f"""# esdc: nest-mpi for local, from OS packages
FROM debian:12 AS build
RUN cd /opt/env && echo "{LOCK_SHA}  spack.lock" | sha256sum -c -
FROM debian:12
LABEL org.ebrains.esd.environment=nest-mpi org.ebrains.esd.site=local \\
      org.ebrains.esd.lock-sha256={LOCK_SHA}
"""

APPTAINER = f"""Bootstrap: docker
From: rockylinux:8
# esdc: nest-mpi for jureca-dc, built with Spack

%labels
org.ebrains.esd.environment nest-mpi
org.ebrains.esd.site jureca-dc
org.ebrains.esd.lock-sha256 {LOCK_SHA}

%post
  true
"""


def test_dockerfile_facts() -> None:
    facts = read_facts(Path("nest.Dockerfile"), DOCKERFILE)
    assert facts.format == "dockerfile"
    assert facts.bases == ["debian:12", "debian:12"]
    assert (facts.env, facts.site, facts.lock_sha256) == ("nest-mpi", "local", LOCK_SHA)


def test_apptainer_facts_from_labels() -> None:
    facts = read_facts(Path("nest@jureca-dc.def"), APPTAINER)
    assert facts.format == "apptainer"
    assert facts.bases == ["rockylinux:8"]
    assert (facts.env, facts.site, facts.lock_sha256) == ("nest-mpi", "jureca-dc", LOCK_SHA)


def test_header_line_is_enough_without_labels() -> None:
    facts = read_facts(Path("Dockerfile"), "# esdc: arbor for karolina, from OS packages\nFROM x\n")
    assert (facts.env, facts.site, facts.lock_sha256) == ("arbor", "karolina", None)


def test_lock_none_label_means_no_lock() -> None:
    text = "FROM debian:12\nLABEL org.ebrains.esd.lock-sha256=none\n"
    assert read_facts(Path("Dockerfile"), text).lock_sha256 is None


def test_plain_dockerfile_has_no_facts() -> None:
    facts = read_facts(Path("Dockerfile"), "FROM debian:12\nRUN true\n")
    assert (facts.env, facts.site, facts.lock_sha256) == (None, None, None)


def test_generated_definitions_name_their_lock_source() -> None:
    docker = (
        "# esdc: nest for jusuf, built with Spack\nFROM x\n"
        "COPY spack-envs/nest/spack.lock /opt/env/spack.lock\n"
    )
    facts = read_facts(Path("Dockerfile"), docker)
    assert facts.generated and facts.lock_source == "spack-envs/nest/spack.lock"
    apptainer = (
        "Bootstrap: docker\nFrom: x\n%files\n  spack-envs/nest/spack.lock /opt/env/spack.lock\n"
    )
    assert read_facts(Path("n.def"), apptainer).lock_source == "spack-envs/nest/spack.lock"


def test_copy_sources_leave_out_stage_copies_and_options() -> None:
    text = (
        "FROM a AS build\nCOPY --chown=1:1 src/ conf.yaml /opt/\nADD data.tgz /data\n"
        "FROM b\nCOPY --from=build /opt/env /opt/env\n"
    )
    assert copy_sources(text) == ["src/", "conf.yaml", "data.tgz"]
