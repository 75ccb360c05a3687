"""The scenario readers' common ground: problems at their place, durations, names that must exist."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from harness import catalog
from harness.errors import Location
from harness.scenario import (
    DEFAULT_TIMEOUT,
    DEFAULT_WITHIN,
    FaultSpec,
    RouterSpec,
    TopologySpec,
)
from harness.yamlsource import PathKey, Source

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$")


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


class ReaderBase:
    """What every section's reader shares: the file, its problems (each at file:line:column),
    the sections read so far, durations and deadlines, and the names that must exist."""

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
        self.faults: tuple[FaultSpec, ...] = ()  # read before expect: (recovery: needs a clear)

    def problem(self, path: PathKey, message: str, *, key: bool = False) -> None:
        self.problems.append((self.source.locate(path, key=key), message))

    def line(self, path: PathKey) -> int | None:
        return self.source.locate(path).line

    def dotted(self, path: PathKey) -> str:
        """``expect.events[0]``: a path as the messages name it."""
        return dotted(path)

    @contextmanager
    def checking(self, path: PathKey) -> Iterator[None]:
        """Turn a ValueError raised while resolving ``path`` into a problem there."""
        try:
            yield
        except (ValueError, catalog.UnknownErrno) as exc:
            message = str(exc)
            prefix = dotted(path)
            self.problem(path, message if message.startswith(prefix) else f"{prefix}: {message}")

    def duration(self, path: PathKey, value: Any) -> float:
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.problem(path, str(exc))
            return 0.0

    def within_and_window(
        self, path: PathKey, item: Mapping[str, Any]
    ) -> tuple[float, float | None]:
        """An expectation's ``within:`` (default DEFAULT_WITHIN) and ``window:`` (None)."""
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
        return within, window

    def deadline(self, path: PathKey, value: Any, *, what: str = "deadline") -> float:
        """A duration that must be more than zero and fit in the scenario's timeout."""
        seconds = self.duration(path, value)
        if seconds <= 0:
            self.problem(
                path, f"{dotted(path)}: a {what} must be more than 0 seconds, got {value!r}"
            )
        elif path != ("timeout",) and seconds > self.timeout:
            self.problem(
                path,
                f"{dotted(path)}: {what} {seconds:g}s is longer than the scenario's timeout "
                f"{self.timeout:g}s (raise timeout: or shorten it)",
            )
        return seconds

    def node(self, path: PathKey, name: str) -> bool:
        nodes = self.topology.nodes
        if name in nodes:
            return True
        if name in {"host", "root", "init", "default"}:
            self.problem(
                path,
                f"{dotted(path)}: {name!r} is not a lab node; faultlab never touches the host "
                f"(nodes: {', '.join(nodes)})",
            )
            return False
        self.problem(
            path,
            f"{dotted(path)}: unknown node {name!r}{guess(name, nodes)} (nodes: {', '.join(nodes)})",
        )
        return False

    def interface(self, path: PathKey, node: str, name: str) -> bool:
        names = self.topology.interfaces.get(node, ())
        if name in names or node not in self.topology.interfaces:
            return True
        known = ", ".join(names) or "none"
        self.problem(
            path,
            f"{dotted(path)}: node {node!r} has no interface {name!r}{guess(name, names)} "
            f"(its interfaces: {known})",
        )
        return False

    def endpoint_ref(self, path: PathKey, text: str) -> tuple[str, str]:
        node, _, ifname = text.partition(":")
        if self.node(path, node):
            self.interface(path, node, ifname)
        return node, ifname

    def no_duplicates(self, path: PathKey, names: list[str], what: str) -> None:
        seen: set[str] = set()
        for index, name in enumerate(names):
            if name in seen:
                self.problem(path + (index,), f"{dotted(path)}: {what} {name!r} is listed twice")
            seen.add(name)

    def start_ref(self, path: PathKey, item: Mapping[str, Any]) -> str | None:
        """``from:`` of an expectation: the id of the traffic item its deadline or window
        starts at (any item of the file). Recovery is measured from the last clear only."""
        if "from" not in item:
            return None
        name = str(item["from"])
        if path[:2] == ("expect", "recovery"):
            self.problem(
                path + ("from",),
                f"{dotted(path)}.from: recovery expectations are measured from the last "
                "fault's clear, not from a traffic item (move it out of recovery:)",
                key=True,
            )
            return None
        self.traffic_id(path + ("from",), name, self.traffic_ids, label="traffic ids")
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
            f"{dotted(path)}: {name!r} {why}{guess(name, ids)} ({label}: {', '.join(ids) or 'none'})",
        )
        return False

    def multicast(self, path: PathKey, text: Any) -> None:
        with self.checking(path):
            try:
                address = ipaddress.IPv4Address(str(text))
            except ValueError as exc:
                raise ValueError(f"{dotted(path)}: {text!r} is not an IPv4 address") from exc
            if not address.is_multicast:
                raise ValueError(f"{dotted(path)}: {text} is not a multicast group (224.0.0.0/4)")


def guess(name: str, options: Any) -> str:
    from harness.suggest import did_you_mean

    return did_you_mean(name, options)


def dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
