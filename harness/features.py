"""The features a scenario may need from this host, probed for real: the ground floor of runs.

Each check is a small probe of one feature (a network namespace, a veth pair, a raw IGMP
socket, MRT_INIT, seccomp user notification, a per-namespace sysctl, nftables over netlink, an
optional router). The probes that touch the kernel run in a forked child, inside a throwaway
network namespace named ``fl<random>-doctor`` that the child removes again; a non-root user's
child first enters its own user namespace, exactly as a rootless run does (see
harness/rootless.py), so the answer is the one ``faultlab run`` will meet.

The runner, the pytest plugin, explore and ``faultlab doctor`` all read these checks (the
doctor only prints them): a scenario that needs a missing feature is skipped with the reason
(:func:`missing`, :func:`unmet`) instead of failing obscurely. Results are computed once per
process (:func:`checks`, reset by ``harness.caches.reset("run")``) and handed to worker processes
through the environment (:func:`share_checks`).

Statuses: ``ok``; ``degraded`` (a weaker form is here: scenarios needing the full feature are
skipped, the line says what it costs); ``missing`` (absent: when the feature is essential no
scenario can run and the exit code is 3).
"""

from __future__ import annotations

import ctypes
import errno as _errno
import functools
import json
import os
import select
import socket
import struct
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path

from harness import caches, rootless
from harness.errors import ExitCode
from harness.mroute import MRT_DONE, MRT_INIT
from netns.naming import new_run_id

PROBE_DEADLINE = 10.0  # seconds the probe child may take before it is killed (normally ~0.3 s)
SYSCTL_PROBE = "net/ipv4/igmp_max_memberships"
SYSCTL_PREFIX = "sysctl:"  # feature sysctl:<key>: that key is per network namespace here
ROUTER_PREFIX = "router:"  # feature router:<kind>: the programs of that router are installed
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


def _ok(feature: str, detail: str) -> Check:
    return Check(feature, Status.OK, detail)


def _missing(feature: str, detail: str, fix: str | None = None) -> Check:
    cost = COSTS.get(feature)
    text = f"{detail}; {cost}" if cost else detail
    return Check(feature, Status.MISSING, text, FIXES.get(feature, "") if fix is None else fix)


def _degraded(feature: str, detail: str) -> Check:
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
        return _missing(Feature.NETNS, f"creating namespace {name}: {describe_oserror(exc)}")
    return _ok(Feature.NETNS, f"created and entered {name}")


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
        return _missing(Feature.VETH, f"adding a veth pair: {describe_oserror(exc)}")
    return _ok(Feature.VETH, "veth pair added and deleted")


def _probe_raw_and_mrt() -> list[Check]:
    try:
        sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_IGMP)
    except OSError as exc:
        detail = f"socket(AF_INET, SOCK_RAW, IPPROTO_IGMP): {describe_oserror(exc)}"
        return [_missing(Feature.RAW_SOCKET, detail), _missing(Feature.MRT, "needs raw-socket")]
    with sock:
        raw = _ok(Feature.RAW_SOCKET, "raw IGMP socket opened")
        try:
            sock.setsockopt(socket.IPPROTO_IP, MRT_INIT, struct.pack("i", 1))
            sock.setsockopt(socket.IPPROTO_IP, MRT_DONE, b"")
        except OSError as exc:
            return [raw, _missing(Feature.MRT, f"MRT_INIT: {describe_oserror(exc)}")]
    return [raw, _ok(Feature.MRT, "MRT_INIT and MRT_DONE on a raw IGMP socket")]


def _probe_packet_socket() -> Check:
    try:
        socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0800)).close()
    except OSError as exc:
        return _missing(
            Feature.PACKET_SOCKET, f"socket(AF_PACKET, SOCK_RAW): {describe_oserror(exc)}"
        )
    return _ok(Feature.PACKET_SOCKET, "packet socket opened")


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
    return _ok(name, f"{key} is per network namespace")


def _probe_sysctl() -> Check:
    path = Path("/proc/sys") / SYSCTL_PROBE
    key = SYSCTL_PROBE.replace("/", ".")
    try:
        value = path.read_text().strip()
        path.write_text(value)  # the same value, in the throwaway namespace only
    except OSError as exc:
        return _missing(Feature.SYSCTL, f"writing {key} in the namespace: {describe_oserror(exc)}")
    return _ok(Feature.SYSCTL, f"{key} written inside the namespace")


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
        return _ok(Feature.NFTABLES, "nftables table added and deleted over netlink")
    if status < 0:
        return _missing(Feature.NFTABLES, f"{what}: no answer within {NFTABLES_DEADLINE} s")
    return _missing(Feature.NFTABLES, f"{what}: {describe_oserror(OSError(status, ''))}")


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
        return [_ok(Feature.SECCOMP, "errno filters load"), _ok(Feature.SECCOMP_NOTIFY, detail)]
    if status == _SECCOMP_ERRNO_ONLY:
        return [
            _ok(Feature.SECCOMP, "errno filters load"),
            _degraded(Feature.SECCOMP_NOTIFY, "user notification unavailable, errno filters work"),
        ]
    why = {_SECCOMP_NO_LIB: "pyseccomp or libseccomp.so.2 not found"}.get(
        status, f"loading a filter failed (probe exit {status})"
    )
    return [_missing(Feature.SECCOMP, why), _missing(Feature.SECCOMP_NOTIFY, why)]


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
        return [made, *(_missing(f, "needs netns") for f in needs), *_probe_seccomp()]
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
        return [_missing(feature, why, fix="") for feature in LAB_FEATURES]
    return [Check(d["name"], Status(d["status"]), d["detail"], d["fix"]) for d in payload]


# --- Checks in the doctor's own process ---------------------------------------------------


def privilege_check(who: rootless.Identity) -> Check:
    """Root, root in a user namespace, or a user who can create one (rootless mode)."""
    if who.mode == "root":
        return _ok(Feature.PRIVILEGE, "running as root")
    if who.mode == "rootless":
        return _ok(Feature.PRIVILEGE, "root inside a user namespace (rootless mode)")
    blocker = rootless.userns_blocker()
    if blocker:
        detail = f"not root (uid {who.uid}) and no user namespaces: {blocker}"
        return _missing(Feature.PRIVILEGE, detail, fix=rootless.USERNS_FIX)
    return _ok(Feature.PRIVILEGE, f"not root (uid {who.uid}): runs rootless in a user namespace")


def host_root_check(who: rootless.Identity) -> Check:
    if who.host_root:
        return _ok(Feature.HOST_ROOT, "root in the host's user namespace")
    return _degraded(Feature.HOST_ROOT, "rootless: root only inside a user namespace")


def router_kinds() -> list[str]:
    """The kinds the doctor checks: every router adapter that needs programs installed."""
    from harness.routers import installable

    return list(installable())


def router_fix() -> str:
    """How to install the optional routers: the script, or their Debian packages."""
    from harness.routers import installable
    from harness.routers.external import INSTALLER

    packages = [a.package for a in installable().values() if a.package and not a.unpacked]
    return f"sudo {INSTALLER} (or apt-get install {' '.join(dict.fromkeys(packages))})"


def find_router(kind: str) -> list[str]:
    """Paths of the programs router ``kind`` needs; empty if any is missing."""
    from harness.routers import ADAPTERS

    return ADAPTERS[kind].program_paths()


def router_check(kind: str) -> Check:
    from harness.routers import ADAPTERS

    name = ROUTER_PREFIX + kind
    paths = find_router(kind)
    if paths:
        return _ok(name, " ".join(paths))
    progs = ", ".join(ADAPTERS[kind].programs)
    detail = f"{progs} not found; scenarios with router kind {kind} are skipped"
    return _missing(name, detail, fix=router_fix())


def run_checks(deadline: float = PROBE_DEADLINE) -> list[Check]:
    """Every check, probed now (not cached). About 0.3 s on a 2-core machine."""
    who = rootless.identity()
    privilege = privilege_check(who)
    if privilege.status is Status.MISSING:
        lab = [_missing(f, "needs privilege", fix="") for f in LAB_FEATURES]
    else:
        lab = run_lab_probes(enter_userns=who.mode == "user", deadline=deadline)
    routers = [router_check(kind) for kind in router_kinds()]
    return [privilege, *lab, host_root_check(who), *routers]


#: Where a run hands its checks to its worker processes (JSON), so a run probes once.
SHARED_ENV = "FAULTLAB_DOCTOR"


@functools.cache
def checks() -> tuple[Check, ...]:
    """Every check, probed once per run (what :func:`missing` answers from).

    A process started by a run that already probed (an xdist worker) reads the run's results
    from the environment; anything else probes now.
    """
    shared = os.environ.get(SHARED_ENV)
    if shared:
        try:
            return tuple(
                Check(item["name"], Status(item["status"]), item["detail"], item.get("fix", ""))
                for item in json.loads(shared)
            )
        except (ValueError, KeyError, TypeError):
            pass
    return tuple(run_checks())


caches.register(
    "features.checks", checks.cache_clear, "run", "the host's checks, probed once per run"
)


def share_checks() -> None:
    """Probe now (once) and hand the results to the processes this one starts."""
    os.environ[SHARED_ENV] = json.dumps([check.to_json() for check in checks()])


def known_features() -> list[str]:
    """Feature names :func:`missing` answers (plus ``sysctl:<any net.* key>``)."""
    return [
        *(f.value for f in Feature),
        *(SYSCTL_PREFIX + key for key in NAMESPACED_SYSCTLS),
        *(ROUTER_PREFIX + kind for kind in router_kinds()),
    ]


def _is_known(name: str) -> bool:
    return name in known_features() or (
        name.startswith(SYSCTL_PREFIX + "net.") and len(name) > len(SYSCTL_PREFIX) + 4
    )


def _unshare_netns() -> None:
    """unshare(CLONE_NEWNET) through libc (os.unshare is Python 3.12 and newer)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(rootless.CLONE_NEWNET) != 0:
        code = ctypes.get_errno()
        raise OSError(code, f"unshare(CLONE_NEWNET): {os.strerror(code)}")


@functools.cache
def sysctl_check(key: str) -> Check:
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


caches.register("features.sysctl_check", sysctl_check.cache_clear, "run", "per-namespace sysctls")


def missing(features: Iterable[str]) -> str | None:
    """The skip reason for a scenario needing ``features``, or None when all are here.

    A feature counts as here only when its check is ``ok``. Unknown names raise ValueError
    naming them (a typo in a requirement must not silently skip or run a scenario).
    """
    return describe(unmet(features))


def describe(short: Sequence[tuple[str, Check]]) -> str | None:
    """``mrt missing: ...; sysctl:... missing: ...``: the skip reason for :func:`unmet`'s list."""
    reasons = [f"{name} {check.status.value}: {check.detail}" for name, check in short]
    return "; ".join(reasons) or None


def unmet(features: Iterable[str]) -> list[tuple[str, Check]]:
    """Each needed feature whose check is not ``ok``, with that check, in name order (the names
    are what ``--allow-skip`` matches)."""
    wanted = sorted(set(features))
    unknown = [name for name in wanted if not _is_known(name)]
    if unknown:
        raise ValueError(f"unknown feature(s) {unknown}; known: {', '.join(known_features())}")
    by_name = {check.name: check for check in checks()}
    for name in wanted:
        if name not in by_name and name.startswith(SYSCTL_PREFIX):
            by_name[name] = sysctl_check(name.removeprefix(SYSCTL_PREFIX))
        elif name not in by_name and name.startswith(ROUTER_PREFIX):
            # An adapter registered after this run probed (its check was not shared yet).
            by_name[name] = router_check(name.removeprefix(ROUTER_PREFIX))
    return [(name, by_name[name]) for name in wanted if by_name[name].status is not Status.OK]


def exit_code(results: Iterable[Check]) -> ExitCode:
    """ENVIRONMENT (3) when an essential feature is missing, else OK (0)."""
    broken = any(c.essential and c.status is Status.MISSING for c in results)
    return ExitCode.ENVIRONMENT if broken else ExitCode.OK
