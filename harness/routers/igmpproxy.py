"""The igmpproxy adapter (Debian's igmpproxy 0.3): an IGMP proxy, querier on downstream links.

Its behaviour that is data (argv, config template, patterns, address lines, readiness, timers)
is its profile, harness/routers/profiles/igmpproxy.yaml; this module is the hook the profile
names (``IgmpproxyHooks``): the upstream interface checked before the start, the interfaces it
queries on, and its state, read back from its own log.

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
from typing import TYPE_CHECKING, Any

from harness.routers.base import STDERR_NAME, RouterState
from harness.routers.external import interface_states

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

CONFIG_NAME = "igmpproxy.conf"

_VIF = re.compile(r"adding VIF, Ix (?P<index>\d+) .* (?P<interface>[^\s,]+), Threshold")
_INSERTED = re.compile(r"Inserted route table entry for (?P<group>\S+) on VIF #(?P<index>\d+)")
_REMOVED = re.compile(
    r"Removing route entry for (?P<group>\S+)|leaving group (?P<left>\S+) now|"
    r"All routes removed"
)


class IgmpproxyHooks:
    """What igmpproxy's profile cannot say as data (mixed into its ProfileAdapter)."""

    interface_names: tuple[str, ...]

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        upstream_of(spec)  # an upstream that is not one of the interfaces: refused before start
        return super().command(spec, workdir)  # type: ignore[misc]

    def queries_on(self, spec: RouterSpec) -> tuple[str, ...]:
        """igmpproxy queries on its downstream interfaces only."""
        upstream = upstream_of(spec)
        return tuple(name for name in spec.interface_names if name != upstream)

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
