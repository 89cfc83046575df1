"""Render an ImageSpec with the jinja2 templates beside this module: formatting only."""

from __future__ import annotations

import shlex
from functools import cache
from typing import Literal

import jinja2

from builder.errors import EsdcError
from builder.generate.context import build_context
from builder.model.image import ImageSpec

Format = Literal["apptainer", "dockerfile"]
FORMATS: dict[str, str] = {"apptainer": "apptainer.def.j2", "dockerfile": "Dockerfile.j2"}


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("builder.generate", "templates"),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        autoescape=False,  # shell text, not HTML: quoting is done by the context
    )
    env.filters["shquote"] = shlex.quote
    return env


def render(spec: ImageSpec, fmt: str) -> str:
    """The definition text of ``spec`` in ``fmt`` ('apptainer' or 'dockerfile')."""
    if fmt not in FORMATS:
        raise EsdcError(f"unknown format {fmt!r}; known: {', '.join(sorted(FORMATS))}")
    context = build_context(spec)
    template = _environment().get_template(FORMATS[fmt])
    text = template.render(**vars(context))
    # One trailing newline, no trailing blanks: stable bytes for the committed definitions.
    return "\n".join(line.rstrip() for line in text.rstrip("\n").splitlines()) + "\n"
