"""Event matchers of a scenario: catalog events (id:/symbol:, errno, level) and a router profile's
own events; and ``when:`` (before the start, at a time, after a delay or an event), which a
fault and a traffic item share.

Every other section's reader (router, faults, traffic) stands on this one alone; the loader
(harness.scenario_loader) puts them together in one builder."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness import catalog
from harness.catalog import OWN_EVENT_PATTERN
from harness.reading.base import ReaderBase
from harness.reading.base import dotted as _dotted
from harness.reading.base import guess as _guess
from harness.scenario import BEFORE_START, NEVER, EventMatcher, When
from harness.yamlsource import PathKey

_OWN_EVENT = re.compile(OWN_EVENT_PATTERN)


class EventReading(ReaderBase):
    """Events named by triggers, ``ready:`` and expectations, resolved into ``EventMatcher``s."""

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
