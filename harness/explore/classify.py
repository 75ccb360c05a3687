"""Classify a router's reaction to one fault, in the catalog's terms (issue 15).

    exit N / crash (signal)  the router ended (a signal: crash)
    reported    it logged an event naming the injected errno, on the site's interface
    vague       its behaviour broke and it logged an error without the errno, or on another
                interface
    silent      its behaviour broke (an interface stopped querying or learning joins, or a
                healthy interface was affected) and it logged nothing
    tolerated   its behaviour did not change (an EINTR retried), whether or not it logged;
                only where something was judged (a query, the state, a join)
    unjudged    the fault fired, the router ran on, logged no error naming it, and nothing
                could be judged on the site's interface (no query there in the healthy run,
                no state report ...): the reason is kept, never "tolerated"
    unreached   the run never made the call: the fault did not fire (nothing to judge)

An error line no pattern maps (harness.routers.unmapped) is a line the router did write: with
behaviour broken it makes the cell ``vague``, never ``silent``, and every cell lists such lines.

then, after the fault is cleared, ``recovered`` or not. The function is pure: it reads an
Observation that harness.explore.run filled while the router ran.
"""

from __future__ import annotations

import signal
from dataclasses import asdict, dataclass, field
from typing import Any

from harness.catalog import FAILURE_IDS

ERROR_IDS = FAILURE_IDS  # the catalog's: socket steps' events and 41055
ERROR_LEVELS = frozenset({"Error", "Warning"})
FATAL = ("exit", "crash")
GOOD = ("reported", "tolerated")
CLASSES = (
    "reported", "tolerated", "vague", "silent", "exit", "crash", "unjudged", "unreached", "error",
)  # fmt: skip


@dataclass
class Observation:
    """What the router did under one fault (filled by harness.explore.run)."""

    fault: str  # PlannedFault.id
    site: str
    errno: str
    interface: str | None  # the site's interface (None: any)
    router: str = ""
    hit: bool = False
    hits: int = 0
    hit_ms: float | None = None  # after the router's start
    hit_times_ms: list[float] = field(default_factory=list)  # each failed call, after the start
    exit_status: int | None = None
    events: list[dict[str, Any]] = field(default_factory=list)  # error events after the hit
    broken: list[str] = field(default_factory=list)  # what broke on the site's interface
    collateral: list[str] = field(default_factory=list)  # healthy interfaces that broke
    recovered: bool | None = None
    recovery: str = ""  # what recovery showed (or why it was not judged)
    error: str | None = None  # the harness could not run the fault
    folder: str = ""  # the run's artifacts, relative to the exploration's folder
    duration: float = 0.0
    failed_positions: list[int] = field(default_factory=list)
    outcome: str = ""
    line: str = ""
    judged: list[str] = field(default_factory=list)  # checks made on the site's interface(s)
    unjudged: str = ""  # why nothing could be judged there
    unmapped: list[str] = field(default_factory=list)  # error lines no pattern maps (new ones)
    log: list[str] = field(default_factory=list)  # the router's last lines

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Observation:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})

    @property
    def word(self) -> str:
        """The class alone (``exit``, ``crash``, ``reported`` ...), for colours and counts."""
        return self.outcome.split()[0] if self.outcome else ""


def _errno_number(name: str) -> int:
    import errno as errno_mod

    return int(getattr(errno_mod, name))


def is_error(event: dict[str, Any]) -> bool:
    """An event that tells of a failure: an error or warning, a socket-operation event, an
    errno."""
    return (
        event.get("level") in ERROR_LEVELS
        or event.get("id") in ERROR_IDS
        or event.get("errno") is not None
    )


def names_it(event: dict[str, Any], errno: int, interface: str | None) -> bool:
    """The event names the injected errno on the site's interface (any, for a global site)."""
    if event.get("errno") != errno:
        return False
    return interface is None or event.get("interface") == interface


def classify(obs: Observation) -> tuple[str, str]:
    """The outcome word(s) and the router's own log line that decided it."""
    if obs.error is not None:
        return "error", obs.error
    if not obs.hit:
        return "unreached", "the run never made this call"
    errno = _errno_number(obs.errno)
    right = [e for e in obs.events if names_it(e, errno, obs.interface)]
    errors = [e for e in obs.events if is_error(e)]
    first = (right or errors or [{}])[0].get("line", "")
    if obs.exit_status is not None:
        return _ended(obs.exit_status), first
    if obs.collateral and not any(e.get("interface") in obs.collateral for e in errors):
        return "silent", first or f"nothing logged; {', '.join(obs.collateral)} affected"
    if right:
        return "reported", first
    if not obs.broken:
        if not obs.judged:
            return "unjudged", f"nothing to judge it by: {obs.unjudged or 'no check applies'}"
        return "tolerated", first
    if errors:
        return "vague", first
    if obs.unmapped:
        return "vague", f"no event, but it wrote: {obs.unmapped[0]}"
    said = "no error logged" if obs.log else "nothing logged"
    never = any(problem.startswith("never ready") for problem in obs.broken)
    tail = f"; last lines: {' | '.join(obs.log[-3:])}" if obs.log and never else ""
    return "silent", f"{said}; {', '.join(obs.broken)}{tail}"


def _ended(status: int) -> str:
    if status < 0:
        try:
            return f"crash ({signal.Signals(-status).name})"
        except ValueError:
            return f"crash (signal {-status})"
    return f"exit {status}"


def acceptable(obs: Observation) -> bool:
    """igmpd's acceptance: reported with recovery, or tolerated (unreached: nothing to say)."""
    if obs.word == "tolerated" or obs.word == "unreached":
        return True
    return obs.word == "reported" and obs.recovered is not False


def score(observations: list[Observation]) -> dict[str, Any]:
    """Counts per class and the shares the issue asks for (of the faults that fired)."""
    counts = {name: 0 for name in CLASSES}
    for obs in observations:
        counts[obs.word if obs.word in counts else "error"] += 1
    fired = sum(v for k, v in counts.items() if k not in ("unreached", "error")) or 1
    fatal = counts["exit"] + counts["crash"]
    recovered = sum(1 for o in observations if o.recovered)
    judged = sum(1 for o in observations if o.recovered is not None) or 1
    return {
        "faults": len(observations),
        "counts": counts,
        "reported": round(counts["reported"] / fired, 3),
        "tolerated": round(counts["tolerated"] / fired, 3),
        "vague": round(counts["vague"] / fired, 3),
        "silent": round(counts["silent"] / fired, 3),
        "unjudged": round(counts["unjudged"] / fired, 3),
        "fatal": round(fatal / fired, 3),
        "recovered": round(recovered / judged, 3),
        "score": round((counts["reported"] + counts["tolerated"]) / fired, 3),
    }
