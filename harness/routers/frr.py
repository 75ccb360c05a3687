"""The FRR adapter (Debian's frr 8.4): FRR's pimd, with the zebra it needs, IGMPv3 querier.

Its behaviour that is data (config template, patterns, ignored lines, stop signal, query period)
is its profile, harness/routers/profiles/frr.yaml; this module is the hook the profile names
(``FrrHooks``): the two daemons started by a launcher script in private namespaces, the config
folder given to user frr, FRR's own programs folder, and its state, read with vtysh.

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
import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.routers.base import RouterState
from harness.routers.external import (
    find_program,
    interface_states,
    status_output,
)
from harness.routers.profile import render_argv

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

FRR_DIR = Path("/usr/lib/frr")
STATE_DIR = "frr"  # in the workdir; /run for the daemons
LAUNCHER_NAME = "launch.sh"
INNER_RUN = "/run"
STATUS_TIMEOUT = 3.0
ZSERV_WAIT_STEPS = 100  # x 0.05 s: how long the launcher waits for zebra's socket


class FrrHooks:
    """What FRR's profile cannot say as data (mixed into its ProfileAdapter)."""

    interface_names: tuple[str, ...]

    @classmethod
    def program(cls) -> str | None:
        needed = (FRR_DIR / "zebra", FRR_DIR / "pimd")
        if all(path.is_file() and os.access(path, os.X_OK) for path in needed):
            return str(FRR_DIR / "pimd")
        return None

    def requires(self, spec: RouterSpec) -> list[str]:
        reasons: list[str] = super().requires(spec)  # type: ignore[misc]
        if not reasons:
            try:
                pwd.getpwnam("frr")
            except KeyError:
                reasons.append("frr: user 'frr' is missing (the frr package creates it)")
        return reasons

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        """zebra.conf, pimd.conf (the profile's template) and the launcher in the workdir's
        frr/ folder, given to user frr; the profile's argv runs the launcher."""
        folder = workdir / STATE_DIR
        folder.mkdir(exist_ok=True)
        (folder / "zebra.conf").write_text("hostname faultlab\n")
        (folder / "pimd.conf").write_text(self.render_config(spec, Path(".")) or "")  # type: ignore[attr-defined]
        (folder / "var-tmp").mkdir(exist_ok=True)
        _give_to_frr(folder)
        launcher = workdir / LAUNCHER_NAME
        launcher.write_text(render_launcher(folder))
        return render_argv(self.profile.argv, self.context(spec, workdir))  # type: ignore[attr-defined]

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        shown = {}
        for what in ("interface", "groups"):
            data = vtysh_json(workdir / STATE_DIR, f"show ip igmp {what} json")
            if data is None:
                return None
            shown[what] = data
        return parse_state(shown["interface"], shown["groups"], self.interface_names)


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
