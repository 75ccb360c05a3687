"""From a YAML file to a checked ``Scenario``: parse, validate against the schema, resolve, check.

Three passes, each collecting every problem before giving up:

1. YAML with positions (harness.yamlsource): syntax errors at their line:column.
2. The JSON Schema (harness.schema): types, unknown keys with a did-you-mean, enums.
3. What a schema cannot say: the topology as netns.topology.check judges it (nodes that must
   exist, interface names, addresses that clash, routes, sysctls; worded here), the names the
   router, traffic and expectations use, errno names and numbers, deadlines that are zero or
   longer than the scenario, faults the fault engine refuses (each resolved once into the recipe the runner
   instantiates: nothing is applied), settings that would touch the host.

``load()`` and ``load_many()`` return the typed model of harness.scenario (which never imports
this module), or raise a ScenarioError listing ``file:line:column: message`` for every problem.
Nothing is built while loading.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import catalog
from harness.errors import FaultParameterError, InputError, Location, ScenarioError
from harness.scenario import (
    BEFORE_START,
    DEFAULT_TIMEOUT,
    DEFAULT_WITHIN,
    NEVER,
    AbsenceExpectation,
    CommandPattern,
    EventExpectation,
    EventMatcher,
    Expectations,
    FaultSpec,
    InterfaceSpec,
    LogExpectation,
    PacketExpectation,
    RecoveryExpectation,
    RouterExpectation,
    RouterSpec,
    Scenario,
    StateExpectation,
    TopologySpec,
    TrafficSpec,
    When,
)
from harness.schema import OWN_EVENT_PATTERN, TIMERS, validate
from harness.yamlsource import PathKey, Source, parse
from netns.topology import NAMESPACED_SYSCTLS
from netns.topology import Problem as TopologyProblem
from netns.topology import check as check_topology

if TYPE_CHECKING:
    from harness.faults import FaultRecipe

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$")
MAX_IFNAME = 15
DEFAULT_QUERY_INTERVAL = 125.0  # RFC 3376 defaults, as igmpd uses them
_OWN_EVENT = re.compile(OWN_EVENT_PATTERN)
_SCHEDULING_KEYS = frozenset({"kind", "node", "when", "clear", "comment"})


def parse_duration(value: Any) -> float:
    """Seconds from 0.5, 2, "500ms", "2s", "1m". Raises ValueError for anything else."""
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration")
    if isinstance(value, int | float):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ValueError(f"{value!r} is not a duration (0.5, '500ms', '2s')")
    return float(match.group(1)) * _UNITS[match.group(2)]


def load(path: str | Path) -> Scenario:
    """Read, validate and resolve one scenario file. Raises ScenarioError with every problem."""
    return load_file(Path(path))


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named by ``paths``: files as given, directories recursed, sorted."""
    found: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
            )
        else:
            found.append(path)
    return found


def load_many(paths: Iterable[str | Path]) -> list[Scenario]:
    """Load every scenario under ``paths``; raises one ScenarioError with all files' problems."""
    return load_suite(scenario_files(paths))


def load_file(path: Path) -> Scenario:
    """Load one scenario file; ScenarioError with every problem when it is wrong."""
    source = parse(path)
    if not isinstance(source.data, Mapping):
        raise ScenarioError([(source.locate(), "a scenario is a mapping (name:, topology:, ...)")])
    problems = validate(source, _profile_kinds(source))
    if problems:
        raise ScenarioError(problems)
    builder = _Builder(source)
    scenario = builder.scenario()
    if builder.problems:
        raise ScenarioError(sorted(builder.problems, key=_order))
    return scenario


def _profile_kinds(source: Source) -> tuple[str, ...]:
    """The kinds of the router profiles on this file's profile path (not registered kinds):
    valid for its schema check, and offered by its did-you-mean."""
    router = source.data.get("router")
    kind = router.get("kind") if isinstance(router, Mapping) else None
    if not isinstance(kind, str):
        return ()
    from harness.routers.profile import known_profiles
    from harness.schema import router_kinds

    if kind in router_kinds():
        return ()
    return tuple(name for name in known_profiles(source.file) if name not in router_kinds())


def load_suite(paths: list[Path]) -> list[Scenario]:
    """Load every file; one ScenarioError with all files' problems, and duplicate names."""
    scenarios: list[Scenario] = []
    problems: list[tuple[Location, str]] = []
    for path in paths:
        try:
            scenarios.append(load_file(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    problems.extend(_duplicate_names(scenarios))
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _duplicate_names(scenarios: list[Scenario]) -> list[tuple[Location, str]]:
    first: dict[str, Scenario] = {}
    problems = []
    for scenario in scenarios:
        if scenario.name in first:
            other = first[scenario.name].path
            problems.append(
                (Location(scenario.path, 1), f"name {scenario.name!r} is also used by {other}")
            )
        else:
            first[scenario.name] = scenario
    return problems


def _order(problem: tuple[Location, str]) -> tuple[int, int]:
    return (problem[0].line or 0, problem[0].column or 0)


class _Builder:
    """Resolves validated data into the model, collecting every semantic problem on the way."""

    def __init__(self, source: Source) -> None:
        self.source = source
        self.data: Mapping[str, Any] = source.data
        self.problems: list[tuple[Location, str]] = []
        self.timeout = DEFAULT_TIMEOUT
        self.topology = TopologySpec(data={}, interfaces={})
        self.router = RouterSpec()
        self.traffic_ids: list[str] = []  # every traffic item's id, for expectations' from:
        self.refused: list[tuple[Location, str]] = []  # faults the engine refused
        self.vocabulary: Mapping[str, Any] = {}  # the router profile's own events, by name

    # -- reporting --------------------------------------------------------------------------

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append((self.source.locate(path, key=key), message))

    def line(self, path: PathKey) -> int | None:
        return self.source.locate(path).line

    @contextmanager
    def checking(self, path: PathKey) -> Iterator[None]:
        """Turn a ValueError raised while resolving ``path`` into a problem there."""
        try:
            yield
        except (ValueError, catalog.UnknownErrno) as exc:
            message = str(exc)
            prefix = _dotted(path)
            self.problem(path, message if message.startswith(prefix) else f"{prefix}: {message}")

    # -- the whole scenario -----------------------------------------------------------------

    def scenario(self) -> Scenario:
        data = self.data
        if "timeout" in data:
            self.timeout = self.deadline(("timeout",), data["timeout"]) or DEFAULT_TIMEOUT
        self.topology = _TopologyReader(self).read(data["topology"])
        self.router = self.router_spec(data["router"])
        faults = tuple(self.fault(i, item) for i, item in enumerate(data.get("faults") or ()))
        traffic = self.traffic_items(data.get("traffic") or ())
        self.traffic_ids = [item.id for item in traffic if item.id]
        expect = self.expectations(data["expect"], faults)
        self.fault_problems()
        return Scenario(
            name=data["name"],
            path=self.source.file,
            topology=self.topology,
            router=self.router,
            expect=expect,
            description=str(data.get("description", "")).strip(),
            tags=tuple(data.get("tags") or ()),
            faults=faults,
            traffic=traffic,
            timeout=self.timeout,
            data=data,
        )

    # -- durations and deadlines -----------------------------------------------------------

    def duration(self, path: PathKey, value: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return 0.0

    def deadline(self, path: PathKey, value: Any, *, what: str = "deadline") -> float:
        """A duration that must be more than zero and fit in the scenario's timeout."""
        seconds = self.duration(path, value)
        if seconds <= 0:
            self.problem(
                path, f"{_dotted(path)}: a {what} must be more than 0 seconds, got {value!r}"
            )
        elif path != ("timeout",) and seconds > self.timeout:
            self.problem(
                path,
                f"{_dotted(path)}: {what} {seconds:g}s is longer than the scenario's timeout "
                f"{self.timeout:g}s (raise timeout: or shorten it)",
            )
        return seconds

    # -- names that must exist -------------------------------------------------------------

    def node(self, path: PathKey, name: str) -> bool:
        nodes = self.topology.nodes
        if name in nodes:
            return True
        if name in {"host", "root", "init", "default"}:
            self.problem(
                path,
                f"{_dotted(path)}: {name!r} is not a lab node; faultlab never touches the host "
                f"(nodes: {', '.join(nodes)})",
            )
            return False
        self.problem(
            path,
            f"{_dotted(path)}: unknown node {name!r}{_guess(name, nodes)} (nodes: {', '.join(nodes)})",
        )
        return False

    def interface(self, path: PathKey, node: str, name: str) -> bool:
        names = self.topology.interfaces.get(node, ())
        if name in names or node not in self.topology.interfaces:
            return True
        known = ", ".join(names) or "none"
        self.problem(
            path,
            f"{_dotted(path)}: node {node!r} has no interface {name!r}{_guess(name, names)} "
            f"(its interfaces: {known})",
        )
        return False

    def endpoint_ref(self, path: PathKey, text: str) -> tuple[str, str]:
        node, _, ifname = text.partition(":")
        if self.node(path, node):
            self.interface(path, node, ifname)
        return node, ifname

    # -- router ------------------------------------------------------------------------------

    def router_profile(self, path: PathKey, data: Mapping[str, Any]) -> tuple[str, str | None]:
        """The router's kind and profile file: ``profile:`` (relative to this file), or a
        ``kind:`` found on the profile path (harness.routers.profile); its own events become
        the vocabulary ``event:`` expectations may name."""
        from harness.routers.profile import find_profile, load_profile
        from harness.schema import router_kinds

        kind = data.get("kind", "igmpd")
        file: Path | None = None
        if "profile" in data:
            file = (self.source.file.parent / data["profile"]).resolve()
            if not file.is_file():
                self.problem(
                    path + ("profile",),
                    f"router.profile: no such file {data['profile']!r} (relative to "
                    f"{self.source.file.parent})",
                )
                return kind, None
        elif kind not in router_kinds():
            file = find_profile(kind, self.source.file)
        if file is None:
            adapter = _registered(kind)
            profile = getattr(adapter, "profile", None)
            self.vocabulary = dict(getattr(profile, "events", {}) or {})
            return kind, None
        try:
            profile = load_profile(file)
        except ScenarioError as exc:
            self.problems.extend(exc.problems)
            return kind, None
        if "kind" in data and "profile" in data and data["kind"] != profile.name:
            self.problem(
                path + ("kind",),
                f"router.kind: {data['kind']!r} is not the profile's name {profile.name!r} "
                "(leave kind: out with profile:)",
            )
        self.vocabulary = dict(profile.events)
        return profile.name, str(profile.path)

    def router_addresses(self, node: str) -> dict[str, tuple[str, ...]]:
        """The router node's interface addresses, from the parsed topology."""
        topology = self.topology.parsed
        found: dict[str, tuple[str, ...]] = {}
        if topology is None:
            return found
        endpoints = [e for link in topology.links for e in (link.a, link.b)]
        endpoints += [e for lan in topology.lans for e in lan.members]
        for endpoint in endpoints:
            if endpoint.node == node:
                found[endpoint.ifname] = tuple(str(a) for a in endpoint.addresses)
        return found

    def router_spec(self, data: Mapping[str, Any]) -> RouterSpec:
        path: PathKey = ("router",)
        kind, profile = self.router_profile(path, data)
        node = data["node"]
        self.node(path + ("node",), node)
        interfaces = tuple(
            self.router_interface(path + ("interfaces", i), node, item)
            for i, item in enumerate(data["interfaces"])
        )
        self.no_duplicates(path + ("interfaces",), [i.name for i in interfaces], "interface")
        timers = {
            name: self.timer(path + (name,), name, data[name]) for name in TIMERS if name in data
        }
        self.query_timers(path, timers)
        if kind == "command" and "argv" not in data:
            self.problem(path, "router: kind 'command' needs argv: [PROGRAM, ARG ...]")
        if kind != "command":
            for key in ("argv", "events"):
                if key in data:
                    self.problem(
                        path + (key,), f"router.{key} is for kind 'command' only", key=True
                    )
        if kind != "igmpd" and "multicast_routing" in data:
            self.problem(
                path + ("multicast_routing",),
                "router.multicast_routing is for kind 'igmpd' only (other routers always use "
                "the kernel's multicast routing)",
                key=True,
            )
        patterns = tuple(
            self.pattern(path + ("events", "patterns", i), item)
            for i, item in enumerate((data.get("events") or {}).get("patterns") or ())
        )
        ready = self.matcher(path + ("ready",), data["ready"]) if "ready" in data else None
        spec = RouterSpec(
            kind=kind,
            node=node,
            interfaces=interfaces,
            version=data.get("version", 3),
            timers=timers,
            multicast_routing=str(data.get("multicast_routing", "auto")),
            argv=tuple(data.get("argv") or ()),
            patterns=patterns,
            ready=ready,
            extra=dict(data.get("options") or {}),
            line=self.line(path),
            profile=profile,
            addresses=self.router_addresses(node),
        )
        if profile is not None and not self.problems:
            from harness.routers.profile import adapter_class

            for message in adapter_class(profile)(spec).dry_run(spec):
                self.problem(path, f"router: {message}")
        return spec

    def query_timers(self, path: PathKey, timers: Mapping[str, float]) -> None:
        """RFC 3376 8.3: the query response interval must be less than the query interval."""
        if "query_response_interval" not in timers:
            return  # the router picks a response interval that fits (igmpd: min(10 s, QI / 2))
        interval = timers.get("query_interval", DEFAULT_QUERY_INTERVAL)
        response = timers["query_response_interval"]
        if response >= interval:
            self.problem(
                path + ("query_response_interval",),
                f"router: query_response_interval {response:g}s must be less than "
                f"query_interval {interval:g}s",
            )

    def router_interface(self, path: PathKey, node: str, item: Any) -> InterfaceSpec:
        if isinstance(item, str):
            item = {"name": item}
        name = item["name"]
        self.interface(path, node, name)
        groups = tuple(str(group) for group in item.get("static_groups") or ())
        return InterfaceSpec(name, item.get("mode", "router"), groups, self.line(path))

    def timer(self, path: PathKey, name: str, value: Any) -> float:
        if TIMERS[name] == "count":
            return float(value)  # the router judges the range itself (41050, 41051)
        return self.deadline(path, value, what="timer")

    def pattern(self, path: PathKey, item: Mapping[str, Any]) -> CommandPattern:
        with self.checking(path + ("match",)):
            try:
                re.compile(item["match"])
            except re.error as exc:
                raise ValueError(f"{_dotted(path)}.match: not a regular expression: {exc}") from exc
        event = self.event_ref(path, item)
        return CommandPattern(
            match=item["match"],
            id=event.id if event else 0,
            symbol=event.symbol if event else "",
            interface=item.get("interface"),
            errno=item.get("errno"),
            strings=tuple(item.get("strings") or ()),
            line=self.line(path),
        )

    def no_duplicates(self, path: PathKey, names: list[str], what: str) -> None:
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                self.problem(path + (index,), f"{_dotted(path)}: {what} {name!r} is listed twice")
            seen.add(name)

    # -- events --------------------------------------------------------------------------------

    def event_ref(self, path: PathKey, item: Mapping[str, Any]) -> catalog.Event | None:
        """The catalog event named by ``id:`` and/or ``symbol:`` (they must agree)."""
        by_id = catalog.BY_ID.get(item["id"]) if "id" in item else None
        by_symbol = catalog.BY_SYMBOL.get(item["symbol"]) if "symbol" in item else None
        if by_id and by_symbol and by_id is not by_symbol:
            self.problem(
                path + ("symbol",),
                f"{_dotted(path)}: id {by_id.id} is {by_id.symbol}, not {by_symbol.symbol}",
            )
        if not by_id and not by_symbol:
            self.problem(
                path, f"{_dotted(path)}: name the event with id: or symbol: (faultlab catalog)"
            )
        return by_id or by_symbol

    def own_event(self, path: PathKey, item: Mapping[str, Any]) -> EventMatcher | None:
        """A matcher for ``event: NAME``, an event of the router profile's own vocabulary."""
        name = item["event"]
        if "id" in item or "symbol" in item:
            self.problem(
                path + ("event",),
                f"{_dotted(path)}: give event: (the router's own) or id:/symbol: (the catalog's), "
                "not both",
            )
        own = self.vocabulary.get(name)
        if own is None:
            known = ", ".join(self.vocabulary) or "none: its router has no profile with events:"
            self.problem(
                path + ("event",),
                f"{_dotted(path)}.event: {name!r} is not an event of router "
                f"{self.router.kind!r}{_guess(name, self.vocabulary)} (its events: {known})",
            )
            return None
        level = item.get("level")
        if level is not None and level != own.level:
            self.problem(
                path + ("level",),
                f"{_dotted(path)}.level: event {name} is logged at level {own.level}, not {level}",
            )
        interface = item.get("interface")
        if interface is not None:
            self.interface(path + ("interface",), self.router.node, interface)
        errno_value, errno_text = None, None
        if "errno" in item:
            errno_text = str(item["errno"])
            with self.checking(path + ("errno",)):
                errno_value = catalog.errno_number(item["errno"])
        return EventMatcher(
            id=own.id or 0,
            symbol=own.name,
            interface=interface,
            errno=errno_value,
            errno_text=errno_text,
            level=level,
            strings=tuple(str(text) for text in item.get("strings") or ()),
            name=name,
        )

    def matcher(
        self, path: PathKey, item: Mapping[str, Any], *, event: Any = None
    ) -> EventMatcher | None:
        if event is None and "event" in item:
            return self.own_event(path, item)
        if isinstance(event, str) and _OWN_EVENT.match(event):  # a trigger on an own event
            return self.own_event(path, {**item, "event": event})
        found = catalog.event(event) if event is not None else self.event_ref(path, item)
        if found is None:
            return None
        errno_value, errno_text = self.errno(path + ("errno",), item, found)
        level = item.get("level")
        if level is not None and level != found.level.value:
            self.problem(
                path + ("level",),
                f"{_dotted(path)}.level: event {found.id} is logged at level {found.level.value}, "
                f"not {level}",
            )
        interface = item.get("interface")
        if interface is not None:
            self.interface(path + ("interface",), self.router.node, interface)
        return EventMatcher(
            id=found.id,
            symbol=found.symbol,
            interface=interface,
            errno=errno_value,
            errno_text=errno_text,
            level=level,
            strings=tuple(str(text) for text in item.get("strings") or ()),
        )

    def errno(
        self, path: PathKey, item: Mapping[str, Any], event: catalog.Event
    ) -> tuple[int | None, str | None]:
        if "errno" not in item:
            return None, None
        text = str(item["errno"])
        if event.step is None:
            self.problem(
                path,
                f"{_dotted(path)}: event {event.id} {event.symbol} carries no error code; "
                f"errno applies to the socket-operation events ({', '.join(map(str, catalog.SOCKET_OPERATION_IDS))})",
            )
            return None, text
        with self.checking(path):
            return catalog.errno_number(item["errno"]), text
        return None, text

    def event_expectation(self, path: PathKey, item: Mapping[str, Any]) -> EventExpectation | None:
        matcher = self.matcher(path, item)
        if "count" in item and "at_least" in item:
            self.problem(
                path + ("at_least",),
                f"{_dotted(path)}: give count: (exact) or at_least:, not both",
                key=True,
            )
        within = (
            self.deadline(path + ("within",), item["within"])
            if "within" in item
            else DEFAULT_WITHIN
        )
        if matcher is None:
            return None
        return EventExpectation(
            event=matcher,
            count=item.get("count"),
            at_least=item.get("at_least", 1),
            within=within,
            line=self.line(path),
            from_traffic=self.start_ref(path, item),
        )

    def absence(self, path: PathKey, item: Mapping[str, Any]) -> AbsenceExpectation | None:
        any_error = bool(item.get("any_error", False))
        names_event = "id" in item or "symbol" in item or "event" in item
        if any_error and names_event:
            self.problem(
                path, f"{_dotted(path)}: give any_error: true or an event (id:/symbol:), not both"
            )
        if not any_error and not names_event:
            self.problem(
                path,
                f"{_dotted(path)}: name the event that must not occur (id: or symbol:), or any_error: true",
            )
            return None
        window = (
            self.deadline(path + ("window",), item["window"], what="window")
            if "window" in item
            else None
        )
        interface = item.get("interface")
        matcher = self.matcher(path, item) if names_event else None
        if any_error and interface is not None:
            self.interface(path + ("interface",), self.router.node, interface)
        start = self.start_ref(path, item)
        return AbsenceExpectation(matcher, any_error, interface, window, self.line(path), start)

    # -- packets -------------------------------------------------------------------------------

    def packet(self, path: PathKey, item: Mapping[str, Any]) -> PacketExpectation:
        node, ifname = self.endpoint_ref(path + ("on",), item["on"])
        none = bool(item.get("none", False))
        if none and ("count" in item or "at_least" in item):
            self.problem(
                path + ("none",),
                f"{_dotted(path)}: none: true cannot be combined with count:/at_least:",
                key=True,
            )
        if "count" in item and "at_least" in item:
            self.problem(
                path + ("at_least",),
                f"{_dotted(path)}: give count: (exact) or at_least:, not both",
                key=True,
            )
        if "window" in item and not none:
            self.problem(
                path + ("window",),
                f"{_dotted(path)}: window: is for none: true; use within: for a deadline",
                key=True,
            )
        query = item.get("query", "general")
        group = item.get("group")
        if group is not None:
            self.multicast(path + ("group",), group)
            if query != "group":
                self.problem(
                    path + ("group",), f"{_dotted(path)}: group: needs query: group", key=True
                )
        within = (
            self.deadline(path + ("within",), item["within"])
            if "within" in item
            else DEFAULT_WITHIN
        )
        window = (
            self.deadline(path + ("window",), item["window"], what="window")
            if "window" in item
            else None
        )
        return PacketExpectation(
            node=node,
            ifname=ifname,
            query=query,
            group=group,
            version=item.get("version"),
            ttl=item.get("ttl"),
            router_alert=item.get("router_alert"),
            count=item.get("count"),
            at_least=item.get("at_least", 1),
            none=none,
            within=within,
            window=window,
            line=self.line(path),
            from_traffic=self.start_ref(path, item),
        )

    def start_ref(self, path: PathKey, item: Mapping[str, Any]) -> str | None:
        """``from:`` of an expectation: the id of the traffic item its deadline or window
        starts at (any item of the file). Recovery is measured from the last clear only."""
        if "from" not in item:
            return None
        name = str(item["from"])
        if path[:2] == ("expect", "recovery"):
            self.problem(
                path + ("from",),
                f"{_dotted(path)}.from: recovery expectations are measured from the last "
                "fault's clear, not from a traffic item (move it out of recovery:)",
                key=True,
            )
            return None
        self.traffic_id(path + ("from",), name, self.traffic_ids, label="traffic ids")
        return name

    def multicast(self, path: PathKey, text: Any) -> None:
        with self.checking(path):
            try:
                address = ipaddress.IPv4Address(str(text))
            except ValueError as exc:
                raise ValueError(f"{_dotted(path)}: {text!r} is not an IPv4 address") from exc
            if not address.is_multicast:
                raise ValueError(f"{_dotted(path)}: {text} is not a multicast group (224.0.0.0/4)")

    # -- expectations --------------------------------------------------------------------------

    def expectations(self, data: Mapping[str, Any], faults: tuple[FaultSpec, ...]) -> Expectations:
        base: PathKey = ("expect",)
        events = self.events(base + ("events",), data.get("events") or ())
        absent = self.absences(base + ("absent",), data.get("absent") or ())
        packets = tuple(
            self.packet(base + ("packets", i), p) for i, p in enumerate(data.get("packets") or ())
        )
        order = tuple(catalog.event(key).id for key in data.get("order") or ())
        state = self.state(base + ("state",), data["state"]) if "state" in data else None
        router = (
            self.router_expectation(base + ("router",), data["router"])
            if "router" in data
            else None
        )
        recovery = None
        if "recovery" in data:
            recovery = self.recovery(base + ("recovery",), data["recovery"], faults)
        log = tuple(
            self.log_expectation(base + ("log", i), item)
            for i, item in enumerate(data.get("log") or ())
        )
        if not (events or absent or packets or state or router or recovery or log):
            self.problem(
                base,
                "expect: say what must be observed (events, absent, packets, state, router, "
                "log or recovery)",
            )
        return Expectations(
            events=events,
            order=order,
            absent=absent,
            packets=packets,
            state=state,
            router=router,
            recovery=recovery,
            order_line=self.line(base + ("order",)) if order else None,
            log=log,
        )

    def log_expectation(self, path: PathKey, item: Mapping[str, Any]) -> LogExpectation:
        """``{match: REGEX, within:, count:}`` or ``{absent: REGEX, window:}``."""
        given = [key for key in ("match", "absent") if key in item]
        if len(given) != 1:
            self.problem(path, f"{_dotted(path)}: give exactly one of match: or absent:")
        key = given[0] if given else "match"
        regex = str(item.get(key, ""))
        with self.checking(path + (key,)):
            try:
                re.compile(regex)
            except re.error as exc:
                raise ValueError(f"{_dotted(path)}.{key}: not a regular expression: {exc}") from exc
        absent = key == "absent"
        wrong = ("count", "at_least", "within") if absent else ("window",)
        for name in wrong:
            if name in item:
                self.problem(
                    path + (name,),
                    f"{_dotted(path)}: {name}: is for "
                    + ("match: (use window: with absent:)" if absent else "absent:"),
                    key=True,
                )
        if "count" in item and "at_least" in item:
            self.problem(
                path + ("at_least",),
                f"{_dotted(path)}: give count: (exact) or at_least:, not both",
                key=True,
            )
        within = (
            self.deadline(path + ("within",), item["within"])
            if "within" in item
            else DEFAULT_WITHIN
        )
        window = (
            self.deadline(path + ("window",), item["window"], what="window")
            if "window" in item
            else None
        )
        return LogExpectation(
            regex=regex,
            absent=absent,
            count=item.get("count"),
            at_least=item.get("at_least", 1),
            within=within,
            window=window,
            line=self.line(path),
        )

    def events(self, path: PathKey, items: Any) -> tuple[EventExpectation, ...]:
        built = (self.event_expectation(path + (i,), item) for i, item in enumerate(items))
        return tuple(item for item in built if item is not None)

    def absences(self, path: PathKey, items: Any) -> tuple[AbsenceExpectation, ...]:
        built = (self.absence(path + (i,), item) for i, item in enumerate(items))
        return tuple(item for item in built if item is not None)

    def state(self, path: PathKey, data: Mapping[str, Any]) -> StateExpectation:
        node = self.router.node
        for name in data.get("interfaces") or {}:
            self.interface(path + ("interfaces", name), node, name)
        groups: dict[str, tuple[str, ...]] = {}
        for name, addresses in (data.get("groups") or {}).items():
            self.interface(path + ("groups", name), node, name)
            for index, group in enumerate(addresses):
                self.multicast(path + ("groups", name, index), group)
            groups[name] = tuple(str(group) for group in addresses)
        within = (
            self.deadline(path + ("within",), data["within"])
            if "within" in data
            else DEFAULT_WITHIN
        )
        return StateExpectation(dict(data.get("interfaces") or {}), groups, within, self.line(path))

    def router_expectation(self, path: PathKey, data: Mapping[str, Any]) -> RouterExpectation:
        if data.get("running") is True and "exit" in data:
            self.problem(path, f"{_dotted(path)}: a router that keeps running has no exit status")
        within = (
            self.deadline(path + ("within",), data["within"])
            if "within" in data
            else DEFAULT_WITHIN
        )
        return RouterExpectation(data.get("running"), data.get("exit"), within, self.line(path))

    def recovery(
        self, path: PathKey, data: Mapping[str, Any], faults: tuple[FaultSpec, ...]
    ) -> RecoveryExpectation:
        if not any(fault.clear.kind != "never" for fault in faults):
            self.problem(
                path,
                "expect.recovery: no fault is ever cleared (every clear: is never), so there is "
                "nothing to recover from; give a fault clear: {after: 1s}",
                key=True,
            )
        return RecoveryExpectation(
            events=self.events(path + ("events",), data.get("events") or ()),
            packets=tuple(
                self.packet(path + ("packets", i), p)
                for i, p in enumerate(data.get("packets") or ())
            ),
            absent=self.absences(path + ("absent",), data.get("absent") or ()),
            line=self.line(path),
        )

    # -- faults ---------------------------------------------------------------------------------

    def fault(self, index: int, data: Mapping[str, Any]) -> FaultSpec:
        path: PathKey = ("faults", index)
        node = data.get("node", self.router.node)
        if self.node(path + ("node",), node) and isinstance(data.get("interface"), str):
            self.interface(path + ("interface",), node, data["interface"])
        params = {key: value for key, value in data.items() if key not in _SCHEDULING_KEYS}
        recipe = self.recipe(index, {"kind": data["kind"], **params})
        when = self.when(path + ("when",), data.get("when", "before-start"), clear=False)
        clear = self.when(path + ("clear",), data.get("clear", "never"), clear=True)
        if when.kind == "at" and clear.kind == "at" and clear.seconds <= when.seconds:
            self.problem(
                path + ("clear",),
                f"{_dotted(path)}.clear: at {clear.seconds:g}s is not after the fault is applied "
                f"(at {when.seconds:g}s)",
            )
        return FaultSpec(data["kind"], node, when, clear, params, self.line(path), recipe)

    def when(self, path: PathKey, value: Any, *, clear: bool) -> When:
        if value == "before-start":
            return BEFORE_START
        if value == "never":
            return NEVER
        line = self.line(path)
        if "at" in value:
            return When("at", self.duration(path + ("at",), value["at"]), line=line)
        after = value["after"]
        if not isinstance(after, Mapping):
            seconds = self.deadline(path + ("after",), after, what="delay")
            return When("after", seconds, line=line)
        delay = (
            self.duration(path + ("after", "delay"), after["delay"]) if "delay" in after else 0.0
        )
        matcher = self.matcher(path + ("after",), after, event=after["event"])
        return When("after-event", delay, matcher, line=line)

    def recipe(self, index: int, mapping: dict[str, Any]) -> FaultRecipe | None:
        """Resolve a fault once, by the fault engine's own checks (nothing is applied).

        A wrong value the fault class names (errno) is a problem at once, at its key; any other
        refusal waits for ``fault_problems``: it is reported only when the file is otherwise sound.
        """
        from harness.faults import resolve

        asked: list[str] = []  # the engine names the key it objects to; we place it
        try:
            return resolve(mapping, locate=asked.append)
        except FaultParameterError as exc:
            path: PathKey = ("faults", index, exc.key)
            self.problem(path, f"{_dotted(path)}: {exc.reason}")
        except InputError as exc:
            where = self.source.locate(("faults", index, *asked[-1:]))
            self.refused.append((where, f"faults[{index}]: {exc}"))
        return None

    def fault_problems(self) -> None:
        """The faults the engine refused, when nothing else is wrong with the file."""
        if not self.problems:
            self.problems.extend(self.refused)

    # -- traffic ---------------------------------------------------------------------------------

    def traffic_items(self, items: Any) -> tuple[TrafficSpec, ...]:
        """Every traffic item; an ``after: {traffic: ID}`` must name an earlier item's id."""
        built: list[TrafficSpec] = []
        for index, item in enumerate(items):
            built.append(self.traffic(index, item, built))
        return tuple(built)

    def traffic(
        self, index: int, data: Mapping[str, Any], earlier: Sequence[TrafficSpec] = ()
    ) -> TrafficSpec:
        path: PathKey = ("traffic", index)
        actions = [action for action in ("join", "leave", "query") if action in data]
        if len(actions) != 1:
            self.problem(path, f"{_dotted(path)}: give exactly one of join:, leave:, query:")
        action = actions[0] if actions else "join"
        if self.node(path + ("node",), data["node"]):
            self.interface(path + ("ifname",), data["node"], data["ifname"])
        group = data.get(action) if action != "query" else None
        if group is not None:
            self.multicast(path + (action,), group)
        at = self.duration(path + ("at",), data.get("at", 0))
        if at > self.timeout:
            self.problem(
                path + ("at",),
                f"{_dotted(path)}.at: {at:g}s is after the scenario's timeout {self.timeout:g}s",
            )
        ids = [item.id for item in earlier if item.id]
        if data.get("id") in ids:
            first = next(i for i, item in enumerate(earlier) if item.id == data["id"])
            self.problem(
                path + ("id",),
                f"{_dotted(path)}.id: {data['id']!r} is already the id of traffic[{first}]",
            )
        after = self.traffic_trigger(path, data, ids) if "after" in data else None
        return TrafficSpec(
            node=data["node"],
            action=action,  # type: ignore[arg-type]
            ifname=data["ifname"],
            at=at,
            group=str(group) if group is not None else None,
            source=data.get("source"),
            igmp_version=data.get("igmp_version"),
            line=self.line(path),
            id=data.get("id"),
            after=after,
        )

    def traffic_trigger(self, path: PathKey, data: Mapping[str, Any], ids: list[str]) -> When:
        """``after:`` of a traffic item: a router event (parsed as faults' ``when:``) or an
        earlier traffic item by id, each with an optional delay that must fit in the timeout."""
        trigger = data["after"]
        if "at" in data:
            self.problem(
                path + ("after",),
                f"{_dotted(path)}: give at: (from the router's start) or after:, not both",
                key=True,
            )
        if "event" in trigger:
            when = self.when(path, {"after": trigger}, clear=False)
        else:
            delay = self.duration(path + ("after", "delay"), trigger.get("delay", 0))
            name = self.earlier_id(path, trigger["traffic"], ids)
            when = When("after-traffic", delay, line=self.line(path + ("after",)), traffic=name)
        if when.seconds > self.timeout:
            self.problem(
                path + ("after", "delay"),
                f"{_dotted(path)}.after.delay: {when.seconds:g}s is longer than the scenario's "
                f"timeout {self.timeout:g}s",
            )
        return when

    def earlier_id(self, path: PathKey, name: str, ids: list[str]) -> str:
        """The id of an earlier traffic item (a later one could wait on this one: a cycle)."""
        later = {item.get("id") for item in (self.data.get("traffic") or ())[path[1] :]}
        why = (
            "is not an earlier item's id (an item waits only for one before it)"
            if name in later
            else "is no traffic item's id"
        )
        self.traffic_id(path + ("after", "traffic"), name, ids, why=why, label="earlier ids")
        return name

    def traffic_id(
        self,
        path: PathKey,
        name: str,
        ids: Sequence[str],
        *,
        why: str = "is no traffic item's id",
        label: str,
    ) -> bool:
        """Whether ``name`` is one of ``ids``; else a problem at ``path`` with a did-you-mean."""
        if name in ids:
            return True
        self.problem(
            path,
            f"{_dotted(path)}: {name!r} {why}{_guess(name, ids)} ({label}: {', '.join(ids) or 'none'})",
        )
        return False


class _TopologyReader:
    """Has netns check the topology mapping (the one topology checker) and words its problems.

    The problems the loader words itself (unknown nodes with a did-you-mean, interface names,
    addresses, routes, sysctls: netns.topology.KINDS) are all reported; netns's other problems
    (in its own words, after "topology: ") only when the file had no problem so far.
    """

    def __init__(self, builder: _Builder) -> None:
        self.builder = builder

    def read(self, data: Mapping[str, Any]) -> TopologySpec:
        source = self.builder.source
        checked = check_topology(dict(data), locate=lambda path: source.locate(("topology", *path)))
        worded = [(self.where(p), message) for p in checked.problems if (message := self.words(p))]
        if worded:
            self.builder.problems.extend(worded)
        elif not self.builder.problems:
            self.builder.problems.extend(
                (p.where, f"topology: {p.message}") for p in checked.problems
            )
        interfaces = dict(checked.interfaces)
        return TopologySpec(data, interfaces, checked.topology, self.builder.line(("topology",)))

    def where(self, problem: TopologyProblem) -> Location:
        """Where netns's locator put it; a refused sysctl key is shown at the key itself."""
        if problem.kind == "sysctl":
            return self.builder.source.locate(("topology", *problem.path), key=True)
        return problem.where

    def words(self, problem: TopologyProblem) -> str | None:
        """The loader's words for a problem of one of netns's KINDS; None for the others."""
        facts = problem.facts
        path: PathKey = ("topology", *problem.path)
        at = _dotted(path)
        match problem.kind:
            case "unknown-node":
                name, nodes = facts["name"], facts["nodes"]
                return (
                    f"{at}: unknown node {name!r}{_guess(name, nodes)} (nodes: {', '.join(nodes)})"
                )
            case "ifname-length":
                return f"{at}: interface name {facts['ifname']!r} is longer than {MAX_IFNAME} characters"
            case "duplicate-ifname":
                return f"{at}: node {facts['node']!r} already has an interface {facts['ifname']!r}"
            case "address":
                return f"{at}: {facts['text']!r} is not an ADDRESS/PREFIX"
            case "prefix":
                return f"{at}: {facts['text']!r} needs a prefix length (e.g. {facts['text']}/24)"
            case "same-address":
                return f"{at}: address {facts['address'].ip} is already on {facts['other_node']}:{facts['other_if']}"
            case "overlap":
                return (
                    f"{at}: {facts['address']} on {facts['node']}:{facts['ifname']} overlaps"
                    f" {facts['other']} on {facts['node']}:{facts['other_if']}"
                )
            case "network":
                return f"{at}: {facts['text']!r} is not an address or network"
            case "route-dev":
                node, dev, names = facts["node"], facts["dev"], facts["names"]
                return f"{at}: node {node!r} has no interface {dev!r}{_guess(dev, names)}"
            case "sysctl":
                return (
                    f"{_dotted(path[:-1])}: sysctl {facts['key']!r} is not per network namespace;"
                    " setting it would change the host"
                    f" (only {', '.join(p + '*' for p in NAMESPACED_SYSCTLS)})"
                )
        return None


def _registered(kind: str) -> Any:
    """The registered adapter class of ``kind`` (None for an unknown kind)."""
    from harness.routers import ADAPTERS

    return dict.get(ADAPTERS, kind)


def _guess(name: str, options: Any) -> str:
    from harness.suggest import did_you_mean

    return did_you_mean(name, options)


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


DEFAULT_SUITE = "scenarios"  # what a command runs when it is given no path


def suite_paths(paths: Sequence[str]) -> list[str]:
    """The paths given, or the default suite; InputError when one does not exist."""
    chosen = list(paths) or [DEFAULT_SUITE]
    missing = [path for path in chosen if not Path(path).exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    return chosen


def load_named(paths: Sequence[str]) -> list[Scenario]:
    """Every scenario under the paths a command was given, or the default suite (InputError
    when a path does not exist or holds no scenario file; ScenarioError with all problems)."""
    chosen = suite_paths(paths)
    scenarios = load_many(chosen)
    if not scenarios:
        raise InputError(f"no scenario files (*.yaml, *.yml) under {', '.join(chosen)}")
    return scenarios
