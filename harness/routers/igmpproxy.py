"""The igmpproxy adapter (Debian's igmpproxy 0.3): an IGMP proxy, querier on downstream links.

Run as ``igmpproxy -d -vv CONF``: in the foreground, debug log on stderr without timestamps.
The scenario's first interface is the upstream one (``router.options.upstream`` names another);
the others are downstream, where igmpproxy queries (IGMPv2 only, startup queries 6-13 s apart,
neither configurable) and learns host joins. It writes no pid file and has no status command:
its state is the routing table its own log prints ("Inserted route table entry for G on VIF
#N"), with VIF numbers from "adding VIF, Ix N ... IFNAME". Errors carry ``Errno(N): text``.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.routers.base import STDERR_NAME, RouterState
from harness.routers.external import (
    AddressLine,
    ExternalAdapter,
    RouterPattern,
    interface_states,
)

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

CONFIG_NAME = "igmpproxy.conf"
_ERR = r"(?P<errno>Errno\(\d+\).*)"

PATTERNS: tuple[RouterPattern, ...] = (
    RouterPattern.compile(r"MC-Router API already in use; " + _ERR, 41028, call="MRT_INIT"),
    RouterPattern.compile(r"IGMP socket open; " + _ERR, 41024, call="socket"),
    RouterPattern.compile(
        r"can't join group (?P<group>\S+) on interface (?P<interface>\S+); " + _ERR,
        41028,
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"sendto to (?P<dst>\S+) on (?P<src>\S+); " + _ERR,
        41019,
        address="{src}",
        strings=("{src}", "{dst}"),
        call="sendto",
    ),
    # -- added for `faultlab reproduce` (issue 21): igmpproxy's other my_log(LOG_ERR/WARNING,
    # errno, ...) calls on its socket steps (src/igmpproxy.c, src/mroute-api.c)
    RouterPattern.compile(r"MRT_INIT failed; " + _ERR, 41028, call="MRT_INIT"),
    RouterPattern.compile(r"\bMRT_ADD_VIF; " + _ERR, 41028, call="MRT_ADD_VIF"),
    # k_joinleave() of igmpproxy 0.2/0.4 (my_log "%s failed", "MRT_ADD_MEMBERSHIP"): the join
    RouterPattern.compile(r"MRT_ADD_MEMBERSHIP failed; " + _ERR, 41028, call="IP_ADD_MEMBERSHIP"),
    RouterPattern.compile(
        r"setsockopt IP_MULTICAST_IF (?P<address>[\d.]+); " + _ERR,
        41028,
        address="{address}",
        call="IP_MULTICAST_IF",
    ),
    # -- end of the patterns added for reproduce
    RouterPattern.compile(r"adding VIF, Ix \d+ .* (?P<interface>[^\s,]+), Threshold", 41052),
    RouterPattern.compile(r"^Got \d+ byte buffer size", 41010),
)
ADDRESS_LINES = (
    AddressLine.compile(r"buildIfVc: Interface (?P<interface>\S+) Addr: (?P<address>\S+),"),
)
# Harmless: the select() in its main loop is interrupted by the stop signal.
IGNORE = re.compile(r"select\(\) failure; Errno\(4\)|can't leave group")

_VIF = re.compile(r"adding VIF, Ix (?P<index>\d+) .* (?P<interface>[^\s,]+), Threshold")
_INSERTED = re.compile(r"Inserted route table entry for (?P<group>\S+) on VIF #(?P<index>\d+)")
_REMOVED = re.compile(
    r"Removing route entry for (?P<group>\S+)|leaving group (?P<left>\S+) now|"
    r"All routes removed"
)


class IgmpproxyAdapter(ExternalAdapter):
    """igmpproxy in the foreground, its config rendered from the scenario's router section."""

    name: ClassVar[str] = "igmpproxy"
    binary: ClassVar[str] = "igmpproxy"
    programs: ClassVar[tuple[str, ...]] = ("igmpproxy",)
    package: ClassVar[str] = "igmpproxy"
    # Its startup queries are 6-13 s apart and not configurable.
    compare_window: ClassVar[float] = 14.0
    router_patterns = PATTERNS
    address_lines = ADDRESS_LINES
    ignore = IGNORE
    ready_id: ClassVar[int | None] = 41010

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        config = workdir / CONFIG_NAME
        config.write_text(render_config(spec))
        return [self.program() or self.binary, "-d", "-vv", str(config)]

    def queries_on(self, spec: RouterSpec) -> tuple[str, ...]:
        """igmpproxy queries on its downstream interfaces only."""
        upstream = upstream_of(spec)
        return tuple(name for name in spec.interface_names if name != upstream)

    def query_period(self, spec: RouterSpec) -> float | None:
        """Not configurable: after its start-up queries (6-13 s apart) they come every 125 s,
        too rarely to wait for; an exploration judges its joins instead."""
        return None

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        path = workdir / STDERR_NAME
        if not path.exists():
            return None
        return parse_state(path.read_text(errors="replace").splitlines(), self.interface_names)


def upstream_of(spec: RouterSpec) -> str:
    """The upstream interface: ``options: {upstream: NAME}``, else the first interface."""
    names = spec.interface_names
    chosen = str(spec.extra.get("upstream", names[0] if names else ""))
    if names and chosen not in names:
        raise ValueError(f"igmpproxy upstream {chosen!r} is not one of the interfaces {names}")
    return chosen


def render_config(spec: RouterSpec) -> str:
    """igmpproxy.conf: quickleave, one upstream, the other interfaces downstream, lo disabled."""
    upstream = upstream_of(spec)
    lines = ["quickleave"]
    for name in spec.interface_names:
        role = "upstream" if name == upstream else "downstream"
        lines.append(f"phyint {name} {role} ratelimit 0 threshold 1")
    if "lo" not in spec.interface_names:
        lines.append("phyint lo disabled")
    return "\n".join(lines) + "\n"


def parse_state(lines: list[str], names: tuple[str, ...]) -> RouterState:
    """The routing table igmpproxy's log describes: groups per downstream interface."""
    vifs: dict[str, str] = {}
    groups: dict[str, set[str]] = {}
    for line in lines:
        if found := _VIF.search(line):
            vifs[found["index"]] = found["interface"]
        elif found := _INSERTED.search(line):
            interface = vifs.get(found["index"])
            if interface is not None:
                groups.setdefault(interface, set()).add(found["group"])
        elif found := _REMOVED.search(line):
            gone = found["group"] or found["left"]
            for members in groups.values():
                if gone is None:
                    members.clear()
                else:
                    members.discard(gone)
    names = names or tuple(vifs.values())
    return RouterState(interface_states(names, vifs.values(), groups), raw={"vifs": vifs})
