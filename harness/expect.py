"""Judges a scenario's expectations against what the router did: events, packets, state, exit.

Every check waits on the run's shared Condition (events, packets and process exits all notify
it) with a deadline measured from a ``Mark``, the moment the fault was applied (or the router
started, or the faults were cleared, for recovery). An expectation with ``from: ID`` is measured
from the moment that traffic item was done instead: ``Starts`` asks the runner for that mark
(``TrafficStart``), so the same checks judge it. Deadlines (``within``) are stretched by
``slow``; "must not happen" windows are not (they measure the router's timers). Only
what was seen by its deadline counts, so a check judged after its window closed (the checks run
one after another) still judges that window. A check that can be decided early is (an expected
event arrives, a forbidden one appears); only absence windows and "none" packet windows run to
their end.

Exact counts and absences without a window are judged over the whole phase: the first part of
an exact count is awaited like ``at_least``, and ``finish()`` checks at the phase's end that no
more arrived, so no check needs a settle sleep of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from harness.event import Mark
from harness.expectations import KINDS, ExpectationKind
from harness.expectations.absent import check_absence
from harness.expectations.base import (
    FINAL,
    Clock,
    Judgement,
    Observed,
    Starts,
    StateReader,
    TrafficStart,
    event_matches,
)
from harness.expectations.events import check_event, recount_event
from harness.expectations.log import check_log, recount_log
from harness.expectations.order import check_order
from harness.expectations.packets import check_packets, recount_packets, selects, violations
from harness.expectations.recovery import RecoveryExpectation
from harness.expectations.router import check_router
from harness.expectations.state import check_state, state_mismatches
from harness.scenario import Expectations
from harness.verdict import ExpectationResult

__all__ = [
    "Clock",
    "Observed",
    "StateReader",
    "Starts",
    "TrafficStart",
    "check_absence",
    "check_event",
    "check_log",
    "check_order",
    "check_packets",
    "check_router",
    "check_state",
    "evaluate",
    "evaluate_recovery",
    "event_matches",
    "finish",
    "latency",
    "recount_event",
    "recount_log",
    "recount_packets",
    "selects",
    "state_mismatches",
    "violations",
]


def judgements(
    container: Any, obs: Observed, starts: Starts, kinds: Sequence[ExpectationKind]
) -> list[Judgement]:
    """The judgements of a phase by ``kinds``, in the order they are judged (stage, then the
    registry's order, then the file's)."""
    found = [j for kind in kinds for j in kind.judge(container, obs, starts)]
    return sorted(found, key=lambda judgement: judgement.stage)


def evaluate(
    expect: Expectations, obs: Observed, mark: Mark, traffic_start: TrafficStart | None = None
) -> list[ExpectationResult]:
    """The fault phase: every expectation except recovery, decided as early as each allows.

    Each is measured from ``mark``, or, with ``from: ID``, from ``traffic_start(ID)``.
    """
    return finish(expect, obs, Starts(mark, traffic_start), tuple(KINDS.values()))


def finish(
    expect: Expectations | RecoveryExpectation,
    obs: Observed,
    starts: Starts,
    kinds: Sequence[ExpectationKind],
) -> list[ExpectationResult]:
    """A phase judged by ``kinds``: the early judgements; then, at its end, exact counts
    re-checked and the judgements of the end (window-less absences, order)."""
    planned = judgements(expect, obs, starts, kinds)
    early = [(j, j.check()) for j in planned if j.stage < FINAL]
    final = [j.recount(result) if j.recount else result for j, result in early]
    return final + [j.check() for j in planned if j.stage >= FINAL]


def evaluate_recovery(
    recovery: RecoveryExpectation, obs: Observed, mark: Mark
) -> list[ExpectationResult]:
    """After every fault was cleared: the recovery expectations, measured from the last clear."""
    starts = Starts(mark)  # recovery has no from: (the loader refuses it)
    return [
        replace(result, description="recovery: " + result.description, kind="recovery")
        for result in finish(recovery, obs, starts, recovery_kinds())
    ]


def recovery_kinds() -> tuple[ExpectationKind, ...]:
    """The kinds ``recovery:`` may hold (``in_recovery``): the only ones judged after the clear."""
    return tuple(kind for kind in KINDS.values() if kind.in_recovery)


def latency(expect: Expectations, obs: Observed, mark: Mark) -> float | None:
    """Fault applied -> the first expected event seen by the harness, in seconds."""
    if not expect.events:
        return None
    first = expect.events[0].event
    found = next((e for e in obs.stream.snapshot(mark) if event_matches(first, e)), None)
    return None if found is None else found.seen - mark.time
