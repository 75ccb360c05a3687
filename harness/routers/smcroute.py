"""The smcroute adapter (Debian's smcroute 2.5.6): a static multicast routing daemon.

smcroute is not an IGMP querier and ignores host joins; it joins the groups it is configured
with (``mgroup``) and sends multicast-router-discovery adverts (IGMP type 0x30) on each
``phyint ... enable mrdisc``. Run as ``smcrouted -n -N -l debug -m 4 -f CONF -u SOCK -P PID``
with the config, control socket and pid file in the workdir; ready at "Ready, waiting for
client request"; state from ``smcroutectl -p -u SOCK show interfaces`` and ``show groups``.
Errors carry ``error N: text``, ``N: text`` or only the strerror text.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.routers.base import RouterState
from harness.routers.external import (
    ExternalAdapter,
    RouterPattern,
    find_program,
    interface_states,
    status_output,
)

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

CONFIG_NAME = "smcroute.conf"
SOCKET_NAME = "smcroute.sock"
PID_NAME = "smcroute.pid"
STATUS_TIMEOUT = 2.0
# Joined (mgroup) on the first interface and routed to the others when the scenario gives no
# static group: as a QA setup would, and what makes the igmp_max_memberships=0 abort show.
DEFAULT_GROUP = "239.255.0.1"

PATTERNS: tuple[RouterPattern, ...] = (
    RouterPattern.compile(
        r"IPv4 multicast routing API already in use: (?P<errno>.+)", 41028, call="MRT_INIT"
    ),
    # One message for socket() and MRT_INIT failing (src/mroute.c): without CAP_NET_RAW it is
    # socket()'s EPERM; any other errno is MRT_INIT's default case (split for `faultlab
    # reproduce`, issue 21)
    RouterPattern.compile(
        r"Failed initializing IPv4 multicast routing API: "
        r"(?P<errno>Operation not permitted|Permission denied)",
        41024,
        call="socket",
    ),
    RouterPattern.compile(
        r"Failed initializing IPv4 multicast routing API: (?P<errno>.+)", 41028, call="MRT_INIT"
    ),
    RouterPattern.compile(
        r"Failed joining group \(?(?P<group>[^\s,)/]+)\S* on sd \d+ \.\.\. (?P<errno>\d+: .+)",
        41028,
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"Failed joining group (?P<group>[\d.]+): (?P<errno>.+)",
        41028,
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"Failed sending IGMP control message \S+ on (?P<interface>\S+), (?P<errno>error \d+.*)",
        41019,
        call="sendto",
    ),
    RouterPattern.compile(
        r"Failed creating VIF for (?P<interface>\S+): (?P<errno>.+)", 41028, call="MRT_ADD_VIF"
    ),
    # -- added for `faultlab reproduce` (issue 21): the MRT_INIT and MRT_ADD_VIF failures of
    # smcroute's other releases (src/mroute.c: "Failed adding VIF for iface %s: %s"; MRT_INIT's
    # ENOPROTOOPT and EOPNOTSUPP cases, "Kernel does not [even] support ...")
    RouterPattern.compile(
        r"Failed adding VIF for iface (?P<interface>\S+): (?P<errno>.+)", 41028, call="MRT_ADD_VIF"
    ),
    RouterPattern.compile(
        r"Kernel does not even support IGMP", 41028, errno="ENOPROTOOPT", call="MRT_INIT"
    ),
    RouterPattern.compile(
        r"Kernel does not support IPv4 multicast routing",
        41028,
        errno="EOPNOTSUPP",
        call="MRT_INIT",
    ),
    # -- end of the patterns added for reproduce
    RouterPattern.compile(r"Creating/updating multicast VIF for (?P<interface>\S+) ", 41052),
    RouterPattern.compile(r"Ready, waiting for client request", 41010),
)

_INTERFACE_ROW = re.compile(r"^\s*\d+\s+(?P<name>\S+)\s+(?P<vif>\S+)\s+\S+\s*$")
_GROUP_ROW = re.compile(r"^\((?P<source>[^,]+),\s*(?P<group>[^)]+)\)\s+(?P<iif>\S+)")


class SmcrouteAdapter(ExternalAdapter):
    """smcrouted in the foreground with private config, socket and pid file."""

    name: ClassVar[str] = "smcroute"
    binary: ClassVar[str] = "smcrouted"
    programs: ClassVar[tuple[str, ...]] = ("smcrouted",)
    package: ClassVar[str] = "smcroute"
    # It needs ~6 s of failed joins (one socket each) to run past FD_SETSIZE and abort under
    # igmp_max_memberships=0.
    compare_window: ClassVar[float] = 8.0
    querier: ClassVar[bool] = False  # a static multicast router: it ignores host joins
    router_patterns = PATTERNS
    ready_id: ClassVar[int | None] = 41010

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        config = workdir / CONFIG_NAME
        config.write_text(render_config(spec))
        return [
            self.program() or self.binary,
            "-n",
            "-N",
            "-l",
            "debug",
            "-m",
            str(_mrdisc_interval(spec)),
            "-f",
            str(config),
            "-u",
            str(workdir / SOCKET_NAME),
            "-P",
            str(workdir / PID_NAME),
        ]

    def query_period(self, spec: RouterSpec) -> float | None:
        """It sends no queries; its multicast router discovery adverts come this often."""
        return float(_mrdisc_interval(spec))

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        control = find_program("smcroutectl")
        socket = workdir / SOCKET_NAME
        if control is None or not socket.exists():
            return None
        shown = {}
        for what in ("interfaces", "groups"):
            output = status_output([control, "-p", "-u", str(socket), "show", what], STATUS_TIMEOUT)
            if output is None:
                return None
            shown[what] = output
        return parse_state(shown["interfaces"], shown["groups"], self.interface_names)


def render_config(spec: RouterSpec) -> str:
    """smcroute.conf: every interface with mrdisc; static groups as ``mgroup`` (default one)."""
    names = spec.interface_names
    lines = [f"phyint {name} enable mrdisc" for name in names]
    static = [(i.name, group) for i in spec.interfaces for group in i.static_groups]
    if not static and names:  # a static router with nothing to route tests nothing
        static = [(names[0], DEFAULT_GROUP)]
        lines += [f"mroute from {names[0]} group {DEFAULT_GROUP} to {' '.join(names[1:])}"]
    lines += [f"mgroup from {name} group {group}" for name, group in static]
    for route in spec.extra.get("routes", ()):
        lines.append(f"mroute from {route['from']} group {route['group']} to {route['to']}")
    return "\n".join(lines) + "\n"


def _mrdisc_interval(spec: RouterSpec) -> int:
    """The advert interval (4-180 s): the query interval when given, else the shortest."""
    wanted = spec.timers.get("query_interval", 4)
    return max(4, min(180, round(float(wanted))))


def parse_state(interfaces: str, groups: str, names: tuple[str, ...]) -> RouterState:
    """``show interfaces`` (a VIF means active) and ``show groups`` (its joins, by inbound IF)."""
    active = []
    for line in interfaces.splitlines():
        found = _INTERFACE_ROW.match(line)
        if found and found["vif"].isdigit():
            active.append(found["name"])
    joined: dict[str, set[str]] = {}
    for line in groups.splitlines():
        found = _GROUP_ROW.match(line.strip())
        if found:
            joined.setdefault(found["iif"], set()).add(found["group"].split("/")[0])
    names = names or tuple(active)
    raw = {"interfaces": interfaces, "groups": groups}
    return RouterState(interface_states(names, active, joined), raw=raw)
