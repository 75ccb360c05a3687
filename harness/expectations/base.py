"""What every expectation kind shares: the kind's spec (``ExpectationKind``), what judges read
(``Observed``), where each expectation is measured from (``Starts``), and the judged steps a kind
hands the phase (``Judgement``).

A kind (one module of harness/expectations/) names its ``expect:`` key, its schema piece, its
reader (YAML value -> model, problems at file:line:column through the loader's helpers), its
judge and how the report draws it. harness.expectations is the registry; the loader, the schema,
the judge (harness.expect) and the report (harness.htmlreport.model) iterate it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from harness.event import Mark
from harness.verdict import ExpectationResult

if TYPE_CHECKING:
    from harness.capture import Capture
    from harness.event import Event
    from harness.events import EventStream
    from harness.routers.base import RouterState
    from harness.scenario import EventMatcher
    from harness.yamlsource import PathKey

Clock = Callable[[], float]
StateReader = Callable[[float], "RouterState | None"]  # deadline -> the router's state now
# A traffic item's id -> the mark when it was done (waiting for it as long as it can still come),
# or why it never ran ("traffic 'leave' never ran (its trigger (...) never came)").
TrafficStart = Callable[[str], "Mark | str"]
SHOWN = 4  # observations listed in an "observed" line

# The order a phase judges in (stable within a stage: the registry's order, then the file's).
# Before FINAL: decided as early as each allows; from FINAL on: judged at the phase's end, after
# exact counts were re-checked (window-less absences, order).
EARLY, STATE, PACKETS, ROUTER, LOG, WINDOWS, LOG_WINDOWS, NONE_WINDOWS = (
    10, 20, 30, 40, 50, 60, 70, 80
)  # fmt: skip
FINAL, FINAL_LOG, FINAL_ORDER = 100, 110, 120


class Reader(Protocol):
    """The loader's helpers a kind's reader uses (harness.scenario_loader's builder)."""

    router: Any
    faults: tuple[Any, ...]

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> None: ...
    def line(self, path: PathKey) -> int | None: ...
    def dotted(self, path: PathKey) -> str: ...
    def checking(self, path: PathKey) -> Any: ...
    def deadline(self, path: PathKey, value: Any, *, what: str = "deadline") -> float: ...
    def within_and_window(
        self, path: PathKey, item: Mapping[str, Any]
    ) -> tuple[float, float | None]: ...
    def matcher(
        self, path: PathKey, item: Mapping[str, Any], *, event: Any = None
    ) -> EventMatcher | None: ...
    def interface(self, path: PathKey, node: str, name: str) -> bool: ...
    def endpoint_ref(self, path: PathKey, text: str) -> tuple[str, str]: ...
    def multicast(self, path: PathKey, text: Any) -> None: ...
    def start_ref(self, path: PathKey, item: Mapping[str, Any]) -> str | None: ...


@dataclass(frozen=True)
class Judgement:
    """One expectation to judge in a phase: at ``stage`` (see EARLY ... FINAL_ORDER), by
    ``check()``; ``recount`` re-checks a passed result at the phase's end (exact counts)."""

    stage: int
    exp: Any
    check: Callable[[], ExpectationResult]
    recount: Callable[[ExpectationResult], ExpectationResult] | None = None


@dataclass(frozen=True, eq=False)
class ExpectationKind:
    """One ``expect:`` key: its schema, reader, judge and report drawing.

    ``schema()`` is the key's JSON Schema (under ``expect:``); ``defs()`` the ``$defs`` items it
    adds; ``patterns`` its string patterns in words (for the messages). ``read(reader, path,
    value)`` returns the model's fields it sets ({key: model}; a key that is no field of
    ``Expectations`` lands in ``Expectations.others``). ``judge(container, obs, starts)`` lists
    its ``Judgement``s. ``observes``: it says something must be observed (``order`` alone does
    not); ``in_recovery``: ``recovery:`` may hold it. ``report``: "list" (items with a line),
    "one" (a mapping with a line) or "" (not drawn); ``absence(spec)``: its window is a "must
    not happen" window; ``lane(spec)``: the timeline lane it is drawn on (None: the events).
    ``rank``: a bundled kind's place in the registry (schema keys, judging within a stage).
    """

    key: str
    schema: Callable[[], dict[str, Any]]
    read: Callable[[Reader, PathKey, Any], dict[str, Any]]
    judge: Callable[[Any, Observed, Starts], list[Judgement]]
    defs: Callable[[], dict[str, Any]] = dict
    patterns: Mapping[str, str] = field(default_factory=dict)
    observes: bool = True
    in_recovery: bool = False
    report: str = "list"
    rank: int = 80  # where a bundled kind is registered (events 10 ... log 70, recovery 90)
    absence: Callable[[Mapping[str, Any]], bool] = lambda spec: False
    lane: Callable[[Mapping[str, Any]], str | None] = lambda spec: None

    def value(self, container: Any) -> Any:
        """This kind's part of an ``Expectations`` (or ``RecoveryExpectation``), or None."""
        if self.key in getattr(type(container), "__dataclass_fields__", {}):
            return getattr(container, self.key)
        return (getattr(container, "others", None) or {}).get(self.key)


def from_text(traffic: str | None) -> str:
    """ " after traffic 'leave'" for an expectation measured from a traffic item, else ""."""
    return f" after traffic {traffic!r}" if traffic else ""


# The registry (harness.expectations re-exports it, with register/unregister): key -> kind.
KINDS: dict[str, ExpectationKind] = {}


def items(ref: str) -> dict[str, Any]:
    """A list of ``$defs/ref`` (the schema of a list kind)."""
    return {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}}


# The event matcher's fields, by reference to the schema's $defs (harness.schema._defs).
EVENT_FIELDS: dict[str, Any] = {
    "id": {"$ref": "#/$defs/eventId"},
    "symbol": {"$ref": "#/$defs/eventSymbol"},
    "interface": {"type": "string", "description": "the interface the event names"},
    "errno": {"$ref": "#/$defs/errno"},
    "level": {"$ref": "#/$defs/level"},
    "strings": {"$ref": "#/$defs/strings"},
    "event": {"$ref": "#/$defs/ownEvent"},
}
START = {"$ref": "#/$defs/from"}  # from: a traffic item's id


# --------------------------------------------------------------------------------------------
# What judges read
# --------------------------------------------------------------------------------------------


@dataclass
class Observed:
    """What expectations read: the event stream, the captures, the router's process and state."""

    stream: EventStream
    captures: Mapping[str, Capture] = field(default_factory=dict)
    slow: float = 1.0
    process: Any = None  # the router's Popen
    read_state: StateReader | None = None
    stderr_path: Any = None  # the router's stderr file, quoted when it exited early

    def router_gone(self) -> bool:
        """True once the router exited and its last lines were read: no more events can come."""
        if self.process is None:
            return False
        exit_seen = self.stream.exits.get(self.process.pid)
        return exit_seen is not None and exit_seen.seen is not None

    def router_note(self) -> str:
        """ "; the router exited with status 2: <last stderr line>" once it is gone, else ""."""
        if not self.router_gone():
            return ""
        code = self.process.poll()
        tail = last_line(self.stderr_path)
        return f"; the router exited with status {code}" + (f": {tail}" if tail else "")

    @property
    def clock(self) -> Clock:
        return self.stream.clock

    def deadline(self, mark: Mark, seconds: float) -> float:
        """The end of a "within" wait: stretched by ``slow`` for slow runners."""
        return mark.time + seconds * self.slow

    def window_end(self, mark: Mark, seconds: float) -> float:
        """The end of a "must not happen" window: never stretched.

        A window measures the router's own timers (its next query, a timer that must not fire),
        which ``--slow`` does not change; stretching it would make a check stricter on a slow
        runner, not looser.
        """
        return mark.time + seconds

    def ms(self, at: float, mark: Mark) -> str:
        return f"+{(at - mark.time) * 1000:.0f} ms"


@dataclass
class Starts:
    """Where each expectation of a phase is measured from: the phase's mark, or, for one with
    ``from: ID``, the moment that traffic item was done (resolved once per id, on first use)."""

    mark: Mark
    traffic_start: TrafficStart | None = None
    _resolved: dict[str, Mark | str] = field(default_factory=dict)

    def of(self, exp: Any) -> Mark | str:
        """The expectation's mark, or why it has none (its traffic item never ran)."""
        name = getattr(exp, "from_traffic", None)
        if name is None:
            return self.mark
        if name not in self._resolved:
            found = self.traffic_start(name) if self.traffic_start else None
            self._resolved[name] = found or f"traffic {name!r} never ran"
        return self._resolved[name]


def judged(
    check: Callable[[Any, Observed, Mark], ExpectationResult],
    exp: Any,
    obs: Observed,
    starts: Starts,
    kind: str,
) -> ExpectationResult:
    """``check(exp, obs, mark)`` from the expectation's own mark; failed when it has none."""
    start = starts.of(exp)
    if isinstance(start, Mark):
        return check(exp, obs, start)
    return ExpectationResult(exp.describe(), False, exp.describe(), start, exp.line, kind)


def recounted(
    recount: Callable[[Any, Observed, Mark, ExpectationResult], ExpectationResult],
    exp: Any,
    obs: Observed,
    starts: Starts,
) -> Callable[[ExpectationResult], ExpectationResult]:
    """The phase-end re-check of ``exp`` from its own mark (none when it had no mark)."""

    def again(result: ExpectationResult) -> ExpectationResult:
        start = starts.of(exp)
        return recount(exp, obs, start, result) if isinstance(start, Mark) else result

    return again


def event_matches(matcher: EventMatcher, event: Event) -> bool:
    """Whether ``event`` is what ``matcher`` describes, read from the Event itself: its id, and
    the interface, errno, level and insertion strings the matcher names (each string anywhere)."""
    return (
        (event.name == matcher.name if matcher.name is not None else event.id == matcher.id)
        and (matcher.interface is None or event.interface == matcher.interface)
        and (matcher.errno is None or event.errno == matcher.errno)
        and (matcher.level is None or event.level == matcher.level)
        and all(text in event.strings for text in matcher.strings)
    )


def listing(events: Sequence[Event], obs: Observed, mark: Mark) -> str:
    """Events as "brief at +N ms; ..." (the first few, then how many more)."""
    shown = [f"{e.brief()} at {obs.ms(e.seen, mark)}" for e in events[:SHOWN]]
    more = f" (+{len(events) - SHOWN} more)" if len(events) > SHOWN else ""
    return "; ".join(shown) + more


def last_line(path: Any) -> str:
    """The last non-empty line of a text file (a router's stderr), shortened; "" if none."""
    try:
        with open(path, "rb") as stream:
            stream.seek(0, 2)
            stream.seek(max(0, stream.tell() - 4096))
            lines = [line for line in stream.read().decode("utf-8", "replace").splitlines() if line]
    except (OSError, TypeError):
        return ""
    return lines[-1][:200] if lines else ""
