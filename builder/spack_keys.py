"""Keys a Spack environment's spack.yaml may hold; an unknown one is an error naming its line.

Spack itself ignores nothing silently either: a typo such as ``spec:`` for ``specs:`` would
otherwise render ``specs: []``. The table lists the keys of Spack 0.22/0.23's environment
schema that this project's manifests may use, per level; extend a row to allow a new key.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from builder.errors import EsdcError

# Keys of the `spack:` mapping.
TOP_LEVEL = frozenset(
    {
        "specs", "concretizer", "packages", "view", "config", "mirrors", "repos", "compilers",
        "include", "definitions", "modules", "upstreams", "bootstrap", "container", "develop",
        "env_vars", "ci", "cdash",
    }
)  # fmt: skip
# Keys of `concretizer:`.
CONCRETIZER = frozenset(
    {"unify", "reuse", "targets", "duplicates", "enable_node_namespace", "os_compatible", "splice"}
)
# Keys of `concretizer: targets:`.
TARGETS = frozenset({"granularity", "host_compatible"})
# Keys of one package under `packages:`.
PACKAGE = frozenset(
    {
        "require", "prefer", "conflict", "variants", "version", "compiler", "target",
        "providers", "externals", "buildable", "permissions", "package_attributes",
    }
)  # fmt: skip


def _mapping_items(node: yaml.Node) -> list[tuple[yaml.ScalarNode, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        return []
    return [(key, value) for key, value in node.value if isinstance(key, yaml.ScalarNode)]


def _check(node: yaml.Node, allowed: frozenset[str], where: str, path: Path) -> None:
    for key, _value in _mapping_items(node):
        if key.value not in allowed:
            known = ", ".join(sorted(allowed))
            raise EsdcError(
                f"unknown key {where}{key.value!r} in spack.yaml; allowed: {known}",
                where=path,
                line=key.start_mark.line + 1,
            )


def _child(node: yaml.Node, name: str) -> yaml.Node | None:
    return next((value for key, value in _mapping_items(node) if key.value == name), None)


def check_manifest_keys(text: str, path: Path) -> None:
    """Raise an EsdcError (file and line) for the first key Spack's schema does not know."""
    try:
        document = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return  # read_yaml reports syntax errors with their line
    if document is None:
        return
    spack = _child(document, "spack")
    if spack is None:
        return
    _check(spack, TOP_LEVEL, "", path)
    concretizer = _child(spack, "concretizer")
    if concretizer is not None:
        _check(concretizer, CONCRETIZER, "concretizer:", path)
        targets = _child(concretizer, "targets")
        if targets is not None:
            _check(targets, TARGETS, "concretizer:targets:", path)
    packages = _child(spack, "packages")
    for name, settings in _mapping_items(packages) if packages is not None else []:
        _check(settings, PACKAGE, f"packages:{name.value}:", path)
