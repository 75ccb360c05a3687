"""``expect: packets:``: IGMP queries captured on a link endpoint ``node:ifname``: at least /
exactly N conforming ones within a deadline, or, with ``none:``, none over a window."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from harness.event import Mark
from harness.expectations.base import (
    NONE_WINDOWS,
    PACKETS,
    SHOWN,
    START,
    ExpectationKind,
    Judgement,
    Observed,
    Reader,
    Starts,
    from_text,
    items,
    judged,
    recounted,
)
from harness.scenario import DEFAULT_WITHIN
from harness.verdict import ExpectationResult
from harness.yamlsource import PathKey

if TYPE_CHECKING:
    from harness.capture import Capture, IgmpPacket
    from harness.scenario import QueryKind

__all__ = ["KIND", "PacketExpectation", "check_packets", "recount_packets", "selects"]


@dataclass(frozen=True)
class PacketExpectation:
    """IGMP packets seen on a link endpoint ``node:ifname`` (captured there).

    ``none`` turns it into an absence over ``window`` seconds. ``query`` selects general or
    group-specific queries; ``version``, ``ttl`` and ``router_alert`` must hold for each
    matching packet. ``from_traffic`` (``from:``) names a traffic item whose completion starts
    the deadline or window (a leave's group-specific queries, measured from the leave).
    """

    node: str
    ifname: str
    query: QueryKind = "general"
    group: str | None = None
    version: int | None = None
    ttl: int | None = None
    router_alert: bool | None = None
    count: int | None = None
    at_least: int = 1
    none: bool = False
    within: float = DEFAULT_WITHIN
    window: float | None = None
    line: int | None = None
    from_traffic: str | None = None

    @property
    def on(self) -> str:
        return f"{self.node}:{self.ifname}"

    def describe(self) -> str:
        kind = f"{self.query} quer{'y' if self.query != 'any' else 'ies'}"
        props = [f"v{self.version}" if self.version else "", f"ttl {self.ttl}" if self.ttl else ""]
        if self.router_alert is not None:
            props.append("router alert" if self.router_alert else "no router alert")
        detail = " ".join(p for p in props if p)
        detail = f" ({detail})" if detail else ""
        since = from_text(self.from_traffic)
        if self.none:
            return f"no {kind} on {self.on} for {self.window or self.within:g}s{since}"
        times = f"exactly {self.count}" if self.count is not None else f"at least {self.at_least}"
        return f"{times} {kind}{detail} on {self.on} within {self.within:g}s{since}"


ENDPOINT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*:[^\s:]+$"


def defs() -> dict[str, Any]:
    return {
        "packetExpectation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["on"],
            "properties": {
                "on": {
                    "type": "string",
                    "pattern": ENDPOINT_REF_PATTERN,
                    "description": "NODE:IFNAME",
                },
                "query": {"enum": ["general", "group", "any"]},
                "group": {"type": "string"},
                "version": {"enum": [1, 2, 3]},
                "ttl": {"type": "integer", "minimum": 0, "maximum": 255},
                "router_alert": {"type": "boolean"},
                "count": {"type": "integer", "minimum": 1},
                "at_least": {"type": "integer", "minimum": 1},
                "none": {"type": "boolean"},
                "within": {"$ref": "#/$defs/duration"},
                "window": {"$ref": "#/$defs/duration"},
                "from": START,
                "comment": {"type": "string"},
            },
        }
    }


def read_one(b: Reader, path: PathKey, item: Mapping[str, Any]) -> PacketExpectation:
    node, ifname = b.endpoint_ref(path + ("on",), item["on"])
    none = bool(item.get("none", False))
    if none and ("count" in item or "at_least" in item):
        b.problem(
            path + ("none",),
            f"{b.dotted(path)}: none: true cannot be combined with count:/at_least:",
            key=True,
        )
    if "count" in item and "at_least" in item:
        b.problem(
            path + ("at_least",),
            f"{b.dotted(path)}: give count: (exact) or at_least:, not both",
            key=True,
        )
    if "window" in item and not none:
        b.problem(
            path + ("window",),
            f"{b.dotted(path)}: window: is for none: true; use within: for a deadline",
            key=True,
        )
    query = item.get("query", "general")
    group = item.get("group")
    if group is not None:
        b.multicast(path + ("group",), group)
        if query != "group":
            b.problem(path + ("group",), f"{b.dotted(path)}: group: needs query: group", key=True)
    within, window = b.within_and_window(path, item)
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
        line=b.line(path),
        from_traffic=b.start_ref(path, item),
    )


def read(b: Reader, path: PathKey, value: Any) -> dict[str, Any]:
    return {"packets": tuple(read_one(b, path + (i,), p) for i, p in enumerate(value or ()))}


def selects(exp: PacketExpectation, packet: IgmpPacket) -> bool:
    """Whether ``packet`` is one of the queries the expectation is about (from the router)."""
    if packet.outgoing or not packet.is_query:
        return False
    if exp.query == "general":
        return packet.is_general_query
    if exp.query == "group":
        return not packet.is_general_query and exp.group in (None, packet.group)
    return True


def violations(exp: PacketExpectation, packet: IgmpPacket) -> list[str]:
    """How ``packet`` differs from the properties every selected packet must have."""
    wrong: list[str] = []
    if exp.version is not None and packet.version != exp.version:
        wrong.append(f"version {packet.version} (want {exp.version})")
    if exp.ttl is not None and packet.ttl != exp.ttl:
        wrong.append(f"ttl {packet.ttl} (want {exp.ttl})")
    if exp.router_alert is not None and packet.router_alert != exp.router_alert:
        wrong.append("router alert " + ("missing" if exp.router_alert else "present"))
    return wrong


def check_packets(exp: PacketExpectation, obs: Observed, mark: Mark) -> ExpectationResult:
    """Queries on a link endpoint: at least / exactly N conforming ones, or none in a window."""
    capture = obs.captures.get(exp.on)
    if capture is None:
        return ExpectationResult(
            exp.describe(), False, exp.describe(), f"no capture on {exp.on}", exp.line, "packet"
        )
    if exp.none:
        return _check_no_packets(exp, capture, obs, mark)
    wanted = exp.count if exp.count is not None else exp.at_least
    deadline = obs.deadline(mark, exp.within)

    def decided(packets: list[IgmpPacket]) -> bool:
        chosen = [p for p in packets if selects(exp, p)]
        return len(chosen) >= wanted or any(violations(exp, p) for p in chosen)

    packets = capture.wait_for_packets(decided, mark.time, deadline)
    chosen = [p for p in packets if p.seen <= deadline and selects(exp, p)]
    bad = [(p, violations(exp, p)) for p in chosen if violations(exp, p)]
    if bad:
        packet, wrong = bad[0]
        observed = f"{packet.brief()} at {obs.ms(packet.seen, mark)}: " + ", ".join(wrong)
        return ExpectationResult(
            exp.describe(), False, exp.describe(), observed, exp.line, "packet", packet.seen
        )
    passed = len(chosen) >= wanted
    if passed:
        observed = f"{len(chosen)} by {obs.ms(chosen[wanted - 1].seen, mark)}"
        at = chosen[wanted - 1].seen
    else:
        observed = _packet_evidence(exp, capture, obs, mark, chosen)
        at = deadline
    return ExpectationResult(
        exp.describe(), passed, exp.describe(), observed, exp.line, "packet", at
    )


def recount_packets(
    exp: PacketExpectation, obs: Observed, mark: Mark, result: ExpectationResult
) -> ExpectationResult:
    """At the phase's end: an exact packet count must not have been exceeded."""
    capture = obs.captures.get(exp.on)
    if exp.count is None or exp.none or not result.passed or capture is None:
        return result
    chosen = [p for p in capture.packets(mark.time) if selects(exp, p)]
    if len(chosen) == exp.count:
        return result
    return replace(result, passed=False, observed=f"{len(chosen)} by the end of the phase")


def _check_no_packets(
    exp: PacketExpectation, capture: Capture, obs: Observed, mark: Mark
) -> ExpectationResult:
    if exp.window is not None:
        deadline = obs.window_end(mark, exp.window)
    else:
        deadline = obs.deadline(mark, exp.within)

    def forbidden(packet: IgmpPacket) -> bool:
        return packet.seen <= deadline and selects(exp, packet) and not violations(exp, packet)

    packets = capture.wait_for_packets(lambda ps: any(map(forbidden, ps)), mark.time, deadline)
    found = next((p for p in packets if forbidden(p)), None)
    if found is None:
        return ExpectationResult(
            exp.describe(), True, exp.describe(), "none", exp.line, "packet", deadline
        )
    observed = f"{found.brief()} at {obs.ms(found.seen, mark)}"
    return ExpectationResult(
        exp.describe(), False, exp.describe(), observed, exp.line, "packet", found.seen
    )


def _packet_evidence(
    exp: PacketExpectation,
    capture: Capture,
    obs: Observed,
    mark: Mark,
    chosen: Sequence[IgmpPacket],
) -> str:
    if chosen:
        return f"only {len(chosen)}"
    others = [p for p in capture.packets(mark.time) if not p.outgoing]
    if not others:
        return f"no IGMP from the router on {exp.on} after {mark.label or 'the mark'}"
    shown = "; ".join(f"{p.brief()} at {obs.ms(p.seen, mark)}" for p in others[:SHOWN])
    return f"none of that kind; saw: {shown}"


def judge(container: Any, obs: Observed, starts: Starts) -> list[Judgement]:
    """Expected packets early; ``none:`` windows after every other window (they run longest)."""
    return [
        Judgement(
            NONE_WINDOWS if exp.none else PACKETS,
            exp,
            lambda exp=exp: judged(check_packets, exp, obs, starts, "packet"),
            recounted(recount_packets, exp, obs, starts),
        )
        for exp in container.packets
    ]


KIND = ExpectationKind(
    rank=40,
    key="packets",
    schema=lambda: items("packetExpectation"),
    defs=defs,
    patterns={ENDPOINT_REF_PATTERN: "an endpoint 'NODE:IFNAME'"},
    read=read,
    judge=judge,
    in_recovery=True,
    absence=lambda spec: bool(spec.get("none")),
    lane=lambda spec: f"{spec['node']}:{spec['ifname']}",
)
