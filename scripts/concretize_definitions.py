"""Concretise the spack.yaml of generated definitions with real Spack, timing each (not in CI).

Usage: python scripts/concretize_definitions.py SPACK WORKDIR DEFINITION...
SPACK is a `spack` command (with SPACK_PYTHON etc. set by the caller). For each definition the
spack.yaml between the ESDC_SPACK_YAML heredoc markers is written to WORKDIR/<name>/ unchanged,
the build image's compiler (baseimages.py) is declared in a private config scope (paths need not
exist: concretisation does not run it), and `spack -e DIR concretize` runs. Roots that only a
repository absent here provides cannot be concretised; `--drop-missing-repos` removes those
roots and the repos: entry (a partial check, reported as such).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

from builder.generate import baseimages
from builder.profiles import load_env, load_site

COMPILERS = """compilers:
- compiler:
    spec: {spec}
    operating_system: {os}
    modules: []
    paths: {{cc: /usr/bin/gcc, cxx: /usr/bin/g++, f77: /usr/bin/gfortran, fc: /usr/bin/gfortran}}
"""


def manifest_of(definition: Path) -> str:
    text = definition.read_text()
    start = text.index("<< 'ESDC_SPACK_YAML'\n") + len("<< 'ESDC_SPACK_YAML'\n")
    return text[start : text.index("\nESDC_SPACK_YAML\n", start)] + "\n"


def main(spack: str, workdir: Path, definitions: list[Path], drop: bool, host_os: str) -> int:
    failed = 0
    for definition in definitions:
        env_name, site_name = definition.stem.split("@")
        site = load_site(site_name)
        compiler = baseimages.build_compiler(site.os_base, site.name)
        folder = workdir / definition.stem
        config = folder / "config"
        config.mkdir(parents=True, exist_ok=True)
        (config / "compilers.yaml").write_text(COMPILERS.format(spec=compiler, os=host_os))
        manifest = manifest_of(definition)
        note = ""
        if drop and "repos:" in manifest:
            only = {n for r in load_env(env_name).meta.repositories for n in r.only_here}
            data = yaml.safe_load(manifest)
            data["spack"].pop("repos")
            kept = [s for s in data["spack"]["specs"] if s.split()[0].split("@")[0] not in only]
            note = f" (partial: {len(data['spack']['specs']) - len(kept)} repo-only roots dropped)"
            data["spack"]["specs"] = kept
            manifest = yaml.safe_dump(data, sort_keys=False)
        (folder / "spack.yaml").write_text(manifest)
        started = time.monotonic()
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        proc = subprocess.run(
            [*spack.split(), "-C", str(config), "-e", str(folder), "concretize", "--force"],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.monotonic() - started
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        (folder / "concretize.log").write_text(proc.stdout + proc.stderr)
        verdict = "OK" if proc.returncode == 0 else "FAILED"
        failed += proc.returncode != 0
        print(
            f"{definition.name}: {verdict} in {seconds:.0f} s wall, {cpu:.0f} s CPU, "
            f"with {compiler}{note}",
            flush=True,
        )
    return 1 if failed else 0


if __name__ == "__main__":
    args = sys.argv[1:]
    drop = "--drop-missing-repos" in args
    args = [a for a in args if a != "--drop-missing-repos"]
    sys.exit(main(args[0], Path(args[1]), [Path(a) for a in args[2:]], drop, "debian12"))
