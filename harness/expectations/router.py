"""``expect: router:``: the router keeps running, or exits (with a given status) in time."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from harness.event import Mark
from harness.expectations.base import ROUTER, ExpectationKind, Judgement, Observed, Reader, Starts
from harness.scenario import DEFAULT_WITHIN
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

__all__ = ["KIND", "RouterExpectation", "check_router"]


@dataclass(frozen=True)
class RouterExpectation:
    """Whether the router keeps running, or exits with a given status."""

    running: bool | None = None
    exit: int | None = None
    within: float = DEFAULT_WITHIN
    line: int | None = None


def schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "running": {"type": "boolean"},
            "exit": {"type": "integer", "minimum": 0, "maximum": 255},
            "within": {"$ref": "#/$defs/duration"},
        },
    }


def read(b: Reader, path: PathKey, data: Mapping[str, Any]) -> dict[str, Any]:
    if data.get("running") is True and "exit" in data:
        b.problem(path, f"{b.dotted(path)}: a router that keeps running has no exit status")
    within = b.deadline(path + ("within",), data["within"]) if "within" in data else DEFAULT_WITHIN
    exp = RouterExpectation(data.get("running"), data.get("exit"), within, b.line(path))
    return {"router": exp}


def check_router(exp: RouterExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """The router keeps running, or exits (with the given status) before the deadline."""
    process = obs.process
    if exp.exit is None and exp.running is not False:
        code = process.poll()
        passed = code is None
        observed = "running" if passed else f"exited with status {code}"
        return ExpectationResult(
            "router keeps running", passed, "running", observed, exp.line, "router", obs.clock()
        )
    deadline = obs.deadline(mark, exp.within)
    obs.stream.wait_exit(process.pid, deadline)
    code = process.poll()
    expected = f"exit with status {exp.exit}" if exp.exit is not None else "exit"
    if code is None:
        observed = f"still running after {exp.within * obs.slow:g}s"
        passed = False
    else:
        observed = f"exited with status {code}"
        passed = exp.exit is None or code == exp.exit
    return ExpectationResult(
        f"router {expected}", passed, expected, observed, exp.line, "router", obs.clock()
    )


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    exp = container.router
    if exp is None:
        return []
    return [Judgement(ROUTER, exp, lambda: check_router(exp, obs, starts.mark))]


KIND = ExpectationKind(rank=60, key="router", schema=schema, read=read, judge=judge, report="one")
