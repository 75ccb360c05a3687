"""The ``traffic:`` section: host stimuli at a time or after a trigger."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from harness.reading.base import dotted as _dotted
from harness.reading.events import EventReading
from harness.scenario import (
    TrafficSpec,
    When,
)
from harness.yamlsource import PathKey


class TrafficReading(EventReading):
    """``traffic:`` resolved into ``TrafficSpec``s (an ``after: {traffic: ID}`` names an earlier id)."""

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
