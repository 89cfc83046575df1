"""The analysers every analysis runs, one per library, in the order of ``LIBRARIES``."""

from __future__ import annotations

from types import ModuleType

from builder.logs import impi, libfabric, mpich, nccl, openmpi, pmix, ucx
from builder.logs.base import LineAnalyser
from builder.logs.engine import engine_class

#: The per-library modules; each defines ``Analyser``, ``CODES`` and optionally ``RULES``.
ANALYSER_MODULES: tuple[ModuleType, ...] = (ucx, openmpi, nccl, libfabric, mpich, impi, pmix)

#: The engine-wrapped analyser classes (rule table + reader + guard), in the same order.
ANALYSER_CLASSES: tuple[type[LineAnalyser], ...] = tuple(
    engine_class(module) for module in ANALYSER_MODULES
)


def new_analysers() -> list[LineAnalyser]:
    """Fresh analyser instances (they keep state, so one set per analysis)."""
    return [cls() for cls in ANALYSER_CLASSES]
