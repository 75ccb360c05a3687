"""Scenario files: the typed model a YAML scenario becomes (harness.scenario_loader builds it).

The format is documented in docs/scenario-format.md; its JSON Schema is built by
harness/schema.py and shipped as harness/schema.json. A scenario says what to build (topology),
which router to run, what to break and when (faults), which stimuli hosts send (traffic) and what
must be observed (expectations: ``Expectations`` holds them; each kind's item model lives in its
module of harness.expectations). Every item keeps the ``line`` it came from, so that a failed
expectation can point at the file.

Loading (``harness.scenario_loader.load``) is strict and never half-done: it either returns a
complete ``Scenario`` or raises ``harness.errors.ScenarioError`` listing every problem as ``file:line:column: message``. Nothing is
built while loading (no namespace, no process): fault parameters and the topology are only
checked, never applied.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, Any, Literal

from harness import catalog
from harness.errors import lab_boundary
from netns.topology import Topology

if TYPE_CHECKING:
    from harness.expectations.absent import AbsenceExpectation
    from harness.expectations.events import EventExpectation
    from harness.expectations.log import LogExpectation
    from harness.expectations.packets import PacketExpectation
    from harness.expectations.recovery import RecoveryExpectation
    from harness.expectations.router import RouterExpectation
    from harness.expectations.state import StateExpectation
    from harness.faults import FaultRecipe

# Defaults the runner and the docs share (seconds, before --slow stretches them).
DEFAULT_WITHIN = 5.0  # an event or packet expectation without `within:`
DEFAULT_TIMEOUT = 30.0  # a whole scenario without `timeout:`

WhenKind = Literal["before-start", "at", "after", "after-event", "after-traffic", "never"]
InterfaceMode = Literal["router", "internal"]
InterfaceState = Literal["active", "inactive"]
QueryKind = Literal["general", "group", "any"]
TrafficAction = Literal["join", "leave", "query"]

TIMER_NAMES: tuple[str, ...] = (
    "query_interval",
    "query_response_interval",
    "robustness",
    "startup_query_interval",
    "startup_query_count",
    "last_member_query_interval",
    "last_member_query_count",
    "retry_interval",
)
# Timers that are counts, not durations (the router itself judges their range: 41050, 41051).
COUNT_TIMERS: frozenset[str] = frozenset(
    {"robustness", "startup_query_count", "last_member_query_count"}
)


# --------------------------------------------------------------------------------------------
# The model
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EventMatcher:
    """Which events match: the catalog event, and optionally its interface, errno and strings.

    Used by fault and traffic triggers (``when: {after: {event: 41052, interface: e1}}``,
    ``after: {event: 41052, interface: e1}``) and as the common part of every event expectation.
    """

    id: int
    symbol: str
    interface: str | None = None
    errno: int | None = None  # resolved Linux errno number
    errno_text: str | None = None  # what the user wrote: "EADDRINUSE", "98", "10048"
    level: str | None = None
    strings: tuple[str, ...] = ()
    name: str | None = None  # an event of the router profile's own vocabulary (``event:``)

    def matches(self, record: Mapping[str, Any]) -> bool:
        """True when an event record (docs/architecture.md section 3) satisfies this matcher."""
        if self.name is not None:
            if record.get("event") != self.name:
                return False
        elif record.get("id") != self.id:
            return False
        if self.interface is not None and record.get("interface") != self.interface:
            return False
        if self.errno is not None and record.get("errno") != self.errno:
            return False
        if self.level is not None and record.get("level") != self.level:
            return False
        seen = tuple(str(item) for item in record.get("strings") or ())
        return all(text in seen for text in self.strings)

    def describe(self) -> str:
        """Short human form: "41028 IGMPLOG_SET_MCAST_IF_FAILED on e0 errno EADDRINUSE" (a
        profile's own event by its name: "cannot-join on e0")."""
        parts = [self.name] if self.name else [f"{self.id} {self.symbol}"]
        if self.interface:
            parts.append(f"on {self.interface}")
        if self.errno is not None:
            parts.append(f"errno {catalog.errno_name(self.errno)}")
        if self.level:
            parts.append(f"level {self.level}")
        if self.strings:
            parts.append("strings " + ", ".join(self.strings))
        return " ".join(parts)


@dataclass(frozen=True)
class When:
    """When a fault is applied or cleared, or a traffic item is done.

    kind:
      before-start  prepared before the router starts (the default for ``when:``)
      at            ``seconds`` after the router started
      after         ``seconds`` after the fault was applied (only for ``clear:``)
      after-event   when an event matching ``event`` is seen, plus ``seconds`` (0 by default)
      after-traffic ``seconds`` after the traffic item whose ``id`` is ``traffic`` was done
                    (only for traffic: the stimulus that must come first, e.g. a join)
      never         not at all (the default for ``clear:``)
    """

    kind: WhenKind
    seconds: float = 0.0
    event: EventMatcher | None = None
    line: int | None = None
    traffic: str | None = None

    def describe(self) -> str:
        delay = f" + {self.seconds:g}s" if self.seconds else ""
        if self.kind == "at":
            return f"at {self.seconds:g}s"
        if self.kind == "after":
            return f"{self.seconds:g}s after it was applied"
        if self.kind == "after-event" and self.event is not None:
            return f"after {self.event.describe()}{delay}"
        if self.kind == "after-traffic":
            return f"after traffic {self.traffic}{delay}"
        return self.kind


BEFORE_START = When("before-start")
NEVER = When("never")


@dataclass(frozen=True)
class TopologySpec:
    """The ``topology:`` mapping (docs/architecture.md section 1), and what the loader read from it.

    ``data`` is the mapping exactly as written (give it to ``netns.Topology.from_dict``);
    ``parsed`` is that Topology when netns could parse it while loading, else None;
    ``interfaces`` maps each node to the interface names the topology gives it.
    """

    data: Mapping[str, Any]
    interfaces: Mapping[str, tuple[str, ...]]
    parsed: Any = None
    line: int | None = None

    @property
    def nodes(self) -> tuple[str, ...]:
        return tuple(self.interfaces)

    def build(self) -> Any:
        """The netns Topology for this mapping (parsed again if it was not kept)."""
        if self.parsed is not None:
            return self.parsed
        with lab_boundary():
            return Topology.from_dict(dict(self.data))


@dataclass(frozen=True)
class InterfaceSpec:
    """One interface the router runs on, in the catalog's modes (router, or internal RAS)."""

    name: str
    mode: InterfaceMode = "router"
    static_groups: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True)
class CommandPattern:
    """For ``kind: command``: a regex over the router's log lines and the event it stands for."""

    match: str
    id: int
    symbol: str
    interface: str | None = None  # a literal, or "{name}" of a regex group
    errno: str | None = None  # a literal, or "{name}" of a regex group
    strings: tuple[str, ...] = ()  # each a literal or "{name}"
    line: int | None = None


@dataclass(frozen=True)
class RouterSpec:
    """The router under test: which adapter, on which node and interfaces, with which timers.

    ``timers`` holds the timers that were given, durations in seconds and counts as numbers
    (names in TIMER_NAMES). ``argv``, ``patterns`` and ``ready`` are for ``kind: command``;
    ``extra`` keeps adapter-specific keys (``options:``) for adapters other than igmpd.
    ``profile`` is the router profile file a scenario names (``profile:``, or ``kind:`` found on
    the profile path); ``addresses`` are the router's interface addresses from the topology
    (what a profile's config template sees).
    """

    kind: str = "igmpd"
    node: str = ""
    interfaces: tuple[InterfaceSpec, ...] = ()
    version: int = 3
    timers: Mapping[str, float] = field(default_factory=dict)
    multicast_routing: str = "auto"  # igmpd: auto | on | off (docs/igmpd.md)
    argv: tuple[str, ...] = ()
    patterns: tuple[CommandPattern, ...] = ()
    ready: EventMatcher | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None
    profile: str | None = None  # the router profile's file (docs/your-router.md), resolved
    addresses: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # interface -> ADDR/LEN

    @property
    def interface_names(self) -> tuple[str, ...]:
        return tuple(interface.name for interface in self.interfaces)

    @property
    def label(self) -> str:
        """The router's name for people: its kind, or for ``kind: command`` its program's name
        (argv[0]'s basename; for an interpreter, its script's: ``myquerier``, not ``python3``).
        """
        if self.kind != "command" or not self.argv:
            return self.kind
        words = [PurePath(str(word)).name for word in self.argv]
        if not INTERPRETER.fullmatch(words[0]):
            return words[0] or self.kind
        script = next(
            (w for w in words[1:] if not w.startswith("-") and not INTERPRETER.fullmatch(w)), None
        )
        return PurePath(script).stem if script else words[0]


#: Programs that run a script (the router's name is then the script's).
INTERPRETER = re.compile(r"(python|perl|ruby|node|bash|sh|dash|env)[0-9.]*")


@dataclass(frozen=True)
class FaultSpec:
    """One fault to inject: its kind (a row family of the fault table), where, when, until when.

    ``params`` are the fault's own parameters (interface, errno, nth ...) exactly as written;
    ``recipe`` is what the loader resolved them into (harness.faults.resolve: the fault class and
    its checked parameters), which the runner instantiates (harness.faults.instantiate).
    """

    kind: str
    node: str
    when: When = BEFORE_START
    clear: When = NEVER
    params: Mapping[str, Any] = field(default_factory=dict)
    line: int | None = None
    recipe: FaultRecipe | None = field(default=None, compare=False, repr=False)

    @property
    def interface(self) -> str | None:
        value = self.params.get("interface")
        return value if isinstance(value, str) else None

    def mapping(self) -> dict[str, Any]:
        """The fault as ``harness.faults.make_fault`` takes it: kind plus its own parameters."""
        return {"kind": self.kind, **self.params}

    def describe(self) -> str:
        where = f" on {self.node}:{self.interface}" if self.interface else f" on {self.node}"
        clear = "" if self.clear.kind == "never" else f", cleared {self.clear.describe()}"
        return f"{self.kind}{where}, {self.when.describe()}{clear}"


@dataclass(frozen=True)
class TrafficSpec:
    """A stimulus from a host: join or leave a group, or send a general query of some version.

    It is done ``at`` seconds after the router started, or, when ``after`` is set, when that
    trigger is met: an event of the router (``after-event``, as faults' ``when:``) or another
    traffic item done (``after-traffic``, by its ``id``), plus the trigger's delay.
    """

    node: str
    action: TrafficAction
    ifname: str
    at: float = 0.0
    group: str | None = None  # join, leave
    source: str | None = None  # IGMPv3 source-specific join
    igmp_version: int | None = None
    line: int | None = None
    id: str | None = None  # a name other traffic items' ``after: {traffic: ID}`` refer to
    after: When | None = None  # kind after-event or after-traffic; None: ``at``

    def describe(self) -> str:
        """Short human form: "h2:e0 join 239.1.1.1 after 41052 ... on e1"."""
        what = self.group or f"a v{self.igmp_version or 3} general query"
        when = self.after.describe() if self.after is not None else f"at {self.at:g}s"
        return f"{self.node}:{self.ifname} {self.action} {what} {when}"


@dataclass(frozen=True)
class Expectations:
    """Everything a scenario must observe. ``order`` lists event ids that must appear in order."""

    events: tuple[EventExpectation, ...] = ()
    order: tuple[int, ...] = ()
    absent: tuple[AbsenceExpectation, ...] = ()
    packets: tuple[PacketExpectation, ...] = ()
    state: StateExpectation | None = None
    router: RouterExpectation | None = None
    recovery: RecoveryExpectation | None = None
    order_line: int | None = None
    log: tuple[LogExpectation, ...] = ()
    # the registered kinds (harness.expectations) that have no field here, by their key
    others: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    """One scenario file, loaded and checked. ``path`` is the file it came from."""

    name: str
    path: Path
    topology: TopologySpec
    router: RouterSpec
    expect: Expectations
    description: str = ""
    tags: tuple[str, ...] = ()
    faults: tuple[FaultSpec, ...] = ()
    traffic: tuple[TrafficSpec, ...] = ()
    timeout: float = DEFAULT_TIMEOUT
    data: Mapping[str, Any] = field(default_factory=dict)  # the document as written

    @property
    def slug(self) -> str:
        """A file-system and test-id friendly name: the file's stem ("mrt-held")."""
        return slugify(self.path.stem if self.path.name else self.name)

    @property
    def expected_event(self) -> EventExpectation | None:
        """The first event expectation: the one a report shows as "the" expected event."""
        return self.expect.events[0] if self.expect.events else None

    def resolved(self) -> dict[str, Any]:
        """The scenario after defaults and resolution, as plain data (the artifact "scenario.json")."""
        plain = _plain(dataclasses.asdict(_without_parsed(self)))
        _drop_empty_others(plain["expect"])
        return plain


def slugify(text: str) -> str:
    """Lowercase words joined by '-', safe as a folder name and a pytest id."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "scenario"


def _without_parsed(scenario: Scenario) -> Scenario:
    topology = dataclasses.replace(scenario.topology, parsed=None)
    return dataclasses.replace(scenario, topology=topology, data={})


def _drop_empty_others(expect: dict[str, Any]) -> None:
    """``others`` appears in scenario.json only when a kind of no field of its own was read."""
    for block in (expect, expect.get("recovery") or {}):
        if not block.get("others", True):
            del block["others"]


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(key): _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, Path):
        return str(value)
    return value
