"""The healthy run, measured: what explore judges every fault against (issue 20).

The discovery run is the router without any fault. Besides its calls, it shows, per interface,
what the router does on the wire (its general queries, or a non-querier's adverts, as the host
on that link captured them: how many, and the period between them) and whether it learns a
host's join (where it reports its state); and in its log, how many lines it wrote, how many of
them became events, and the error-looking lines no pattern maps. A fault is then judged by what
changed: a router that queried every second in the healthy run and stopped under the fault is
broken, whether or not the scenario named a ``query_interval``; a router that never queried on
an interface in the healthy run is not judged by its queries there (``unjudged`` when nothing
else could be judged either).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from harness.artifacts import STDERR_NAME, STDOUT_NAME
from harness.routers.unmapped import unmapped_error_lines
from harness.scenario import Scenario


@dataclass
class InterfaceBaseline:
    """One interface of the router in the healthy run."""

    queries: int = 0  # general queries (or adverts) from the router, seen by the peer host
    period: float | None = None  # median seconds between two of them (None: fewer than two)
    joins: bool | None = None  # a host's join showed up in the router's state (None: no state)


@dataclass
class Baseline:
    """The discovery run's measurements (module docstring); plain data, sent to workers."""

    interfaces: dict[str, InterfaceBaseline] = field(default_factory=dict)
    lines: int = 0
    events: int = 0
    unmapped: list[str] = field(default_factory=list)
    state: bool = False  # the router answered a state request

    @property
    def period(self) -> float | None:
        """The slowest measured query period over the interfaces (None: none measured)."""
        periods = [i.period for i in self.interfaces.values() if i.period is not None]
        return max(periods) if periods else None

    def queried(self) -> tuple[str, ...]:
        """The interfaces where the router sent general queries (or adverts) in the healthy run."""
        return tuple(name for name, item in self.interfaces.items() if item.queries)

    def describe(self) -> str:
        """One line: ``e0 5 queries every 1.00 s, e1 ...; 12 log lines, 2 events``."""
        parts = []
        for name, item in self.interfaces.items():
            every = f" every {item.period:.2f} s" if item.period is not None else ""
            joins = {True: ", joins learned", False: ", joins NOT learned", None: ""}[item.joins]
            parts.append(f"{name} {item.queries} queries{every}{joins}")
        return (
            f"{', '.join(parts) or 'no interface'}; {self.lines} log lines, {self.events} events"
            + (f", {len(self.unmapped)} unmapped error lines" if self.unmapped else "")
        )

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["period"] = self.period
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Baseline | None:
        if data is None:
            return None
        interfaces = {k: InterfaceBaseline(**v) for k, v in data.get("interfaces", {}).items()}
        return cls(
            interfaces,
            int(data.get("lines", 0)),
            int(data.get("events", 0)),
            list(data.get("unmapped", [])),
            bool(data.get("state", False)),
        )


@dataclass
class Peers:
    """The router's interfaces, their addresses and the host endpoint on each link."""

    peer: dict[str, tuple[str, str]] = field(default_factory=dict)  # iface -> (node, ifname)
    address: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario) -> Peers:
        found = cls()
        router = scenario.router
        for link in scenario.topology.build().links:
            for near, far in ((link.a, link.b), (link.b, link.a)):
                if near.node == router.node and near.ifname in router.interface_names:
                    found.peer[near.ifname] = (far.node, far.ifname)
                    found.address[near.ifname] = {str(a.ip) for a in near.addresses}
        return found


def median_gap(times: Sequence[float]) -> float | None:
    """The median of the gaps between consecutive times (None: fewer than two times)."""
    ordered = sorted(times)
    gaps = sorted(b - a for a, b in zip(ordered, ordered[1:], strict=False))
    return gaps[len(gaps) // 2] if gaps else None


def presence_times(packets: Iterable[Any], addresses: set[str]) -> list[float]:
    """When the router's general queries (or adverts) from one of ``addresses`` were seen."""
    return [
        p.seen for p in packets if p.is_router_presence and p.src in addresses and not p.outgoing
    ]


def log_lines(adapter: Any, folder: Path) -> list[tuple[str, bool]]:
    """Every line the router wrote in ``folder`` (its event files, then its standard streams)
    and whether its adapter maps the line to an event."""
    source = adapter.events(folder)
    paths = list(dict.fromkeys((*source.paths, folder / STDOUT_NAME, folder / STDERR_NAME)))
    found: list[tuple[str, bool]] = []
    for path in paths:
        try:
            text = path.read_text(errors="replace")
        except OSError:
            continue
        for line in text.splitlines():
            if line.strip():
                found.append((line.strip(), source.parse(line, path) is not None))
    return found


def unmapped_of(lines: Sequence[tuple[str, bool]]) -> list[str]:
    """The error-looking lines no pattern maps (harness.routers.unmapped), once each."""
    mapped = {line for line, is_event in lines if is_event}
    found = unmapped_error_lines((line for line, _ in lines), lambda line: line in mapped)
    return list(dict.fromkeys(found))


def measure(live: Any, peers: Any) -> Baseline:
    """The baseline of a live, healthy session (discovery): per interface its queries and their
    period at the peer host's capture, a join learned where the router reports state; its log."""
    found = Baseline()
    state = live.read_state(live.stream.clock() + 1.0)
    found.state = state is not None
    for name in live.scenario.router.interface_names:
        item = InterfaceBaseline()
        peer = peers.peer.get(name)
        capture = live.captures.get(f"{peer[0]}:{peer[1]}") if peer else None
        if capture is not None:
            times = presence_times(capture.packets(), peers.address.get(name, set()))
            item.queries, item.period = len(times), median_gap(times)
        if state is not None and name in state.interfaces:
            item.joins = bool(state.interfaces[name].groups)
        found.interfaces[name] = item
    return found


def add_log(found: Baseline, adapter: Any, folder: Path) -> Baseline:
    """The log part of the baseline, read once the router stopped (every line is written)."""
    lines = log_lines(adapter, folder)
    found.lines = len(lines)
    found.events = sum(1 for _, is_event in lines if is_event)
    found.unmapped = unmapped_of(lines)
    return found
