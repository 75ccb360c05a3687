"""The FRR adapter (Debian's frr 8.4): FRR's pimd, with the zebra it needs, IGMPv3 querier.

FRR is two daemons. The adapter's command starts both in a private PID and mount namespace
(``unshare --pid --fork --kill-child --mount``): a small launcher script starts zebra, waits
for its zserv socket (bounded), then execs pimd, which becomes the namespace's init; when pimd
exits, or the runner's stop signal ends ``unshare``, the kernel ends zebra too, so nothing
outlives the run. The exit status ``unshare`` returns is pimd's.

FRR daemons drop to user ``frr``, which must read their config and write their sockets: the
workdir's ``frr/`` folder (owner frr, mode 750) is bind-mounted over /run in the private mount
namespace, so the frr user never needs to traverse the workdir's parents. Config, pid files,
zserv socket and vty sockets are all there, private to this instance. Both daemons log to
stdout (``--log stdout --log-level debug``); FRR's lines carry a stable message id in
brackets (``[YZ9CW-KEVKQ]``), which the patterns match. State: ``vtysh --vty_socket DIR -d
pimd -c 'show ip igmp interface json'`` and ``'show ip igmp groups json'``.
"""

from __future__ import annotations

import grp
import json
import os
import pwd
import re
import shlex
import signal
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

FRR_DIR = Path("/usr/lib/frr")
STATE_DIR = "frr"  # in the workdir; /run for the daemons
LAUNCHER_NAME = "launch.sh"
INNER_RUN = "/run"
STATUS_TIMEOUT = 3.0
ZSERV_WAIT_STEPS = 100  # x 0.05 s: how long the launcher waits for zebra's socket

PATTERNS: tuple[RouterPattern, ...] = (
    RouterPattern.compile(
        r"\[X7TC8-XJ95M\].*MRT_INIT=1\): errno=(?P<errno>\d+)", 41028, call="MRT_INIT"
    ),
    RouterPattern.compile(
        r"\[YZ9CW-KEVKQ\] Send IGMPv\d query failed due to (?P<dst>\S+) on (?P<interface>[^:]+):"
        r".*errno=(?P<errno>\d+)",
        41019,
        strings=("{dst}",),
        call="sendto",
    ),
    RouterPattern.compile(
        r"\[YBRY1-7GNSQ\].*Failure socket joining fd=\d+ group (?P<group>\S+) on interface "
        r"address (?P<address>\S+): (?P<errno>.+)",
        41028,
        address="{address}",
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"\[T2HFW-M700R\] Could not open IGMP socket for (?P<address>\S+) on (?P<interface>\S+)",
        41055,
        strings=("3", "{interface}"),
    ),
    RouterPattern.compile(r"privs_init: initial cap_set_proc failed: (?P<errno>.+)", 41024),
    # -- added for `faultlab reproduce` (issue 21): pim_mroute.c's zlog_warn of MRT_INIT and
    # MRT_ADD_VIF as every FRR release words it, with or without the message id (older releases
    # and some syslog setups have none; before 8.x the level is IPPROTO_IP, not PIM_IPPROTO)
    RouterPattern.compile(
        r"failure: setsockopt\(fd=-?\d+,\s*(?:IPPROTO_IP|PIM_IPPROTO),MRT_INIT=1\): "
        r"errno=(?P<errno>\d+)",
        41028,
        call="MRT_INIT",
    ),
    RouterPattern.compile(
        r"failure: setsockopt\(fd=-?\d+,\s*(?:IPPROTO_IP|PIM_IPPROTO),MRT_ADD_VIF,"
        r"vif_index=\d+,ifaddr=(?P<address>[^,)]+)[^)]*\): errno=(?P<errno>\d+)",
        41028,
        address="{address}",
        call="MRT_ADD_VIF",
    ),
    RouterPattern.compile(
        r"Failure socket joining fd=\d+ group (?P<group>\S+) on interface address "
        r"(?P<address>\S+): (?P<errno>.+)",
        41028,
        address="{address}",
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"setsockopt\(fd=\d+\) failure for IGMP group (?P<group>\S+) source \S+ ifindex \d+ on "
        r"interface (?P<interface>\S+): errno=(?P<errno>\d+)",
        41028,
        call="IP_ADD_MEMBERSHIP {group}",
    ),
    RouterPattern.compile(
        r"Send IGMPv\d query failed due to (?P<dst>\S+) on (?P<interface>[^:]+):"
        r".*errno=(?P<errno>\d+)",
        41019,
        strings=("{dst}",),
        call="sendto",
    ),
    # -- end of the patterns added for reproduce
    RouterPattern.compile(
        r"\[SPXBS-HQCC1\] PIM INTERFACE UP: on interface (?P<interface>\S+)", 41052
    ),
    RouterPattern.compile(r"\[T83RR-8SM5G\] pimd \S+ starting", 41010),
)
# Harmless on every start or stop (compare against a clean run): addresses not known yet, the
# hello sent before the PIM socket exists, zebra noticing its clients leave at shutdown.
IGNORE = re.compile(
    r"could not get address for interface|fd=-1 .*Bad file descriptor|"
    r"Interface removed from configuration|encountered an error and is shutting down|"
    r"stream_read_try: read failed|vif_index=0 < 1"
)


class FrrAdapter(ExternalAdapter):
    """zebra + FRR's pimd in a private PID and mount namespace, paths private to the workdir."""

    name: ClassVar[str] = "frr"
    binary: ClassVar[str] = "pimd"
    # unshare's parent ignores SIGTERM while it waits for its child; SIGKILL ends it at once,
    # --kill-child then kills pimd (the PID namespace's init) and the kernel ends zebra.
    stop_signal: ClassVar[int] = signal.SIGKILL
    programs: ClassVar[tuple[str, ...]] = ("zebra", "pimd")
    program_dirs: ClassVar[tuple[str, ...]] = (str(FRR_DIR),)
    package: ClassVar[str] = "frr"
    router_patterns = PATTERNS
    ignore = IGNORE

    @classmethod
    def program(cls) -> str | None:
        needed = (FRR_DIR / "zebra", FRR_DIR / "pimd")
        if all(path.is_file() and os.access(path, os.X_OK) for path in needed):
            return str(FRR_DIR / "pimd")
        return None

    def requires(self, spec: RouterSpec) -> list[str]:
        reasons = super().requires(spec)
        if not reasons:
            try:
                pwd.getpwnam("frr")
            except KeyError:
                reasons.append("frr: user 'frr' is missing (the frr package creates it)")
        return reasons

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        folder = workdir / STATE_DIR
        folder.mkdir(exist_ok=True)
        (folder / "zebra.conf").write_text("hostname faultlab\n")
        (folder / "pimd.conf").write_text(render_config(spec))
        (folder / "var-tmp").mkdir(exist_ok=True)
        _give_to_frr(folder)
        launcher = workdir / LAUNCHER_NAME
        launcher.write_text(render_launcher(folder))
        return [
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--propagation",
            "private",
            "--",
            "sh",
            str(launcher),
        ]

    def query_period(self, spec: RouterSpec) -> float | None:
        """Its configured interval, in whole seconds (at least 1), as render_config writes it."""
        interval = spec.timers.get("query_interval")
        return None if interval is None else float(max(1, round(float(interval))))

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        shown = {}
        for what in ("interface", "groups"):
            data = vtysh_json(workdir / STATE_DIR, f"show ip igmp {what} json")
            if data is None:
                return None
            shown[what] = data
        return parse_state(shown["interface"], shown["groups"], self.interface_names)


def render_config(spec: RouterSpec) -> str:
    """pimd.conf: ``ip pim`` and ``ip igmp`` on each interface, version and query interval."""
    interval = spec.timers.get("query_interval")
    response = spec.timers.get("query_response_interval")
    lines: list[str] = []
    for name in spec.interface_names:
        lines += [f"interface {name}", " ip pim", " ip igmp"]
        if spec.version in (2, 3):
            lines.append(f" ip igmp version {spec.version}")
        if response is not None:  # deciseconds; FRR wants it <= 10 x the query interval
            lines.append(f" ip igmp query-max-response-time {max(1, round(float(response) * 10))}")
        if interval is not None:
            lines.append(f" ip igmp query-interval {max(1, round(float(interval)))}")
        lines.append("!")
    return "\n".join(lines) + "\n"


def render_launcher(folder: Path) -> str:
    """The script run as init of the private namespaces: /run <- folder, zebra, then pimd.

    /var/tmp is private too: FRR keeps crash logs in /var/tmp/frr/<daemon>.<pid>, and pids are
    small and equal in every private PID namespace. If zebra exits before its socket appears
    (no CAP_NET_RAW ...), the launcher exits with zebra's status instead of starting pimd.
    """
    run = INNER_RUN
    common = f"-z {run}/zserv.api --vty_socket {run} -P 0 --log stdout --log-level debug"
    scratch = shlex.quote(str(folder / "var-tmp"))
    return "\n".join(
        [
            "#!/bin/sh",
            "# faultlab: FRR's zebra + pimd, private /run and /var/tmp (harness/routers/frr.py)",
            f"mount --bind {shlex.quote(str(folder))} {run} || exit 125",
            f"mount --bind {scratch} /var/tmp || exit 125",
            f"{FRR_DIR}/zebra -f {run}/zebra.conf -i {run}/zebra.pid {common} &",
            "zebra=$!",
            "i=0",
            f'while [ ! -S {run}/zserv.api ] && [ "$i" -lt {ZSERV_WAIT_STEPS} ]; do',
            '    kill -0 "$zebra" 2>/dev/null || { wait "$zebra"; exit $?; }',
            "    sleep 0.05; i=$((i + 1))",
            "done",
            f"exec {FRR_DIR}/pimd -f {run}/pimd.conf -i {run}/pimd.pid {common}",
            "",
        ]
    )


def _give_to_frr(folder: Path) -> None:
    """The folder and its files to user frr, mode 750 (the daemons drop to frr)."""
    uid = pwd.getpwnam("frr").pw_uid
    gid = grp.getgrnam("frr").gr_gid
    for path in (folder, *folder.iterdir()):
        os.chown(path, uid, gid)
    folder.chmod(0o750)


def vtysh_json(folder: Path, command: str) -> Any:
    """``vtysh -c COMMAND`` against this instance's pimd; its JSON, or None if it can't answer."""
    vtysh = find_program("vtysh")
    if vtysh is None or not (folder / "pimd.vty").exists():
        return None
    argv = [vtysh, "--vty_socket", str(folder), "-d", "pimd", "-c", command]
    output = status_output(argv, STATUS_TIMEOUT)
    if output is None:
        return None
    try:
        return json.loads(output or "{}")
    except json.JSONDecodeError:
        return None


def parse_state(interfaces: Any, groups: Any, names: tuple[str, ...]) -> RouterState:
    """``show ip igmp interface json`` (state up) + ``show ip igmp groups json``."""
    active = [
        name
        for name, item in (interfaces or {}).items()
        if isinstance(item, dict) and item.get("state") == "up"
    ]
    learned: dict[str, set[str]] = {}
    for name, item in (groups or {}).items():
        if isinstance(item, dict) and isinstance(item.get("groups"), list):
            learned[name] = {entry["group"] for entry in item["groups"] if "group" in entry}
    names = names or tuple(sorted(active))
    return RouterState(
        interface_states(names, active, learned), raw={"interface": interfaces, "groups": groups}
    )
