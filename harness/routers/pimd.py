"""The pimd adapter (Debian's pimd 2.3.2, unpacked by scripts/install-routers.sh): PIM-SM with an
IGMPv3 querier on every enabled interface.

pimd's pid file (/var/run/pimd.pid) and its dump files (/var/run/pimd/) are fixed paths: one pimd
per host. To run several side by side, each pimd gets a private mount namespace (``unshare
--mount``, propagation private, so nothing reaches the host) in which the workdir's ``run/``
folder is bind-mounted over /run; the pid file lands in ``WORKDIR/run/pimd.pid``. ``unshare``
and ``sh`` exec in turn, so the pid the runner holds is pimd's.

Run as ``pimd -f -N -c CONF --debug=igmp,kernel,interfaces -s debug`` (``-N``: only the
configured interfaces). Ready when each interface "comes up" (41052). Its errors carry only the
strerror text, or none. ``pimd -r`` lists routes, not IGMP memberships (groups without an RP
route never appear), so the state is read from its ``igmp_members`` debug log: "SM group order
from SRC (*,G)" on the interface whose subnet holds SRC, until "accept_leave_message".
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.routers.base import STDERR_NAME, STDOUT_NAME, RouterState
from harness.routers.external import (
    PIMD_DIR,
    AddressBook,
    AddressLine,
    ExternalAdapter,
    RouterPattern,
    find_program,
    interface_states,
)

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

CONFIG_NAME = "pimd.conf"
RUN_DIR = "run"  # bind-mounted over /run in pimd's private mount namespace
PID_NAME = "pimd.pid"

PATTERNS: tuple[RouterPattern, ...] = (
    RouterPattern.compile(
        # pimd logs this line only when MRT_INIT failed with EADDRINUSE (src/kern.c), without
        # the errno: the pattern says it (added for `faultlab reproduce`, issue 21)
        r"Another multicast routing application is already running",
        41028,
        errno="EADDRINUSE",
        call="MRT_INIT",
    ),
    RouterPattern.compile(
        r"Failed creating IGMP socket in init_igmp\(\): (?P<errno>.+)", 41024, call="socket"
    ),
    RouterPattern.compile(
        r"Cannot join group (?P<group>\S+) on interface (?P<address>\S+) \(ifindex \d+\): "
        r"(?P<errno>.+)",
        41028,
        address="{address}",
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        # pimd writes it for EPERM or EHOSTUNREACH, without the errno (src/igmp.c): a firewall's
        # EPERM, the usual one (added for `faultlab reproduce`, issue 21)
        r"Not allowed to send IGMP message from (?P<src>\S+) to (?P<dst>[^\s,]+)",
        41019,
        errno="EPERM",
        address="{src}",
        strings=("{src}", "{dst}"),
        call="sendto",
    ),
    RouterPattern.compile(
        r"sendto from (?P<src>\S+) to (?P<dst>\S+).*?: (?P<errno>[A-Z][^:]+)$",
        41019,
        address="{src}",
        strings=("{src}", "{dst}"),
        call="sendto",
    ),
    # -- added for `faultlab reproduce` (issue 21): send_igmp()'s other sendto failures,
    # logit(..., errno, "Sendto to %s on %s", dst, src) (src/igmp.c)
    RouterPattern.compile(
        r"Sendto to (?P<dst>[\d.]+) on (?P<src>[\d.]+): (?P<errno>.+)",
        41019,
        address="{src}",
        strings=("{src}", "{dst}"),
        call="sendto",
    ),
    # pimd's logit(LOG_ERR, errno, ...) of MRT_INIT
    # (any errno but EADDRINUSE) and MRT_ADD_VIF (src/kern.c)
    RouterPattern.compile(
        r"Cannot enable multicast routing in kernel: (?P<errno>.+)", 41028, call="MRT_INIT"
    ),
    RouterPattern.compile(
        r"setsockopt MRT_ADD_VIF on vif \d+: (?P<errno>.+)", 41028, call="MRT_ADD_VIF"
    ),
    # -- end of the patterns added for reproduce
    RouterPattern.compile(r"Interface (?P<interface>\S+) comes up; vif #\d+ now in service", 41052),
    RouterPattern.compile(r"pimd version \S+ starting", 41010),
)
ADDRESS_LINES = (
    AddressLine.compile(
        r"Installing (?P<interface>\S+) \((?P<address>[\d.]+) on subnet (?P<subnet>[\d./]+)\)"
    ),
)

_GROUP_ORDER = re.compile(r"SM group order from\s+(?P<source>[\d.]+) \(\*,(?P<group>[\d.]+)\)")
_LEAVE = re.compile(r"accept_leave_message\(\): src (?P<source>[\d.]+) .* group (?P<group>[\d.]+)")
_UP = re.compile(r"Interface (?P<interface>\S+) comes up")
_DOWN = re.compile(r"Interface (?P<interface>\S+) goes down")


TIMER_TICK = 5  # seconds: pimd's timers advance in steps of this


class PimdAdapter(ExternalAdapter):
    """pimd in the foreground, in a private mount namespace for its fixed pid and dump paths."""

    name: ClassVar[str] = "pimd"
    binary: ClassVar[str] = "pimd"
    programs: ClassVar[tuple[str, ...]] = ("pimd",)
    program_dirs: ClassVar[tuple[str, ...]] = (str(PIMD_DIR / "usr/sbin"),)
    package: ClassVar[str] = "pimd"
    package_note: ClassVar[str] = "unpacked: it conflicts with smcroute and frr"
    unpacked: ClassVar[bool] = True
    # Its timers tick every 5 s, so its queries come 5 s apart even with a shorter interval.
    compare_window: ClassVar[float] = 8.0
    router_patterns = PATTERNS
    address_lines = ADDRESS_LINES

    def requires(self, spec: RouterSpec) -> list[str]:
        reasons = super().requires(spec)
        for helper in ("unshare", "mount", "sh"):
            if find_program(helper) is None:
                reasons.append(f"pimd: {helper!r} (util-linux) is needed for its private /run")
        return reasons

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        config = workdir / CONFIG_NAME
        config.write_text(render_config(spec))
        run = workdir / RUN_DIR
        run.mkdir(exist_ok=True)
        pimd = [
            self.program() or self.binary,
            "-f",
            "-N",
            "-c",
            str(config),
            "--debug=igmp,kernel,interfaces",
            "-s",
            "debug",
        ]
        inner = f"mount --bind {shlex.quote(str(run))} /run && exec {shlex.join(pimd)}"
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", inner]

    def query_period(self, spec: RouterSpec) -> float | None:
        """Its configured interval in whole seconds, but never under its 5 s timer tick."""
        interval = spec.timers.get("query_interval")
        return None if interval is None else float(max(TIMER_TICK, math.ceil(float(interval))))

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        lines: list[str] = []
        for name in (STDOUT_NAME, STDERR_NAME):
            path = workdir / name
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        if not lines:
            return None
        return parse_state(lines, self.interface_names)

    @staticmethod
    def pid_file(workdir: Path) -> Path:
        """Where pimd's pid file lands (its /var/run/pimd.pid, seen from the host)."""
        return workdir / RUN_DIR / PID_NAME


def render_config(spec: RouterSpec) -> str:
    """pimd.conf: every interface enabled; the IGMP query interval in whole seconds."""
    lines = [f"phyint {name} enable" for name in spec.interface_names]
    interval = spec.timers.get("query_interval")
    if interval is not None:
        lines.append(f"igmp-query-interval {max(1, math.ceil(float(interval)))}")
    return "\n".join(lines) + "\n"


def parse_state(lines: list[str], names: tuple[str, ...]) -> RouterState:
    """Interfaces that came up, and host memberships per interface, from pimd's debug log."""
    book = AddressBook()
    active: set[str] = set()
    groups: dict[str, set[str]] = {}
    for line in lines:
        book.learn(ADDRESS_LINES, line)
        if found := _UP.search(line):
            active.add(found["interface"])
        elif found := _DOWN.search(line):
            active.discard(found["interface"])
        elif found := _GROUP_ORDER.search(line):
            interface = book.interface_of(found["source"])
            if interface is not None and not found["group"].startswith("224.0.0."):
                groups.setdefault(interface, set()).add(found["group"])
        elif found := _LEAVE.search(line):
            interface = book.interface_of(found["source"])
            if interface is not None:
                groups.get(interface, set()).discard(found["group"])
    names = names or tuple(sorted(active))
    return RouterState(interface_states(names, active, groups), raw=None)
