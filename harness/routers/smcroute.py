"""The smcroute adapter (Debian's smcroute 2.5.6): a static multicast routing daemon.

Its behaviour that is data (argv, config template, patterns, readiness, advert period) is its
profile, harness/routers/profiles/smcroute.yaml; this module is the hook the profile names
(``SmcrouteHooks``): its state, read with ``smcroutectl``.

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
from typing import TYPE_CHECKING, Any

from harness.routers.base import RouterState
from harness.routers.external import (
    find_program,
    interface_states,
    status_output,
)

if TYPE_CHECKING:
    pass

CONFIG_NAME = "smcroute.conf"
SOCKET_NAME = "smcroute.sock"
PID_NAME = "smcroute.pid"
STATUS_TIMEOUT = 2.0
# Joined (mgroup) on the first interface and routed to the others when the scenario gives no
# static group: as a QA setup would, and what makes the igmp_max_memberships=0 abort show.
DEFAULT_GROUP = "239.255.0.1"

_INTERFACE_ROW = re.compile(r"^\s*\d+\s+(?P<name>\S+)\s+(?P<vif>\S+)\s+\S+\s*$")
_GROUP_ROW = re.compile(r"^\((?P<source>[^,]+),\s*(?P<group>[^)]+)\)\s+(?P<iif>\S+)")


class SmcrouteHooks:
    """What smcroute's profile cannot say as data (mixed into its ProfileAdapter)."""

    interface_names: tuple[str, ...]

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
