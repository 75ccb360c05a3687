"""``expect: log:``: a raw line of the router's log (FRR topotests' WatchLog): ``match:`` a regex
at least / exactly N times by the deadline, or ``absent:`` no line for a window (or the phase)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from harness.event import LogLine, Mark
from harness.expectations.base import (
    FINAL_LOG,
    LOG,
    LOG_WINDOWS,
    SHOWN,
    ExpectationKind,
    Judgement,
    Observed,
    Reader,
    Starts,
    items,
)
from harness.scenario import DEFAULT_WITHIN
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

__all__ = ["KIND", "LogExpectation", "check_log", "recount_log"]


@dataclass(frozen=True)
class LogExpectation:
    """A raw line of the router's log (FRR topotests' WatchLog, topotato's AssertLog): ``regex``
    must match a line ``at_least`` times (or exactly ``count``) within ``within`` seconds of the
    mark, or, with ``absent``, no line for ``window`` seconds (None: until the phase ends)."""

    regex: str
    absent: bool = False
    count: int | None = None
    at_least: int = 1
    within: float = DEFAULT_WITHIN
    window: float | None = None
    line: int | None = None

    def describe(self) -> str:
        if self.absent:
            window = f" for {self.window:g}s" if self.window is not None else ""
            return f"no log line matching /{self.regex}/{window}"
        times = f"exactly {self.count}x" if self.count is not None else f"at least {self.at_least}x"
        return f"log line matching /{self.regex}/ {times} within {self.within:g}s"


def defs() -> dict[str, Any]:
    return {
        "logExpectation": {
            "description": "a raw log line: {match: REGEX, within:, count:} or {absent: REGEX, "
            "window:}",
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "match": {"type": "string", "description": "a Python regex over one log line"},
                "absent": {"type": "string", "description": "a regex no log line may match"},
                "count": {"type": "integer", "minimum": 1, "description": "exactly this many"},
                "at_least": {"type": "integer", "minimum": 1},
                "within": {"$ref": "#/$defs/duration"},
                "window": {"$ref": "#/$defs/duration"},
                "comment": {"type": "string"},
            },
        }
    }


def read_one(b: Reader, path: PathKey, item: Mapping[str, Any]) -> LogExpectation:
    """``{match: REGEX, within:, count:}`` or ``{absent: REGEX, window:}``."""
    given = [key for key in ("match", "absent") if key in item]
    if len(given) != 1:
        b.problem(path, f"{b.dotted(path)}: give exactly one of match: or absent:")
    key = given[0] if given else "match"
    regex = str(item.get(key, ""))
    with b.checking(path + (key,)):
        try:
            re.compile(regex)
        except re.error as exc:
            raise ValueError(f"{b.dotted(path)}.{key}: not a regular expression: {exc}") from exc
    absent = key == "absent"
    wrong = ("count", "at_least", "within") if absent else ("window",)
    for name in wrong:
        if name in item:
            b.problem(
                path + (name,),
                f"{b.dotted(path)}: {name}: is for "
                + ("match: (use window: with absent:)" if absent else "absent:"),
                key=True,
            )
    if "count" in item and "at_least" in item:
        b.problem(
            path + ("at_least",),
            f"{b.dotted(path)}: give count: (exact) or at_least:, not both",
            key=True,
        )
    within, window = b.within_and_window(path, item)
    return LogExpectation(
        regex=regex,
        absent=absent,
        count=item.get("count"),
        at_least=item.get("at_least", 1),
        within=within,
        window=window,
        line=b.line(path),
    )


def read(b: Reader, path: PathKey, value: Any) -> dict[str, Any]:
    return {"log": tuple(read_one(b, path + (i,), item) for i, item in enumerate(value or ()))}


def check_log(exp: LogExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """A raw log line matching ``exp.regex``: at least / exactly N by the deadline (decided as
    soon as enough arrived), or, with ``absent``, none in the window (failed at the first)."""
    regex = re.compile(exp.regex)
    if exp.absent:
        end = obs.window_end(mark, exp.window) if exp.window is not None else obs.clock()
    else:
        end = obs.deadline(mark, exp.within)
    wanted = 1 if exp.absent else (exp.count if exp.count is not None else exp.at_least)
    found: list[LogLine] = []

    def enough() -> bool:
        found[:] = [
            line
            for line in obs.stream.log_lines(mark.time)
            if line.seen <= end and regex.search(line.text)
        ]
        return len(found) >= wanted

    if exp.absent and exp.window is None:
        enough()  # until the phase ends: what was seen so far (judged last, in finish())
    else:
        obs.stream.wait_until(lambda: enough() or obs.router_gone(), end)
        enough()
    if exp.absent:
        passed = not found
        observed = (
            "none"
            if passed
            else f"{found[0].text.strip()[:160]!r} at {obs.ms(found[0].seen, mark)}"
        )
        at = found[0].seen if found else end
    else:
        passed = len(found) >= wanted and (exp.count is None or len(found) == exp.count)
        if found:
            shown = "; ".join(
                f"{line.text.strip()[:120]!r} at {obs.ms(line.seen, mark)}"
                for line in found[:SHOWN]
            )
            observed = f"{len(found)}x: {shown}"
        else:
            lines = obs.stream.log_lines(mark.time)
            tail = f"; last line: {lines[-1].text.strip()[:160]!r}" if lines else ""
            observed = f"no such line ({len(lines)} lines read){tail}{obs.router_note()}"
        at = found[wanted - 1].seen if passed else end
    return ExpectationResult(exp.describe(), passed, exp.describe(), observed, exp.line, "log", at)


def recount_log(
    exp: LogExpectation, obs: Observed, mark: Mark, result: ExpectationResult
) -> ExpectationResult:
    """At the phase's end: an exact count of lines must not have been exceeded."""
    if exp.absent or exp.count is None or not result.passed:
        return result
    regex = re.compile(exp.regex)
    found = [line for line in obs.stream.log_lines(mark.time) if regex.search(line.text)]
    if len(found) == exp.count:
        return result
    return replace(result, passed=False, observed=f"{len(found)}x by the end of the phase")


def _stage(exp: LogExpectation) -> int:
    if not exp.absent:
        return LOG
    return LOG_WINDOWS if exp.window else FINAL_LOG


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    """Lines that must come early; absences with a window after the event windows; absences
    over the whole phase at its end. Measured from the phase's mark (log: has no from:)."""
    mark = starts.mark
    return [
        Judgement(
            _stage(exp),
            exp,
            lambda exp=exp: check_log(exp, obs, mark),
            lambda result, exp=exp: recount_log(exp, obs, mark, result),
        )
        for exp in container.log
    ]


KIND = ExpectationKind(
    rank=70,
    key="log",
    schema=lambda: items("logExpectation"),
    defs=defs,
    read=read,
    judge=judge,
    absence=lambda spec: spec.get("absent") is True,
)
