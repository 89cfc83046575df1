"""Record the Spack package metadata that `esdc check` reads (run with `spack python`).

Usage (real Spack checkout, clingo from PyPI, private config):
    spack python scripts/record_spack_metadata.py OUT.json NAME...
Writes every package name of the builtin repository, and for each NAME its versions (marking
git-branch versions), variants (default, allowed values, multi) and the conflicts that the
build images' compilers hit. Our own code against Spack's API; no Spack code is copied.
"""

import json
import os
import sys

import spack
import spack.repo
import spack.spec

# The compilers of the build images baseimages.py knows (rocky8, rocky9, jammy, noble, debian12).
COMPILERS = ["gcc@8.5.0", "gcc@11.4.1", "gcc@11.4.0", "gcc@13.2.0", "gcc@12.2.0"]


def variants(cls):
    found = {}
    for name, (variant, when) in sorted(cls.variants.items()):
        values = None
        if variant.values is not None:
            values = [str(v).lower() if isinstance(v, bool) else str(v) for v in variant.values]
        default = variant.default
        found[name] = {
            "default": str(default).lower() if isinstance(default, bool) else str(default),
            "values": values,
            "multi": bool(variant.multi),
            "when": str(when) if str(when) else None,
        }
    return found


def compiler_conflicts(name, cls):
    """Unconditional compiler conflicts (``conflicts("%gcc@:8")``) the build compilers hit."""
    hits = {}
    for when, entries in cls.conflicts.items():
        if str(when).replace(name, "", 1).strip():
            continue  # conditional on a version, variant or dependency: not a blanket conflict
        for constraint, msg in entries:
            if not constraint.compiler or constraint.architecture:
                continue  # platform-specific conflicts (darwin...) do not concern a Linux image
            for compiler in COMPILERS:
                if spack.spec.Spec(f"%{compiler}").compiler.satisfies(constraint.compiler):
                    hits[compiler] = msg or f"conflicts with %{constraint.compiler}"
    return hits


def variant_versions(name, cls, versions):
    """For a variant setting that conflicts with some versions: the versions still allowed."""
    allowed = {}
    for when, entries in cls.conflicts.items():
        for constraint, _msg in entries:
            setting = str(constraint).replace(name, "", 1).strip()
            if not setting or setting[0] not in "+~" or " " in setting:
                continue
            keep = []
            for version in versions:
                probe = spack.spec.Spec(f"{name}@={version}")
                probe.constrain(spack.spec.Spec(f"{name}{setting}"))
                if not probe.satisfies(when):
                    keep.append(str(version))
            previous = allowed.get(setting)
            allowed[setting] = keep if previous is None else [v for v in previous if v in keep]
    return {key: value for key, value in allowed.items() if len(value) < len(versions)}


def main(out, names):
    repo = spack.repo.PATH
    details = {}
    for name in sorted(set(names)):
        if not repo.exists(name):
            continue
        cls = repo.get_pkg_class(name)
        versions = sorted(cls.versions, reverse=True)
        details[name] = {
            "versions": [str(v) for v in versions],
            "branch_versions": [
                str(v) for v in versions if "branch" in cls.versions[v] or "tag" in cls.versions[v]
            ],
            "variants": variants(cls),
            "compiler_conflicts": compiler_conflicts(name, cls),
            "variant_versions": variant_versions(name, cls, versions),
        }
    data = {
        "spack_version": spack.spack_version,
        "spack_commit": os.environ.get("SPACK_COMMIT") or None,
        "packages": sorted(repo.all_package_names()),
        "details": details,
    }
    with open(out, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=1, sort_keys=True)
        handle.write("\n")


main(sys.argv[1], sys.argv[2:])
