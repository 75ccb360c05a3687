"""The ``router:`` section: kind and profile, node, interfaces, timers, patterns."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from harness.errors import ScenarioError
from harness.reading.base import dotted as _dotted
from harness.reading.events import EventReading
from harness.scenario import (
    COUNT_TIMERS,
    TIMER_NAMES,
    CommandPattern,
    InterfaceSpec,
    RouterSpec,
)
from harness.yamlsource import PathKey

DEFAULT_QUERY_INTERVAL = 125.0  # RFC 3376 defaults, as igmpd uses them


class RouterReading(EventReading):
    """``router:`` resolved into a ``RouterSpec`` (its profile's events become the vocabulary)."""

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
            name: self.timer(path + (name,), name, data[name])
            for name in TIMER_NAMES
            if name in data
        }
        self.query_timers(path, timers)
        self.own_keys(path, kind, data)
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

    def own_keys(self, path: PathKey, kind: str, data: Mapping[str, Any]) -> None:
        """The ``router:`` keys one kind owns (its adapter's ``own_keys``): the needed ones asked
        of that kind, every one refused on any other."""
        from harness.routers import ADAPTERS

        for key, own in getattr(_registered(kind), "own_keys", {}).items():
            if own.needed and key not in data:
                self.problem(path, f"router: kind {kind!r} needs {key}: {own.needed}")
        owners: dict[str, list[str]] = {}
        notes: dict[str, str] = {}
        for owner, adapter in ADAPTERS.items():
            for key, own in adapter.own_keys.items():
                owners.setdefault(key, []).append(owner)
                notes.setdefault(key, own.note)
        for key, kinds in owners.items():
            if key in data and kind not in kinds:
                names = " or ".join(repr(owner) for owner in kinds)
                self.problem(
                    path + (key,), f"router.{key} is for kind {names} only{notes[key]}", key=True
                )

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
        if name in COUNT_TIMERS:
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


def _registered(kind: str) -> Any:
    """The registered adapter class of ``kind`` (None for an unknown kind)."""
    from harness.routers import ADAPTERS

    return dict.get(ADAPTERS, kind)
