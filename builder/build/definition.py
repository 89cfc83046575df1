"""Facts a build needs from a definition or Dockerfile: format, bases, environment, site, lock."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict

DefinitionFormat = Literal["apptainer", "dockerfile"]

_HEADER = re.compile(r"^#\s*esdc:\s*(\S+)\s+for\s+(\S+)", re.MULTILINE)
_DOCKER_FROM = re.compile(r"^\s*FROM\s+(?:--\S+\s+)*(\S+)", re.IGNORECASE | re.MULTILINE)
_APPTAINER_FROM = re.compile(r"^\s*From:\s*(\S+)", re.MULTILINE)
_LOCK_CHECK = re.compile(r"\b([0-9a-f]{64})\s+\S*spack\.lock\b")
# "COPY [--opt]... SRC DEST/spack.lock" (Dockerfile) or "  SRC DEST/spack.lock" (%files).
_LOCK_COPY = re.compile(
    r"^\s*(?:COPY\s+(?:--\S+\s+)*)?(\S+)\s+\S*/spack\.lock\s*$", re.MULTILINE | re.IGNORECASE
)
_COPY = re.compile(r"^\s*(?:COPY|ADD)\s+(.+)$", re.MULTILINE | re.IGNORECASE)


class DefinitionFacts(BaseModel):
    """What a definition says about itself (labels written by ``esdc generate``, FROM lines)."""

    model_config = ConfigDict(frozen=True)

    format: DefinitionFormat
    bases: list[str]
    env: str | None = None
    site: str | None = None
    lock_sha256: str | None = None
    lock_source: str | None = None
    generated: bool = False
    labels: dict[str, str] = {}


def definition_format(path: Path, text: str) -> DefinitionFormat:
    """Apptainer for ``*.def`` or a ``Bootstrap:`` header, else Dockerfile (pure)."""
    if path.suffix == ".def" or re.search(r"^\s*Bootstrap:", text, re.MULTILINE | re.IGNORECASE):
        return "apptainer"
    return "dockerfile"


def _labels(text: str, fmt: DefinitionFormat) -> dict[str, str]:
    labels: dict[str, str] = {}
    if fmt == "dockerfile":
        for line in re.findall(r"^\s*LABEL\s+(.+)$", text, re.MULTILINE | re.IGNORECASE):
            try:
                words = shlex.split(line)
            except ValueError:
                continue
            for word in words:
                key, sep, value = word.partition("=")
                if sep:
                    labels[key] = value
        return labels
    in_labels = False
    for line in text.splitlines():
        if line.startswith("%"):
            in_labels = line.strip() == "%labels"
            continue
        if in_labels and line.strip():
            key, _, value = line.strip().partition(" ")
            labels[key] = value.strip().strip('"')
    return labels


def _label_ending(labels: dict[str, str], suffix: str) -> str | None:
    for key, value in labels.items():
        if key.endswith(suffix) and value and value != "none":
            return value
    return None


def read_facts(path: Path, text: str) -> DefinitionFacts:
    """Read the facts from a definition's text (pure; ``path`` only decides the format)."""
    fmt = definition_format(path, text)
    bases = (_DOCKER_FROM if fmt == "dockerfile" else _APPTAINER_FROM).findall(text)
    labels = _labels(text, fmt)
    header = _HEADER.search(text)
    lock_check = _LOCK_CHECK.search(text)
    return DefinitionFacts(
        format=fmt,
        bases=bases,
        env=_label_ending(labels, ".environment") or (header.group(1) if header else None),
        site=_label_ending(labels, ".site") or (header.group(2).rstrip(",") if header else None),
        lock_sha256=_label_ending(labels, ".lock-sha256")
        or (lock_check.group(1) if lock_check else None),
        lock_source=lock_copy.group(1) if (lock_copy := _LOCK_COPY.search(text)) else None,
        generated=header is not None,
        labels=labels,
    )


def copy_sources(dockerfile_text: str) -> list[str]:
    """Build-context paths that ``COPY``/``ADD`` read (pure); copies from stages are left out.

    Used for the build cache key: an unchanged Dockerfile with a changed input must rebuild.
    """
    sources: list[str] = []
    for args in _COPY.findall(dockerfile_text):
        try:
            words = shlex.split(args)
        except ValueError:
            words = args.split()
        if any(w.startswith("--from") for w in words):
            continue
        paths = [w for w in words if not w.startswith("--")]
        sources.extend(paths[:-1])
    return sources
