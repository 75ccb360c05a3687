"""The pimd adapter (Debian's pimd 2.3.2, unpacked by scripts/install-routers.sh): PIM-SM with an
IGMPv3 querier on every enabled interface.

Its behaviour that is data (argv, config template, patterns, address lines, query period) is its
profile, harness/routers/profiles/pimd.yaml; this module is the hook the profile names
(``PimdHooks``): the private mount namespace for its fixed pid file, the helpers that needs, and
its state, read from its igmp debug log.

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

import re
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.routers.base import STDERR_NAME, STDOUT_NAME, RouterState
from harness.routers.external import (
    PIMD_DIR,
    AddressBook,
    AddressLine,
    find_program,
    interface_states,
)

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

CONFIG_NAME = "pimd.conf"
RUN_DIR = "run"  # bind-mounted over /run in pimd's private mount namespace
PID_NAME = "pimd.pid"

_GROUP_ORDER = re.compile(r"SM group order from\s+(?P<source>[\d.]+) \(\*,(?P<group>[\d.]+)\)")
_LEAVE = re.compile(r"accept_leave_message\(\): src (?P<source>[\d.]+) .* group (?P<group>[\d.]+)")
_UP = re.compile(r"Interface (?P<interface>\S+) comes up")
_DOWN = re.compile(r"Interface (?P<interface>\S+) goes down")


TIMER_TICK = 5  # seconds: pimd's timers advance in steps of this (its profile's query_period)


class PimdHooks:
    """What pimd's profile cannot say as data (mixed into its ProfileAdapter)."""

    interface_names: tuple[str, ...]
    name: str
    #: Where scripts/install-routers.sh unpacked it: $FAULTLAB_PIMD_DIR (a hook's attribute
    #: overrides the profile's ``program_dirs``).
    program_dirs: tuple[str, ...] = (str(PIMD_DIR / "usr/sbin"),)

    def requires(self, spec: RouterSpec) -> list[str]:
        reasons: list[str] = super().requires(spec)  # type: ignore[misc]
        for helper in ("unshare", "mount", "sh"):
            if find_program(helper) is None:
                reasons.append(f"pimd: {helper!r} (util-linux) is needed for its private /run")
        return reasons

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        """The profile's argv, run in a private mount namespace whose /run is ``WORKDIR/run``
        (pimd's pid file and dump files are fixed paths); ``sh`` execs pimd, so the pid the
        runner holds is pimd's."""
        pimd = super().command(spec, workdir)  # type: ignore[misc]
        run = workdir / RUN_DIR
        run.mkdir(exist_ok=True)
        inner = f"mount --bind {shlex.quote(str(run))} /run && exec {shlex.join(pimd)}"
        return ["unshare", "--mount", "--propagation", "private", "--", "sh", "-c", inner]

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        lines: list[str] = []
        for name in (STDOUT_NAME, STDERR_NAME):
            path = workdir / name
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        if not lines:
            return None
        return parse_state(lines, self.interface_names, self.address_lines)  # type: ignore[attr-defined]

    @staticmethod
    def pid_file(workdir: Path) -> Path:
        """Where pimd's pid file lands (its /var/run/pimd.pid, seen from the host)."""
        return workdir / RUN_DIR / PID_NAME


def parse_state(
    lines: list[str], names: tuple[str, ...], address_lines: tuple[AddressLine, ...]
) -> RouterState:
    """Interfaces that came up, and host memberships per interface, from pimd's debug log
    (``address_lines``: the profile's, which say which address is which interface)."""
    book = AddressBook()
    active: set[str] = set()
    groups: dict[str, set[str]] = {}
    for line in lines:
        book.learn(address_lines, line)
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
