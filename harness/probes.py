"""What a check is, and the probes that make one, run in a forked child (harness.features
reads them).

``Check`` (a feature's ``Status``, its detail and fix), the ``Feature`` names and what a missing
one costs; the kernel probes (a network namespace, a veth pair, a raw IGMP socket, MRT_INIT,
seccomp user notification, per-namespace sysctls, nftables over netlink) that run in a forked
child inside a throwaway network namespace named ``fl<random>-doctor`` that the child removes
again (a non-root user's child first enters its own user namespace, see harness/rootless.py),
and one sysctl key probed in a child of its own (:func:`probe_sysctl_key_in_child`). Nothing
here is cached: harness.features probes once per run.
"""

from __future__ import annotations

import ctypes
import errno as _errno
import json
import os
import select
import socket
import struct
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from harness import rootless
from harness.mroute import MRT_DONE, MRT_INIT
from netns.naming import new_run_id

PROBE_DEADLINE = 10.0  # seconds the probe child may take before it is killed (normally ~0.3 s)
SYSCTL_PROBE = "net/ipv4/igmp_max_memberships"
SYSCTL_PREFIX = "sysctl:"  # feature sysctl:<key>: that key is per network namespace here
ROUTER_PREFIX = "router:"  # feature router:<kind>: the programs of that router are installed
INSTALLER = "scripts/install-routers.sh"  # what installs the optional routers (router:<kind>)
#: The keys faults set, probed with the rest; any other key is probed when a scenario asks.
NAMESPACED_SYSCTLS = ("net.ipv4.igmp_max_memberships", "net.core.optmem_max")
SYSCTL_KEY_COST = "faults that set it are skipped (it is not per namespace on this kernel)"
SYSCTL_KEY_FIX = (
    "a kernel that keeps it per network namespace (`faultlab run --kernel` picks another)"
)


class Status(StrEnum):
    """The outcome of one check."""

    OK = "ok"
    DEGRADED = "degraded"
    MISSING = "missing"


class Feature(StrEnum):
    """What a scenario may need; the names the runner passes to :func:`missing`."""

    PRIVILEGE = "privilege"  # root, or able to create a user namespace (rootless mode)
    NETNS = "netns"  # named network namespaces
    VETH = "veth"  # veth pairs inside them
    RAW_SOCKET = "raw-socket"  # socket(AF_INET, SOCK_RAW, IPPROTO_IGMP)
    PACKET_SOCKET = "packet-socket"  # socket(AF_PACKET, SOCK_RAW): igmpd without MRT
    MRT = "mrt"  # the kernel's multicast routing: MRT_INIT on a raw IGMP socket
    SECCOMP = "seccomp"  # seccomp filters returning an errno (exact faults)
    SECCOMP_NOTIFY = "seccomp-notify"  # seccomp user notification (nth call, per interface)
    SYSCTL = "sysctl"  # per-namespace sysctls written inside a namespace
    NFTABLES = "nftables"  # nftables tables over netlink
    HOST_ROOT = "host-root"  # root in the initial user namespace (rlimits, other uids)


#: Features without which no scenario can run: when one is missing, the exit code is 3.
ESSENTIAL: frozenset[str] = frozenset(
    {Feature.PRIVILEGE, Feature.NETNS, Feature.VETH, Feature.RAW_SOCKET}
)

#: Optional routers: feature ``router:<kind>`` for every adapter that needs programs installed
#: (harness.routers.installable(): the adapter class names its programs, the directories
#: Debian and scripts/install-routers.sh put them in, and its package).

#: What a missing feature costs, shown on its line.
COSTS: dict[str, str] = {
    Feature.PRIVILEGE: "no scenario can run",
    Feature.NETNS: "no scenario can run",
    Feature.VETH: "no topology can be built",
    Feature.RAW_SOCKET: "no IGMP router can run",
    Feature.PACKET_SOCKET: "igmpd cannot receive IGMP without multicast routing",
    Feature.MRT: "scenarios that need it are skipped (MRT faults, other routers, "
    "igmpd with multicast_routing: on); igmpd runs on packet sockets",
    Feature.SECCOMP: "exact syscall-error faults are skipped",
    Feature.SECCOMP_NOTIFY: "nth-call and per-interface syscall faults are skipped",
    Feature.SYSCTL: "sysctl faults (igmp_max_memberships, optmem_max) are skipped",
    Feature.NFTABLES: "firewall faults (sendto EPERM) are skipped",
    Feature.HOST_ROOT: "faults that need host root (rlimits, other uids) are skipped",
}

FIXES: dict[str, str] = {
    Feature.NETNS: "run as root with CAP_SYS_ADMIN (docker: --privileged, or --cap-add SYS_ADMIN)",
    Feature.VETH: "run with CAP_NET_ADMIN (docker: --cap-add NET_ADMIN); the veth module must load",
    Feature.RAW_SOCKET: "run with CAP_NET_RAW (docker: --cap-add NET_RAW)",
    Feature.PACKET_SOCKET: "run with CAP_NET_RAW; the kernel needs CONFIG_PACKET",
    Feature.MRT: "a kernel with CONFIG_IP_MROUTE (`faultlab run --kernel` runs the scenarios "
    "in a virtme-ng guest that has it); CAP_NET_ADMIN",
    Feature.SECCOMP: "install libseccomp2 (apt-get install libseccomp2) and pip install pyseccomp",
    Feature.SECCOMP_NOTIFY: "a kernel >= 5.0 and libseccomp >= 2.5 (apt-get install libseccomp2)",
    Feature.SYSCTL: "run with CAP_NET_ADMIN; /proc/sys must be writable (not read-only)",
    Feature.NFTABLES: "the kernel needs nf_tables (modprobe nf_tables as root); CAP_NET_ADMIN",
    Feature.HOST_ROOT: "run as root (sudo faultlab ...)",
}


@dataclass(frozen=True)
class Check:
    """The result of one probe: the feature, its status, what was seen, and how to fix it."""

    name: str
    status: Status
    detail: str
    fix: str = ""

    @property
    def essential(self) -> bool:
        return self.name in ESSENTIAL

    def line(self) -> str:
        """The check as one plain line: ``status  name  detail [-> fix]``."""
        text = f"{self.status.value:<9}{self.name:<17} {self.detail}"
        if self.status is not Status.OK and self.fix:
            text += f" -> {self.fix}"
        return text

    def to_json(self) -> dict[str, str]:
        return {k: str(v) for k, v in asdict(self).items()}


def describe_oserror(exc: Exception) -> str:
    """``EPERM (Operation not permitted)`` for an OSError or a pyroute2 NetlinkError."""
    code = getattr(exc, "errno", None) or getattr(exc, "code", None) or 0
    if not isinstance(code, int) or code <= 0:
        return repr(exc)
    name = _errno.errorcode.get(code, str(code))
    return f"{name} ({os.strerror(code)})"


def ok_check(feature: str, detail: str) -> Check:
    return Check(feature, Status.OK, detail)


def missing_check(feature: str, detail: str, fix: str | None = None) -> Check:
    cost = COSTS.get(feature)
    text = f"{detail}; {cost}" if cost else detail
    return Check(feature, Status.MISSING, text, FIXES.get(feature, "") if fix is None else fix)


def degraded_check(feature: str, detail: str) -> Check:
    return Check(feature, Status.DEGRADED, f"{detail}; {COSTS[feature]}", FIXES.get(feature, ""))


# --- Probes in the child, inside the throwaway namespace ----------------------------------


def doctor_netns_name() -> str:
    """``fl<6 base-36 characters>-doctor``: unique per probe, recognisably faultlab's."""
    return "fl" + new_run_id() + "-doctor"


def _probe_netns(name: str) -> Check:
    """Create the named namespace and move the probe child into it."""
    from pyroute2 import netns

    try:
        netns.setns(name, flags=os.O_CREAT | os.O_EXCL, fork=False)
    except OSError as exc:
        return missing_check(Feature.NETNS, f"creating namespace {name}: {describe_oserror(exc)}")
    return ok_check(Feature.NETNS, f"created and entered {name}")


def _remove_netns(name: str) -> None:
    from pyroute2 import netns

    try:
        netns.remove(name)
    except OSError:
        pass  # never created (the netns check already says why)


def _probe_veth() -> Check:
    from pyroute2 import IPRoute, NetlinkError

    try:
        with IPRoute() as ipr:
            ipr.link("add", ifname="fldoc0", kind="veth", peer="fldoc1")
            ipr.link("del", index=ipr.link_lookup(ifname="fldoc0")[0])
    except (OSError, NetlinkError) as exc:
        return missing_check(Feature.VETH, f"adding a veth pair: {describe_oserror(exc)}")
    return ok_check(Feature.VETH, "veth pair added and deleted")


def _probe_raw_and_mrt() -> list[Check]:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    except OSError as exc:
        detail = f"socket(AF_INET, SOCK_RAW, IPPROTO_IGMP): {describe_oserror(exc)}"
        return [
            missing_check(Feature.RAW_SOCKET, detail),
            missing_check(Feature.MRT, "needs raw-socket"),
        ]
    with sock:
        raw = ok_check(Feature.RAW_SOCKET, "raw IGMP socket opened")
        try:
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
            sock.setsockopt(socket.IPPROTO_IP, MRT_DONE, b"")
        except OSError as exc:
            return [raw, missing_check(Feature.MRT, f"MRT_INIT: {describe_oserror(exc)}")]
    return [raw, ok_check(Feature.MRT, "MRT_INIT and MRT_DONE on a raw IGMP socket")]


def _probe_packet_socket() -> Check:
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)).close()
    except OSError as exc:
        return missing_check(
            Feature.PACKET_SOCKET, f"socket(AF_PACKET, SOCK_RAW): {describe_oserror(exc)}"
        )
    return ok_check(Feature.PACKET_SOCKET, "packet socket opened")


def _probe_sysctl_key(key: str) -> Check:
    """Is ``key`` per network namespace on this kernel: present in this (throwaway) namespace's
    /proc/sys and writable there (with the value it already has)."""
    name = SYSCTL_PREFIX + key
    path = Path("/proc/sys") / key.replace(".", "/")
    try:
        value = path.read_text().strip()
        path.write_text(value)
    except OSError as exc:
        detail = f"{key} cannot be written inside a network namespace ({describe_oserror(exc)})"
        return Check(name, Status.MISSING, f"{detail}; {SYSCTL_KEY_COST}", SYSCTL_KEY_FIX)
    return ok_check(name, f"{key} is per network namespace")


def _probe_sysctl() -> Check:
    path = Path("/proc/sys") / SYSCTL_PROBE
    key = SYSCTL_PROBE.replace("/", ".")
    try:
        value = path.read_text().strip()
        path.write_text(value)  # the same value, in the throwaway namespace only
    except OSError as exc:
        return missing_check(
            Feature.SYSCTL, f"writing {key} in the namespace: {describe_oserror(exc)}"
        )
    return ok_check(Feature.SYSCTL, f"{key} written inside the namespace")


NFTABLES_DEADLINE = 3.0  # pyroute2 0.9.7 waits forever for the answer to a refused batch


def _nftables_grandchild() -> int:
    """Add and delete a table over netlink; the exit status is 0 or the errno."""
    from pyroute2 import NetlinkError
    from pyroute2.nftables.main import NFTables

    try:
        with NFTables() as nft:
            nft.table("add", name="fldoctor")
            nft.table("del", name="fldoctor")
    except (OSError, NetlinkError) as exc:
        code = getattr(exc, "errno", None) or getattr(exc, "code", None)
        return code if isinstance(code, int) and 0 < code < 256 else 255
    return 0


def _probe_nftables() -> Check:
    status = _in_child(_nftables_grandchild, deadline=NFTABLES_DEADLINE)
    what = "nftables table over netlink"
    if status == 0:
        return ok_check(Feature.NFTABLES, "nftables table added and deleted over netlink")
    if status < 0:
        return missing_check(Feature.NFTABLES, f"{what}: no answer within {NFTABLES_DEADLINE} s")
    return missing_check(Feature.NFTABLES, f"{what}: {describe_oserror(OSError(status, ''))}")


# Exit statuses of the seccomp probe's grandchild.
_SECCOMP_NOTIFY_OK, _SECCOMP_ERRNO_ONLY, _SECCOMP_NONE, _SECCOMP_NO_LIB = 0, 10, 11, 12


def _seccomp_grandchild() -> int:
    """Load a NOTIFY filter on getppid and answer one notification from a second thread."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return _SECCOMP_NO_LIB
    try:
        flt = sc.SyscallFilter(sc.ALLOW)
        flt.add_rule(sc.NOTIFY, "getppid")
        flt.load()
    except OSError:
        return _seccomp_errno_only(sc)
    answer: list[int] = []
    caller = threading.Thread(target=lambda: answer.append(_getppid_errno()))
    caller.start()
    note = flt.receive_notify()
    flt.respond_notify(sc.NotificationResponse(-_errno.ENOTSUP, 0, note.id, 0))
    caller.join()
    return _SECCOMP_NOTIFY_OK if answer == [_errno.ENOTSUP] else _SECCOMP_ERRNO_ONLY


def _getppid_errno() -> int:
    """getppid(2) through ctypes, which releases the GIL while the call waits on the supervisor."""
    libc = ctypes.CDLL(None, use_errno=True)
    result = libc.getppid()  # glibc passes the kernel's -errno through without setting errno
    return -result if result < 0 else 0


def _seccomp_errno_only(sc: object) -> int:
    try:
        flt = sc.SyscallFilter(sc.ALLOW)  # type: ignore[attr-defined]
        flt.add_rule(sc.ERRNO(_errno.ENOTSUP), "getppid")  # type: ignore[attr-defined]
        flt.load()
    except OSError:
        return _SECCOMP_NONE
    return _SECCOMP_ERRNO_ONLY


def _probe_seccomp() -> list[Check]:
    status = _in_child(_seccomp_grandchild, deadline=2.0)
    if status == _SECCOMP_NOTIFY_OK:
        detail = "filter with a NOTIFY rule answered by a supervisor"
        return [
            ok_check(Feature.SECCOMP, "errno filters load"),
            ok_check(Feature.SECCOMP_NOTIFY, detail),
        ]
    if status == _SECCOMP_ERRNO_ONLY:
        return [
            ok_check(Feature.SECCOMP, "errno filters load"),
            degraded_check(
                Feature.SECCOMP_NOTIFY, "user notification unavailable, errno filters work"
            ),
        ]
    why = {_SECCOMP_NO_LIB: "pyseccomp or libseccomp.so.2 not found"}.get(
        status, f"loading a filter failed (probe exit {status})"
    )
    return [missing_check(Feature.SECCOMP, why), missing_check(Feature.SECCOMP_NOTIFY, why)]


def _in_child(fn: Callable[[], int], deadline: float) -> int:
    """``fn()`` in a forked child; its return value is the exit status (-1 on timeout)."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            code = fn()
        finally:
            os._exit(code)
    return _wait_child(pid, deadline)


def _wait_child(pid: int, deadline: float) -> int:
    """Wait for a child with a deadline (pidfd + poll, no sleeping); kill it when late."""
    pidfd = os.pidfd_open(pid)
    try:
        ready, _, _ = select.select([pidfd], [], [], deadline)
        if not ready:
            os.kill(pid, 9)
    finally:
        os.close(pidfd)
    _, status = os.waitpid(pid, 0)
    return -1 if os.WIFSIGNALED(status) else os.waitstatus_to_exitcode(status)


def lab_probes(name: str) -> list[Check]:
    """Every kernel probe, run in the current process (a throwaway child) inside ``name``."""
    made = _probe_netns(name)
    if made.status is not Status.OK:
        needs = [
            f
            for f in LAB_FEATURES
            if f not in (Feature.NETNS, Feature.SECCOMP, Feature.SECCOMP_NOTIFY)
        ]
        return [made, *(missing_check(f, "needs netns") for f in needs), *_probe_seccomp()]
    try:
        return [
            made,
            _probe_veth(),
            *_probe_raw_and_mrt(),
            _probe_packet_socket(),
            *_probe_seccomp(),
            _probe_sysctl(),
            *(_probe_sysctl_key(key) for key in NAMESPACED_SYSCTLS),
            _probe_nftables(),
        ]
    finally:
        _remove_netns(name)


LAB_FEATURES: tuple[str, ...] = (
    Feature.NETNS,
    Feature.VETH,
    Feature.RAW_SOCKET,
    Feature.MRT,
    Feature.PACKET_SOCKET,
    Feature.SECCOMP,
    Feature.SECCOMP_NOTIFY,
    Feature.SYSCTL,
    *(SYSCTL_PREFIX + key for key in NAMESPACED_SYSCTLS),
    Feature.NFTABLES,
)


def _probe_child_main(write_fd: int, name: str, enter_userns: bool) -> None:
    """Body of the probe child: enter a user namespace if rootless, probe, send JSON, exit."""
    try:
        if enter_userns:
            rootless.enter()
        payload = [c.to_json() for c in lab_probes(name)]
        os.write(write_fd, json.dumps(payload).encode())
    except BaseException as exc:  # report anything, never return into the parent's code
        os.write(write_fd, json.dumps({"error": f"{type(exc).__name__}: {exc}"}).encode())
    finally:
        os._exit(0)


def run_lab_probes(enter_userns: bool, deadline: float = PROBE_DEADLINE) -> list[Check]:
    """The kernel checks, from a forked child (in a fresh user namespace when asked)."""
    import pyroute2  # noqa: F401  imported once here so the child does not pay for it

    name = doctor_netns_name()
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _probe_child_main(write_fd, name, enter_userns)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        status = _wait_child(pid, deadline)
        data = pipe.read()
    if not enter_userns and os.path.exists(f"/run/netns/{name}"):
        _remove_netns(name)  # the child was killed before its own cleanup ran
    return _parse_probe_output(data, status)


def _parse_probe_output(data: bytes, status: int) -> list[Check]:
    try:
        payload = json.loads(data) if data else {"error": f"probe child exited with {status}"}
    except json.JSONDecodeError:
        payload = {"error": f"probe child sent garbage (exit {status})"}
    if isinstance(payload, dict):
        why = f"the probe failed: {payload['error']}"
        return [missing_check(feature, why, fix="") for feature in LAB_FEATURES]
    return [Check(d["name"], Status(d["status"]), d["detail"], d["fix"]) for d in payload]


def _unshare_netns() -> None:
    """unshare(CLONE_NEWNET) through libc (os.unshare is Python 3.12 and newer)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(rootless.CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"unshare(CLONE_NEWNET): {os.strerror(code)}")


def probe_sysctl_key_in_child(key: str) -> Check:
    """Whether ``key`` is per network namespace here, probed in a forked child that enters a
    network namespace of its own (unshare: nothing named, nothing left behind)."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        try:
            _unshare_netns()
            payload: object = _probe_sysctl_key(key).to_json()
        except BaseException as exc:  # report anything, never return into the parent's code
            payload = {"error": f"{type(exc).__name__}: {exc}"}
        os.write(write_fd, json.dumps(payload).encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd, "rb") as pipe:
        status = _wait_child(pid, PROBE_DEADLINE)
        data = pipe.read()
    try:
        item = json.loads(data)
        return Check(item["name"], Status(item["status"]), item["detail"], item["fix"])
    except (ValueError, KeyError, TypeError):
        detail = f"probing {key} failed (exit {status}): {data[:200]!r}"
        return Check(SYSCTL_PREFIX + key, Status.MISSING, detail, "")
