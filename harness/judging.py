"""A live session's actions and its judging (the runner's second half).

``schedule(live)`` puts the scenario's scheduled faults (apply and clear) and traffic on the
scheduler thread (harness/schedule.py); ``judge(live)`` waits for the faults to be applied
(the mark expectations are measured from), judges every expectation in its phases (the traffic
items' ``from: ID`` through ``TrafficStarts``), clears the faults for recovery, and adds the
stimuli that never happened. The session itself (build, start, tear down) is harness/runner.py.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.errors import HarnessBug
from harness.event import Mark
from harness.events import EventStream
from harness.expect import evaluate, evaluate_recovery
from harness.scenario import TrafficSpec
from harness.schedule import Action, Scheduler, action_for
from harness.verdict import ExpectationResult

if TYPE_CHECKING:  # the session is the runner's; this module only reads it
    from harness.runner import PlannedFault, Session


def schedule(live: Session) -> None:
    """Scheduled faults (apply and clear) and traffic, run by the scheduler thread."""
    assert live.stream is not None and live.started_at is not None
    scheduler = Scheduler(live.stream, live.started_at, live.record)
    for planned in live.faults:
        _plan_fault(live, scheduler, planned)
    _plan_traffic(live, scheduler)
    live.scheduler = scheduler
    scheduler.start()
    live.stack.push("stop the scheduler", scheduler.stop)


def _bind(fn: Callable[[Any], str | None], arg: Any) -> Callable[[], str | None]:
    return lambda: fn(arg)


def _plan_traffic(live: Session, scheduler: Scheduler) -> None:
    """One action per traffic item: at a time, after a router event, or after an earlier item
    (the loader checked that every ``after: {traffic: ID}`` names an earlier item)."""
    assert live.traffic is not None
    by_id: dict[str, Action] = {}
    for item in live.scenario.traffic:
        do = _bind(live.traffic.perform, item)
        label = f"traffic {item.action}"
        if item.after is None:
            action = Action(label, "traffic", do, at=item.at)
        else:
            action = action_for(label, "traffic", do, item.after, earlier=by_id)
        live.traffic_actions.append((item, scheduler.add(action)))
        if item.id:
            by_id[item.id] = action


def _traffic_problems(live: Session) -> list[ExpectationResult]:
    """Traffic items that failed, and triggered ones whose trigger never came: the scenario's
    stimulus did not happen, which the expectations alone would report only as a symptom."""
    assert live.stream is not None and live.started_at is not None
    problems = []
    for item, action in live.traffic_actions:
        if action.error is not None:
            observed = f"failed: {action.error}"
        elif not action.done and action.due_time(live.stream, live.started_at) is None:
            assert item.after is not None  # a timed item is always due
            observed = f"never done: its trigger ({item.after.describe()}) never came"
        else:
            continue
        at = action.mark.time if action.mark else live.stream.clock()
        problems.append(
            ExpectationResult(
                f"traffic {item.describe()}", False, "done", observed, item.line, "traffic", at
            )
        )
    return problems


def _plan_fault(live: Session, scheduler: Scheduler, planned: PlannedFault) -> None:
    spec = planned.spec

    def apply() -> str:
        planned.fault.apply(live.context_for(spec))
        since = " (in force since the router's start)" if planned.fault.in_force_at_launch() else ""
        return f"applied {spec.describe()}{since}"

    def clear() -> str:
        planned.fault.clear(live.context_for(spec))
        return f"cleared {spec.kind}"

    if spec.when.kind != "before-start":
        planned.apply = scheduler.add(
            action_for(f"fault {spec.kind} applied", "fault", apply, spec.when)
        )
    if spec.clear.kind not in ("never", "before-start"):
        label = f"fault {spec.kind} cleared"
        planned.clear = scheduler.add(
            action_for(label, "fault", clear, spec.clear, applied=planned.apply)
        )


# -- judging -----------------------------------------------------------------------------------


def _fault_mark(live: Session) -> Mark:
    """The mark expectations are measured from: the last fault applied, else the router start."""
    assert live.stream is not None and live.scheduler is not None and live.started_at is not None
    scheduled = [p.apply for p in live.faults if p.apply is not None]
    deadline = live.started_at + live.scenario.timeout * live.options.slow
    if scheduled and not live.scheduler.wait(scheduled, deadline):
        pending = ", ".join(a.label for a in scheduled if not a.done)
        live.problems.append(
            ExpectationResult("faults applied", False, "every fault applied", f"never: {pending}")
        )
    for action in scheduled:
        if action.error is not None:
            live.problems.append(_action_failed(action))
    marks = [a.mark for a in scheduled if a.mark is not None]
    if marks:
        return max(marks, key=lambda m: m.time)
    return Mark(0, live.started_at, "the router's start")


@dataclass(frozen=True)
class TrafficStarts:
    """Resolves an expectation's ``from: ID`` to the mark of the moment that traffic item was
    done (``expect.TrafficStart``), waiting for it while it can still come: until the scenario's
    deadline, or until its trigger can no longer come (an event trigger once the router is gone).
    """

    stream: EventStream
    actions: Sequence[tuple[TrafficSpec, Action]]
    start: float  # the router's start (monotonic)
    deadline: float  # the scenario's timeout from the start
    router_gone: Callable[[], bool] = lambda: False

    def __call__(self, name: str) -> Mark | str:
        found = next(((i, a) for i, a in self.actions if i.id == name), None)
        if found is None:  # the loader checks every from: against the traffic ids
            raise HarnessBug(f"from: {name!r} names no traffic item of this scenario")
        item, action = found
        self.stream.wait_until(lambda: action.done or not self._may_come(action), self.deadline)
        if action.mark is not None:
            return replace(action.mark, label=f"traffic {name!r}")
        if item.after is None:
            return f"traffic {name!r} never ran (it was due at {item.at:g}s)"
        return f"traffic {name!r} never ran (its trigger ({item.after.describe()}) never came)"

    def _may_come(self, action: Action) -> bool:
        """Whether ``action`` can still run (an event trigger only while the router runs)."""
        return action.may_come(self.stream, self.start, lambda: not self.router_gone())


def _traffic_starts(live: Session) -> TrafficStarts:
    """The session's resolver of ``from: ID``: its traffic actions, within its timeout."""
    assert live.stream is not None and live.started_at is not None
    return TrafficStarts(
        live.stream,
        live.traffic_actions,
        live.started_at,
        live.started_at + live.scenario.timeout * live.options.slow,
        live.observed().router_gone,
    )


def _action_failed(action: Action) -> ExpectationResult:
    return ExpectationResult(
        action.label,
        False,
        "done",
        f"failed: {action.error}",
        kind="fault",
        at=action.mark.time if action.mark else None,
    )


def _clear_mark(live: Session) -> Mark:
    """Clear every fault (scheduled clears are awaited, the others cleared now); the last mark."""
    assert live.stream is not None and live.scheduler is not None and live.started_at is not None
    scheduled = [p.clear for p in live.faults if p.clear is not None]
    deadline = live.started_at + live.scenario.timeout * live.options.slow
    live.scheduler.wait(scheduled, deadline)
    marks = [a.mark for a in scheduled if a.mark is not None]
    for planned in live.faults:
        if planned.clear is None:
            mark = live.stream.mark(f"fault {planned.spec.kind} cleared")
            planned.fault.clear(live.context_for(planned.spec))
            live.record(mark.time, "fault", f"cleared {planned.spec.kind}")
            marks.append(mark)
    live.problems += [_action_failed(a) for a in scheduled if a.error is not None]
    return max(marks, key=lambda m: m.time) if marks else live.stream.mark("no fault")


def judge(live: Session) -> tuple[list[ExpectationResult], Mark]:
    """Every expectation of the scenario, in its phases; and the fault mark."""
    expect = live.scenario.expect
    observed = live.observed()
    mark = _fault_mark(live)
    results = evaluate(expect, observed, mark, _traffic_starts(live))
    if expect.recovery is not None:
        clear_mark = _clear_mark(live)
        results += evaluate_recovery(expect.recovery, observed, clear_mark)
    return live.problems + _traffic_problems(live) + results, mark
