"""The edges of generation: load files, then call the pure parts.

``generate_definition`` and ``check_compatibility`` are what ``esdc generate`` and ``esdc check``
call; both raise :class:`EsdcError` for user mistakes (unknown names, bad YAML, stale locks).
"""

from __future__ import annotations

from pathlib import Path

from builder import __version__
from builder.errors import EsdcError
from builder.generate.compat import check, unverified
from builder.generate.imagespec import make_image_spec
from builder.generate.render import render
from builder.model.image import ImageSpec
from builder.profiles import load_env, load_site, project_root


def image_spec(env: str, site: str, *, lock: Path | None = None, force: bool = False) -> ImageSpec:
    """Load ``env`` and ``site`` and decide the image (see :func:`make_image_spec`).

    An incompatible pair is refused (one line naming the first problem) unless ``force``;
    forced definitions carry every problem as a comment at the top.
    """
    root = project_root()
    environment = load_env(env, lock=lock)
    profile = load_site(site)
    problems = check(environment, profile)
    if problems and not force:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise EsdcError(
            f"{environment.name} is incompatible with {profile.name}: {problems[0]}{more}; "
            f"see `esdc check {env} --site {site}`, or --force to write it anyway"
        )
    return make_image_spec(
        environment,
        profile,
        problems=problems,
        generator=__version__,
        root=root,
    )


def generate_definition(
    env: str, site: str, *, lock: Path | None, fmt: str, force: bool = False
) -> str:
    """Render the Apptainer definition (``fmt='apptainer'``) or Dockerfile of ENV at SITE.

    Parameters
    ----------
    env
        Environment name (``spack-envs/ENV``) or folder.
    site
        Site profile name (``site-profiles/SITE.yaml``) or path.
    lock
        A spack.lock to install instead of the environment's own; its roots must match.
    fmt
        'apptainer' or 'dockerfile'.
    force
        Write a definition even when ``esdc check`` finds problems (they become comments).
    """
    return render(image_spec(env, site, lock=lock, force=force), fmt)


def check_compatibility(env: str, site: str) -> list[str]:
    """One line per reason ENV cannot run well at SITE; empty when compatible."""
    return check(load_env(env), load_site(site))


def check_report(env: str, site: str) -> tuple[list[str], list[str]]:
    """(problems, what could not be verified) of ENV at SITE."""
    environment, profile = load_env(env), load_site(site)
    return check(environment, profile), unverified(environment, profile)
