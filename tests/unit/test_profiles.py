"""Loading site profiles and environments: real files, and bad input giving one clear error."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from builder.cli import app
from builder.errors import EsdcError
from builder.profiles import (
    list_envs,
    list_sites,
    load_env,
    load_lock,
    load_site,
    parse_spec,
    project_root,
)

REPO = Path(__file__).resolve().parents[2]
SITES = ["galileo100", "jureca-dc", "jusuf", "karolina", "local"]


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A project root of our own: copies of the real profiles and environments."""
    shutil.copytree(REPO / "site-profiles", tmp_path / "site-profiles")
    shutil.copytree(REPO / "spack-envs", tmp_path / "spack-envs")
    monkeypatch.setenv("ESDC_HOME", str(tmp_path))
    return tmp_path


def test_project_root_is_the_repository_without_esdc_home(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESDC_HOME", raising=False)
    assert project_root() == REPO


def test_every_shipped_site_validates_and_states_sources() -> None:
    assert set(SITES) <= set(list_sites())
    for name in SITES:
        site = load_site(name)
        assert site.name == name
        assert site.sources, f"{name} lists no sources"


def test_local_site_describes_this_machine() -> None:
    site = load_site("local")
    assert (site.scheduler, site.launcher, site.pmix.version) == ("local", "mpirun", "4.2.2")
    assert site.fabric.inter_node == ["tcp"] and site.fabric.intra_node == ["shm", "cma"]
    assert site.runtime.kind == "charliecloud" and site.runtime.join_namespace
    assert site.os_base == "debian:12" and site.software == "os_packages"
    assert site.environment["OMPI_MCA_pml_ucx_tls"] == "any"


def test_unconfirmed_entries_name_real_fields() -> None:
    for name in SITES:
        site = load_site(name)
        data = site.model_dump()
        for dotted in site.unconfirmed:
            node: object = data
            for part in dotted.split("."):
                assert isinstance(node, dict) and part in node, f"{name}: {dotted}"
                node = node[part]


def test_unknown_site_lists_the_known_ones(home: Path) -> None:
    with pytest.raises(EsdcError, match=r"unknown site 'nowhere'; known: galileo100, jureca-dc"):
        load_site("nowhere")


def test_malformed_yaml_names_file_and_line(home: Path) -> None:
    (home / "site-profiles" / "broken.yaml").write_text("name: broken\nfabric: [tcp\nx: 1\n")
    with pytest.raises(EsdcError) as caught:
        load_site("broken")
    assert caught.value.where is not None and caught.value.where.endswith("broken.yaml")
    assert caught.value.line == 3
    assert "invalid YAML" in str(caught.value)


def test_unknown_key_and_wrong_type_name_the_field(home: Path) -> None:
    text = (home / "site-profiles" / "local.yaml").read_text()
    (home / "site-profiles" / "odd.yaml").write_text(
        text.replace("launcher: mpirun", "launcher: mpirun\nlauncer: srun").replace(
            "join_namespace: true", "join_namespace: [1]"
        )
    )
    with pytest.raises(EsdcError) as caught:
        load_site("odd")
    message = str(caught.value)
    assert "launcer: unknown key" in message
    assert "runtime.join_namespace" in message
    assert "odd.yaml" in message


def test_empty_profile_is_an_error_not_a_crash(home: Path) -> None:
    (home / "site-profiles" / "empty.yaml").write_text("")
    with pytest.raises(EsdcError, match="empty file"):
        load_site("empty")


def test_envs_load_with_includes_merged() -> None:
    assert {"cuda", "esd", "mpi-base", "nest", "nest-reference"} <= set(list_envs())
    nest = load_env("nest")
    names = [spec.name for spec in nest.specs]
    assert names[:6] == ["openmpi", "pmix", "ucx", "libfabric", "rdma-core", "osu-micro-benchmarks"]
    assert "nest" in names and nest.lock is None
    assert "openmpi-bin" in nest.meta.os_packages  # inherited from mpi-base
    assert nest.own_specs_without_os_packages == ["nest@3 +mpi +python", "py-mpi4py"]


def test_esd_has_about_eighty_roots() -> None:
    assert len(load_env("esd").specs) >= 80


def test_reference_lock_is_read() -> None:
    env = load_env("nest-reference")
    assert env.lock is not None
    assert env.lock.lockfile_version == 5 and env.lock.spack_version == "0.23.0.dev0"
    pmix = env.lock.find("pmix")
    assert pmix is not None and pmix.version == "5.0.1"
    ucx = env.lock.find("ucx")
    assert ucx is not None and ucx.variants["verbs"] == ["false"]
    assert len(env.lock.packages) == 76
    assert env.lock.platform_os == ["debian12"] and env.lock.compilers == ["gcc@12.2.0"]


def test_stale_lock_is_refused(home: Path) -> None:
    manifest = home / "spack-envs" / "nest-reference" / "spack.yaml"
    manifest.write_text(manifest.read_text().replace("  - ucx\n", "  - ucx +verbs\n"))
    with pytest.raises(EsdcError, match=r"stale lock.*ucx \+verbs"):
        load_env("nest-reference")


def test_lock_that_is_not_json_names_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "spack.lock"
    bad.write_text('{"_meta": {\n  "x": }\n')
    with pytest.raises(EsdcError) as caught:
        load_lock(bad)
    assert caught.value.line == 2


def test_include_cycle_is_reported(home: Path) -> None:
    (home / "spack-envs" / "mpi-base" / "esdc.yaml").write_text("includes: [nest]\n")
    with pytest.raises(EsdcError, match="cycle"):
        load_env("nest")


@pytest.mark.parametrize(
    ("text", "name", "version", "enabled", "disabled", "values"),
    [
        ("nest@3+mpi+python", "nest", "3", ["mpi", "python"], [], {}),
        (
            "openmpi@4.1 ~internal-pmix fabrics=ucx,ofi",
            "openmpi",
            "4.1",
            [],
            ["internal-pmix"],
            {"fabrics": ["ucx", "ofi"]},
        ),
        ("ucx +verbs ^rdma-core@50", "ucx", None, ["verbs"], [], {}),
    ],
)
def test_parse_spec(
    text: str,
    name: str,
    version: str | None,
    enabled: list[str],
    disabled: list[str],
    values: dict[str, list[str]],
) -> None:
    spec = parse_spec(text)
    assert (spec.name, spec.version, spec.enabled, spec.disabled, spec.values) == (
        name,
        version,
        enabled,
        disabled,
        values,
    )


# --- hostile values: every value that reaches a script is one line -------------------------

#: Every line break Python's str.splitlines() honours, plus NUL, ESC, DEL and a C1 control.
BREAKS = ["\n", "\r", "\v", "\f", "\x1c", "\x1d", "\x1e", "\x85", "\u2028", "\u2029"]
CONTROLS = ["\x00", "\x1b", "\x7f", "\x9b", "\t"]


def _edit(home: Path, site: str, old: str, new: str) -> tuple[Path, int]:
    """Replace one line of a profile; return the file and the 1-based line number."""
    path = home / "site-profiles" / f"{site}.yaml"
    lines = path.read_text().splitlines(keepends=True)
    index = next(i for i, line in enumerate(lines) if line.rstrip("\n") == old)
    lines[index] = new + "\n"
    path.write_text("".join(lines))
    return path, index + 1


def _escaped(text: str) -> str:
    """A YAML double-quoted scalar holding ``text`` exactly (every character escaped)."""
    return '"' + "".join(f"\\u{ord(c):04x}" if not c.isalnum() else c for c in text) + '"'


@pytest.mark.parametrize("char", BREAKS + CONTROLS, ids=repr)
def test_a_break_in_a_partition_is_refused_with_file_and_line(home: Path, char: str) -> None:
    value = _escaped(f"dc-cpu{char}rm -f canary")
    path, line = _edit(home, "jureca-dc", "  cpu: dc-cpu", f"  cpu: {value}")
    with pytest.raises(EsdcError) as caught:
        load_site("jureca-dc")
    assert f"{path}:{line}: " in str(caught.value)
    assert "partitions.cpu" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("char", BREAKS + CONTROLS, ids=repr)
def test_a_break_in_the_site_name_or_an_environment_value_is_refused(home: Path, char: str) -> None:
    path, line = _edit(
        home, "local", "name: local", f"name: {_escaped(f'local{char}From: docker.io/a/evil:1')}"
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*name"):
        load_site("local")
    path, line = _edit(
        home,
        "jureca-dc",
        "  UCX_LOG_LEVEL: info",
        f"  UCX_LOG_LEVEL: {_escaped(f'info{char}RUN evil')}",
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*debug_environment\.UCX_LOG_LEVEL"):
        load_site("jureca-dc")


def test_an_account_with_a_newline_is_refused(home: Path) -> None:
    path, line = _edit(home, "jureca-dc", "os_base: rockylinux:9", 'accounts: ["ok", "a\\nb"]')
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*accounts\.1"):
        load_site("jureca-dc")


@pytest.mark.parametrize("version", ['"x.y"', "four", '"4.2.2\\n"', '"-1"', '""'])
def test_a_pmix_version_that_is_not_a_version_is_refused_at_load(home: Path, version: str) -> None:
    path, line = _edit(home, "jureca-dc", "  version: 4.2.9", f"  version: {version}")
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*pmix\.version"):
        load_site("jureca-dc")


def test_esdc_check_refuses_the_hostile_profile(home: Path) -> None:
    _edit(home, "jureca-dc", "  cpu: dc-cpu", '  cpu: "dc-cpu\\nrm -f canary"')
    shown = CliRunner().invoke(app, ["check", "nest", "--site", "jureca-dc"])
    assert isinstance(shown.exception, EsdcError), shown.output
    assert "partitions.cpu" in str(shown.exception)


def test_esdc_generate_refuses_a_bad_pmix_version_instead_of_crashing(home: Path) -> None:
    _edit(home, "jureca-dc", "  version: 4.2.9", '  version: "x.y"')
    shown = CliRunner().invoke(app, ["generate", "nest", "--site", "jureca-dc"])
    assert isinstance(shown.exception, EsdcError), shown.exception
    assert "pmix.version" in str(shown.exception)


def test_an_rsync_target_that_is_an_ssh_option_is_refused_at_load(home: Path) -> None:
    path, line = _edit(
        home, "jureca-dc", "  unicore_storage: HOME", '  rsync_target: "-oProxyCommand=sh:/x"'
    )
    with pytest.raises(EsdcError, match=rf"{path}:{line}: .*rsync_target"):
        load_site("jureca-dc")


def test_a_character_yaml_refuses_is_named_with_its_line_on_one_line(home: Path) -> None:
    path, line = _edit(home, "jureca-dc", "  cpu: dc-cpu", "  cpu: dc-cpu\x00")
    with pytest.raises(EsdcError) as caught:
        load_site("jureca-dc")
    assert str(caught.value) == f"{path}:{line}: invalid YAML: character '\\x00' is not allowed"
