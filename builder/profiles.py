"""Find and load site profiles (``site-profiles/*.yaml``) and environments (``spack-envs/*/``).

Every user mistake becomes one :class:`EsdcError` naming the file and, where YAML knows it, the
line; validation errors name the field path. Unknown names list the known ones.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from builder.errors import EsdcError
from builder.model.env import EnvMeta, EnvSpec, LockedPackage, LockInfo, SpecRequest
from builder.model.site import SiteProfile
from builder.spack_keys import check_manifest_keys

SITES_DIR = "site-profiles"
ENVS_DIR = "spack-envs"
MANIFEST = "spack.yaml"
LOCKFILE = "spack.lock"
META = "esdc.yaml"

M = TypeVar("M", bound=BaseModel)

# libyaml's SafeLoader is ~10x faster than the pure-Python one and reports the same marks.
_LOADER: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def project_root() -> Path:
    """The folder holding ``site-profiles/`` and ``spack-envs/``.

    ``$ESDC_HOME`` if set, else the repository the package was installed from (editable
    installs), else the current directory.
    """
    home = os.environ.get("ESDC_HOME")
    if home:
        return Path(home)
    repo = Path(__file__).resolve().parent.parent
    if (repo / SITES_DIR).is_dir() or (repo / ENVS_DIR).is_dir():
        return repo
    return Path.cwd()


def list_sites() -> list[str]:
    """Names of the site profiles under the project root, sorted."""
    folder = project_root() / SITES_DIR
    return sorted(path.stem for path in folder.glob("*.yaml")) if folder.is_dir() else []


def list_envs() -> list[str]:
    """Names of the environments (folders with a spack.yaml) under the project root, sorted."""
    folder = project_root() / ENVS_DIR
    if not folder.is_dir():
        return []
    return sorted(path.parent.name for path in folder.glob(f"*/{MANIFEST}"))


def _looks_like_path(name_or_path: str) -> bool:
    return "/" in name_or_path or name_or_path.endswith((".yaml", ".yml")) or name_or_path == "."


def read_yaml(path: Path) -> Any:
    """Parse one YAML file; syntax errors become an EsdcError with file and line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc
    except UnicodeDecodeError as exc:
        raise EsdcError(f"not UTF-8 text: {exc}", where=path) from exc
    try:
        return yaml.load(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise EsdcError(f"invalid YAML: {problem}", where=path, line=line) from exc
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow (NUL, most controls): named by its position.
        line = text.count("\n", 0, exc.position) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        raise EsdcError(
            f"invalid YAML: character {char!r} is not allowed", where=path, line=line
        ) from exc
    except yaml.YAMLError as exc:
        raise EsdcError(f"invalid YAML: {' '.join(str(exc).split())}", where=path) from exc


#: Longest shown part of a rejected value (its repr: control characters stay visible).
_SHOWN_INPUT = 60


def _validation_message(exc: ValidationError) -> str:
    """All of pydantic's complaints on one line, each as ``field.path: message (got value)``."""
    parts = []
    for error in exc.errors():
        where = ".".join(str(part) for part in error["loc"]) or "(top level)"
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif isinstance(error.get("input"), str | int | float):
            shown = repr(error["input"])
            if len(shown) > _SHOWN_INPUT:
                shown = shown[: _SHOWN_INPUT - 3] + "..."
            message += f" (got {shown})"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def yaml_line(path: Path, loc: tuple[str | int, ...]) -> int | None:
    """The 1-based line of the YAML node at ``loc`` (pydantic's error location) in ``path``.

    Walks the composed node tree (mapping keys by name, sequence items by index); stops at the
    deepest node found, so a bad dictionary key or a missing field still gets its parent's line.
    """
    try:
        node = yaml.compose(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if node is None:
        return None
    line: int = node.start_mark.line + 1
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode):
            child = next((v for k, v in node.value if str(k.value) == str(part)), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int):
            child = node.value[part] if 0 <= part < len(node.value) else None
        if child is None:
            break
        node = child
        line = node.start_mark.line + 1
    return line


def _validate(model: type[M], data: Any, path: Path) -> M:
    if not isinstance(data, dict):
        kind = "empty file" if data is None else f"a {type(data).__name__}"
        raise EsdcError(f"expected a mapping at the top level, found {kind}", where=path)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = tuple(exc.errors()[0]["loc"])
        raise EsdcError(
            f"invalid {model.__name__}: {_validation_message(exc)}",
            where=path,
            line=yaml_line(path, first),
        ) from exc


def _unknown(kind: str, name: str, known: list[str]) -> EsdcError:
    listing = ", ".join(known) if known else "none"
    return EsdcError(f"unknown {kind} {name!r}; known: {listing} (under {project_root()})")


# --- sites -------------------------------------------------------------------------------


def site_path(name_or_path: str) -> Path:
    """The YAML file of a site given by name or path; unknown names list the known ones."""
    if _looks_like_path(name_or_path):
        path = Path(name_or_path)
        if not path.is_file():
            raise EsdcError("site profile not found", where=path)
        return path
    path = project_root() / SITES_DIR / f"{name_or_path}.yaml"
    if not path.is_file():
        raise _unknown("site", name_or_path, list_sites())
    return path


def load_site(name_or_path: str) -> SiteProfile:
    """Load and validate a site profile by name (``site-profiles/NAME.yaml``) or path."""
    path = site_path(name_or_path)
    return _validate(SiteProfile, read_yaml(path), path)


# --- environments --------------------------------------------------------------------------


def env_folder(name_or_path: str) -> Path:
    """The folder of an environment given by name or path (a folder or its spack.yaml)."""
    if _looks_like_path(name_or_path):
        path = Path(name_or_path)
        folder = path.parent if path.name == MANIFEST else path
        if not (folder / MANIFEST).is_file():
            raise EsdcError(f"no {MANIFEST} in this environment folder", where=folder)
        return folder
    folder = project_root() / ENVS_DIR / name_or_path
    if not (folder / MANIFEST).is_file():
        raise _unknown("environment", name_or_path, list_envs())
    return folder


def parse_spec(text: str) -> SpecRequest:
    """Reduce an abstract spec string (``openmpi@4.1 +cuda fabrics=ucx,ofi ^pmix``) to its root.

    Only the root node is read (dependencies after ``^`` are ignored): enough to know the
    package, its version constraint and its variants.
    """
    root = text.split("^", 1)[0]
    name = ""
    version: str | None = None
    enabled: list[str] = []
    disabled: list[str] = []
    values: dict[str, list[str]] = {}
    # Spack allows "+a+b~c" glued together; split signs off into their own tokens.
    spaced = root.replace("+", " +").replace("~", " ~").replace("@", " @")
    for token in spaced.split():
        if token.startswith("@"):
            version = token[1:] or None
        elif token.startswith("+"):
            enabled.append(token.lstrip("+"))
        elif token.startswith("~") or token.startswith("-"):
            disabled.append(token.lstrip("~-"))
        elif "=" in token:
            key, _, value = token.partition("=")
            values[key.lstrip()] = [item for item in value.split(",") if item]
        elif not name and token[0].isalnum():
            name = token
    return SpecRequest(
        text=text, name=name, version=version, enabled=enabled, disabled=disabled, values=values
    )


def _spack_mapping(data: Any, path: Path) -> dict[str, Any]:
    if not isinstance(data, dict) or not isinstance(data.get("spack"), dict):
        raise EsdcError("expected a top-level 'spack:' mapping", where=path)
    spack: dict[str, Any] = data["spack"]
    specs = spack.get("specs", [])
    if not isinstance(specs, list) or not all(isinstance(spec, str) for spec in specs):
        raise EsdcError("spack.specs: expected a list of spec strings", where=path)
    packages = spack.get("packages", {})
    if not isinstance(packages, dict):
        raise EsdcError("spack.packages: expected a mapping", where=path)
    return spack


def _merge_manifests(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    """Specs concatenated (without repeats), package preferences per package (top wins)."""
    merged = {**base, **top}
    specs = list(base.get("specs", []))
    specs += [spec for spec in top.get("specs", []) if spec not in specs]
    merged["specs"] = specs
    merged["packages"] = {**base.get("packages", {}), **top.get("packages", {})}
    if not merged["packages"]:
        del merged["packages"]
    return merged


def _requirements(packages: dict[str, Any]) -> dict[str, list[str]]:
    """``packages:<name>: require/variants`` flattened to spec-like strings per package."""
    found: dict[str, list[str]] = {}
    for name, settings in packages.items():
        if not isinstance(settings, dict):
            continue
        strings: list[str] = []
        for key in ("require", "variants", "prefer"):
            value = settings.get(key)
            items = value if isinstance(value, list) else [value] if value is not None else []
            for item in items:
                if isinstance(item, str):
                    strings.append(item)
                elif isinstance(item, dict):
                    for inner in ("one_of", "any_of", "spec"):
                        candidate = item.get(inner)
                        if isinstance(candidate, str):
                            strings.append(candidate)
                        elif isinstance(candidate, list):
                            strings.extend(c for c in candidate if isinstance(c, str))
        if strings:
            found[str(name)] = strings
    return found


def load_lock(path: Path) -> LockInfo:
    """Read a spack.lock (lockfile version 4 or later) into a :class:`LockInfo`."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise EsdcError(f"cannot read: {exc.strerror or exc}", where=path) from exc
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise EsdcError(f"invalid spack.lock JSON: {exc}", where=path, line=line) from exc
    if not isinstance(data, dict) or not isinstance(data.get("concrete_specs"), dict):
        raise EsdcError("not a spack.lock: no 'concrete_specs' mapping", where=path)
    meta = data.get("_meta", {})
    version = meta.get("lockfile-version") if isinstance(meta, dict) else None
    if not isinstance(version, int) or version < 4:
        raise EsdcError(
            f"lockfile-version {version!r} is not supported (4 or later: Spack 0.19+)", where=path
        )
    spack = data.get("spack", {})
    packages = []
    for spec_hash, node in sorted(data["concrete_specs"].items()):
        if not isinstance(node, dict) or "name" not in node or "version" not in node:
            raise EsdcError(f"concrete spec {spec_hash} lacks a name or version", where=path)
        params = node.get("parameters", {})
        variants = {
            str(key): [str(v).lower() if isinstance(v, bool) else str(v) for v in value]
            if isinstance(value, list)
            else [str(value).lower() if isinstance(value, bool) else str(value)]
            for key, value in (params.items() if isinstance(params, dict) else [])
            if not key.endswith("flags") and key != "ldlibs"
        }
        packages.append(
            LockedPackage(
                name=str(node["name"]),
                version=str(node["version"]),
                hash=spec_hash,
                variants=variants,
            )
        )
    roots = [str(root.get("spec", "")) for root in data.get("roots", []) if isinstance(root, dict)]
    nodes = [node for node in data["concrete_specs"].values() if isinstance(node, dict)]
    systems = sorted(
        {
            str(node["arch"]["platform_os"])
            for node in nodes
            if isinstance(node.get("arch"), dict) and "platform_os" in node["arch"]
        }
    )
    compilers = sorted(
        {
            f"{node['compiler']['name']}@{node['compiler']['version']}"
            for node in nodes
            if isinstance(node.get("compiler"), dict)
            and {"name", "version"} <= set(node["compiler"])
        }
    )
    return LockInfo(
        path=path,
        sha256=hashlib.sha256(raw).hexdigest(),
        lockfile_version=version,
        spack_version=spack.get("version") if isinstance(spack, dict) else None,
        spack_commit=spack.get("commit") if isinstance(spack, dict) else None,
        roots=roots,
        packages=packages,
        platform_os=systems,
        compilers=compilers,
    )


def _load_meta(folder: Path) -> EnvMeta:
    path = folder / META
    if not path.is_file():
        return EnvMeta()
    data = read_yaml(path)
    return EnvMeta() if data is None else _validate(EnvMeta, data, path)


def _normalise_spec(text: str) -> tuple[object, ...]:
    """A spec's identity regardless of token order and spacing (``a@1+x~y`` == ``a@1 ~y +x``)."""
    spec = parse_spec(text)
    values = tuple(sorted((key, tuple(sorted(items))) for key, items in spec.values.items()))
    return (
        spec.name,
        spec.version,
        tuple(sorted(spec.enabled)),
        tuple(sorted(spec.disabled)),
        values,
    )


def check_lock_matches(manifest_specs: list[str], lock: LockInfo) -> None:
    """A lock whose roots are not the manifest's specs is stale: installing it would be a lie."""
    wanted = {_normalise_spec(spec): spec for spec in manifest_specs}
    locked = {_normalise_spec(spec): spec for spec in lock.roots}
    missing = sorted(spec for key, spec in wanted.items() if key not in locked)
    extra = sorted(spec for key, spec in locked.items() if key not in wanted)
    if missing or extra:
        raise EsdcError(
            "stale lock: its roots differ from spack.yaml's specs "
            f"(not locked: {missing or 'none'}; locked but not wanted: {extra or 'none'}); "
            "run `spack -e . concretize --force` and commit the new spack.lock",
            where=lock.path,
        )


def load_env(name_or_path: str, *, lock: Path | None = None) -> EnvSpec:
    """Load an environment by name (``spack-envs/NAME``) or folder, with its includes applied.

    Parameters
    ----------
    name_or_path
        Environment name or folder (or the path of its spack.yaml).
    lock
        A spack.lock to use instead of the folder's own; its roots must match the specs.
    """
    return _load_env(name_or_path, lock=lock, seen=())


def _load_env(name_or_path: str, *, lock: Path | None, seen: tuple[str, ...]) -> EnvSpec:
    folder = env_folder(name_or_path)
    key = str(folder.resolve())
    if key in seen:
        raise EsdcError("includes form a cycle", where=folder / META)
    manifest_path = folder / MANIFEST
    spack = _spack_mapping(read_yaml(manifest_path), manifest_path)
    check_manifest_keys(manifest_path.read_text(encoding="utf-8"), manifest_path)
    meta = _load_meta(folder)
    merged: dict[str, Any] = {}
    os_packages: list[str] = []
    final_os_packages: list[str] = []
    for included in meta.includes:
        base = _load_env(
            included if _looks_like_path(included) else str(folder.parent / included),
            lock=None,
            seen=(*seen, key),
        )
        merged = _merge_manifests(merged, base.manifest)
        os_packages += [p for p in base.meta.os_packages if p not in os_packages]
        final_os_packages += [p for p in base.meta.final_os_packages if p not in final_os_packages]
    merged = _merge_manifests(merged, spack)
    os_packages += [p for p in meta.os_packages if p not in os_packages]
    final_os_packages += [p for p in meta.final_os_packages if p not in final_os_packages]
    own_missing = [] if meta.os_packages else list(spack.get("specs", []))
    meta = meta.model_copy(
        update={"os_packages": os_packages, "final_os_packages": final_os_packages}
    )
    lock_path = lock if lock is not None else folder / LOCKFILE
    lock_info = load_lock(lock_path) if lock is not None or lock_path.is_file() else None
    if lock_info is not None:
        check_lock_matches(merged["specs"], lock_info)
    return EnvSpec(
        name=folder.resolve().name,
        folder=folder,
        manifest=merged,
        specs=[parse_spec(spec) for spec in merged["specs"]],
        requirements=_requirements(merged.get("packages", {})),
        meta=meta,
        lock=lock_info,
        own_specs_without_os_packages=own_missing,
    )
