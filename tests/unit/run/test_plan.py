"""Campaign order: logging runs first, then bare/container interleaved with alternating lead."""

from __future__ import annotations

from builder.run.plan import plan_campaign


def test_order_is_debug_then_abba_interleaving() -> None:
    labels = [p.label for p in plan_campaign(["mpi4py"], 3)]
    assert labels == [
        "bare/mpi4py/debug", "container/mpi4py/debug",
        "bare/mpi4py/0", "container/mpi4py/0",
        "container/mpi4py/1", "bare/mpi4py/1",
        "bare/mpi4py/2", "container/mpi4py/2",
    ]  # fmt: skip


def test_every_rep_appears_once_per_mode_and_kinds_are_right() -> None:
    planned = plan_campaign(["a", "b"], 2)
    assert len(planned) == 2 * (2 + 2 * 2)
    assert len({p.label for p in planned}) == len(planned)
    assert {p.kind for p in planned if p.rep == "debug"} == {"debug"}
    assert {p.kind for p in planned if p.rep != "debug"} == {"perf"}
