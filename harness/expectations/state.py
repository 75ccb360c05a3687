"""``expect: state:``: the router's own state report (interfaces active or inactive, groups
present), re-read on every event or packet until the deadline."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.event import Mark
from harness.expectations.base import STATE, ExpectationKind, Judgement, Observed, Reader, Starts
from harness.scenario import DEFAULT_WITHIN
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

if TYPE_CHECKING:
    from harness.routers.base import RouterState
    from harness.scenario import InterfaceState

__all__ = ["KIND", "StateExpectation", "check_state", "state_mismatches"]


@dataclass(frozen=True)
class StateExpectation:
    """The router's own state report: interfaces active or inactive, groups present."""

    interfaces: Mapping[str, InterfaceState] = field(default_factory=dict)
    groups: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    within: float = DEFAULT_WITHIN
    line: int | None = None


def schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "interfaces": {
                "type": "object",
                "additionalProperties": {"enum": ["active", "inactive"]},
            },
            "groups": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
            "within": {"$ref": "#/$defs/duration"},
        },
    }


def read(b: Reader, path: PathKey, data: Mapping[str, Any]) -> dict[str, Any]:
    node = b.router.node
    for name in data.get("interfaces") or {}:
        b.interface(path + ("interfaces", name), node, name)
    groups: dict[str, tuple[str, ...]] = {}
    for name, addresses in (data.get("groups") or {}).items():
        b.interface(path + ("groups", name), node, name)
        for index, group in enumerate(addresses):
            b.multicast(path + ("groups", name, index), group)
        groups[name] = tuple(str(group) for group in addresses)
    within = b.deadline(path + ("within",), data["within"]) if "within" in data else DEFAULT_WITHIN
    interfaces = dict(data.get("interfaces") or {})
    return {"state": StateExpectation(interfaces, groups, within, b.line(path))}


def state_mismatches(exp: StateExpectation, state: RouterState) -> list[str]:
    """How the router's reported state differs from the expected one."""
    wrong: list[str] = []
    for name, wanted in exp.interfaces.items():
        item = state.interfaces.get(name)
        actual = "absent" if item is None else ("active" if item.active else "inactive")
        if actual != wanted:
            wrong.append(f"{name} {actual} (want {wanted})")
    for name, groups in exp.groups.items():
        item = state.interfaces.get(name)
        have = set(item.groups) if item is not None else set()
        missing = sorted(set(groups) - have)
        if missing:
            wrong.append(f"{name} lacks {', '.join(missing)} (has {sorted(have) or 'none'})")
    return wrong


def check_state(exp: StateExpectation, obs: Observed, since: Mark) -> ExpectationResult:
    """The router's state report matches, re-read on every event/packet until the deadline."""
    description = "router state " + _state_text(exp)
    if obs.read_state is None:
        return ExpectationResult(
            description, False, _state_text(exp), "this router reports no state", exp.line, "state"
        )
    deadline = obs.clock() + exp.within * obs.slow
    observed = "no state report"
    while True:
        state = obs.read_state(deadline)
        if state is not None:
            wrong = state_mismatches(exp, state)
            if not wrong:
                return ExpectationResult(
                    description,
                    True,
                    _state_text(exp),
                    "as expected",
                    exp.line,
                    "state",
                    obs.clock(),
                )
            observed = "; ".join(wrong)
        if obs.clock() >= deadline or not _router_alive(obs):
            return ExpectationResult(
                description, False, _state_text(exp), observed, exp.line, "state", obs.clock()
            )
        _wait_for_activity(obs, deadline)


def _state_text(exp: StateExpectation) -> str:
    parts = [f"{name} {value}" for name, value in exp.interfaces.items()]
    parts += [f"{name} has {', '.join(groups)}" for name, groups in exp.groups.items()]
    return ", ".join(parts) or "(nothing)"


def _router_alive(obs: Observed) -> bool:
    return obs.process is None or obs.process.poll() is None


def _wait_for_activity(obs: Observed, deadline: float) -> None:
    """Block until any event, packet, file change or exit wakes the run (or a short while)."""
    condition = obs.stream.condition
    with condition:
        condition.wait(max(0.0, min(deadline - obs.clock(), 0.1 * obs.slow)))


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    """Judged before packets are awaited: a group learned from a join must be seen before the
    packets that follow (a leave's group queries) let it expire."""
    exp = container.state
    if exp is None:
        return []
    return [Judgement(STATE, exp, lambda: check_state(exp, obs, starts.mark))]


KIND = ExpectationKind(rank=50, key="state", schema=schema, read=read, judge=judge, report="one")
