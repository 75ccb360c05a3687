"""What igmpd says when an ioctl about an interface or a once-per-process start-up call fails.

The findings of `faultlab explore` (docs/explore.md): an address lookup that failed was logged
as "no IPv4 address" whatever the errno, and the start-up calls (the ioctl socket, the
namespace lock's socket and bind, the first SIOCGIFINDEX) exited with a wrong reason or a
traceback. Now an interface's failed lookup is 41055 naming the ioctl and its errno, retried
like any failed activation; a start-up call's failure is one line naming the call and the
errno, with exit status 2 (ENODEV: no such interface), 3 (EADDRINUSE on the lock) or 4.

Unit tests fake the ioctl and the socket module; namespace tests fail the real calls with the
harness's seccomp faults, as test_igmpd_faults.py does, on any kernel (no multicast routing
needed: the calls come before either receive path).
"""

from __future__ import annotations

import errno
import io
import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest
from igmpd_testlib import IGMPD, seccomp_errno, stretched, wait_for

import igmpd.__main__ as entry
from igmpd import netif
from igmpd.cli import build_parser, config_from
from igmpd.events import EventLog
from igmpd.router import Router
from igmpd.state import StateFile

AF_UNIX, AF_INET, SOCK_DGRAM = 1, 2, 2
PAIR = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"}]}
BARE = {"nodes": ["r1", "h1"], "links": [{"a": "r1:e0", "b": "h1:e0 10.0.1.2/24"}]}


# --- unit: netif ---------------------------------------------------------------------------


class _FakeControl:
    def fileno(self) -> int:
        return -1


def _answering(failing: int, err: int) -> Callable[[int, int, bytes], bytes]:
    """An fcntl.ioctl stand-in: request ``failing`` fails with err, every other one answers
    (index 7, flags up, 10.0.1.1/24)."""

    def ioctl(fd: int, request: int, buffer: bytes) -> bytes:
        if request == failing:
            raise OSError(err, "faked")
        answer = {
            netif.SIOCGIFINDEX: (7).to_bytes(4, "little"),
            netif.SIOCGIFFLAGS: netif.IFF_UP.to_bytes(2, "little"),
            netif.SIOCGIFADDR: bytes(4) + bytes([10, 0, 1, 1]),
            netif.SIOCGIFNETMASK: bytes(4) + bytes([255, 255, 255, 0]),
        }[request]
        return buffer[:16] + answer + bytes(16 - len(answer))

    return ioctl


@pytest.fixture
def fake_ioctl(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """fake_ioctl(request, errno): that request fails, the others answer; no real socket."""
    monkeypatch.setattr(netif, "_control_socket", _FakeControl)

    def install(failing: int, err: int) -> None:
        monkeypatch.setattr(netif.fcntl, "ioctl", _answering(failing, err))

    return install


def test_every_lookup_answering_gives_a_link_without_a_failure(fake_ioctl) -> None:
    fake_ioctl(0, 0)
    link = netif.read_link("e0")
    assert (link.index, link.up, link.address, str(link.network)) == (
        7,
        True,
        "10.0.1.1",
        "10.0.1.0/24",
    )
    assert link.call is None and not link.missing and not link.no_address


@pytest.mark.parametrize(
    ("request_", "err", "missing", "no_address"),
    [
        (netif.SIOCGIFINDEX, errno.ENODEV, True, False),
        (netif.SIOCGIFINDEX, errno.ENOMEM, False, False),
        (netif.SIOCGIFFLAGS, errno.ENODEV, False, False),
        (netif.SIOCGIFADDR, errno.EADDRNOTAVAIL, False, True),
        (netif.SIOCGIFADDR, errno.ENODEV, False, False),
        (netif.SIOCGIFNETMASK, errno.EADDRNOTAVAIL, False, True),
        (netif.SIOCGIFNETMASK, errno.ENODEV, False, False),
    ],
)
def test_a_failed_lookup_is_kept_with_its_call_and_errno(
    fake_ioctl, request_: int, err: int, missing: bool, no_address: bool
) -> None:
    fake_ioctl(request_, err)
    link = netif.read_link("e0")
    assert (link.call, link.errno) == (netif.REQUEST_NAMES[request_], err)
    assert (link.missing, link.no_address) == (missing, no_address)
    assert link.address is None and link.network is None


def test_exists_is_false_only_for_enodev(fake_ioctl) -> None:
    fake_ioctl(netif.SIOCGIFINDEX, errno.ENODEV)
    assert netif.exists("e0") is False
    fake_ioctl(netif.SIOCGIFINDEX, errno.EFAULT)
    with pytest.raises(netif.IoctlFailed) as failure:
        netif.exists("e0")
    assert (failure.value.call, failure.value.errno) == ("SIOCGIFINDEX", errno.EFAULT)


# --- unit: the router's 41055 --------------------------------------------------------------


def _router(stream: io.StringIO) -> Router:
    config = config_from(build_parser().parse_args(["-i", "e0", "--retry-interval", "0.5"]))
    return Router(config, EventLog(stream), StateFile(None), clock=lambda: 100.0)


@pytest.mark.parametrize(
    ("call", "err", "reason"),
    [
        ("SIOCGIFADDR", errno.EADDRNOTAVAIL, "the interface has no IPv4 address"),
        ("SIOCGIFNETMASK", errno.EADDRNOTAVAIL, "the interface has no IPv4 address"),
        ("SIOCGIFADDR", errno.ENODEV, "SIOCGIFADDR failed: ENODEV (No such device)"),
        ("SIOCGIFNETMASK", errno.ENOMEM, "SIOCGIFNETMASK failed: ENOMEM (Cannot allocate memory)"),
        ("SIOCGIFFLAGS", errno.ENODEV, "SIOCGIFFLAGS failed: ENODEV (No such device)"),
        ("SIOCGIFINDEX", errno.EFAULT, "SIOCGIFINDEX failed: EFAULT (Bad address)"),
    ],
)
def test_a_failed_lookup_is_41055_naming_the_call_and_errno_and_retried(
    monkeypatch: pytest.MonkeyPatch, call: str, err: int, reason: str
) -> None:
    index = None if call == "SIOCGIFINDEX" else 7
    link = netif.Link("e0", index, True, None, None, call, err)
    monkeypatch.setattr(netif, "read_link", lambda name: link)
    stream = io.StringIO()
    router = _router(stream)
    interface = router.interfaces[0]
    assert router.activate(interface) is False
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [r["id"] for r in records] == [41055]  # no socket step ran, so no step's event
    record = records[0]
    assert (record["call"], record["errno"], record["reason"]) == (call, err, reason)
    assert "step" not in record and record["strings"] == ["3", "e0"]
    state = router.snapshot()["interfaces"]["e0"]
    assert (state["status"], state["failed_step"], state["call"]) == ("inactive", None, call)
    assert state["errno_name"] == errno.errorcode[err] and state["reason"] == reason
    assert interface.retry_timer is not None and interface.retry_timer.deadline == 100.5


# --- unit: the start-up calls --------------------------------------------------------------


class _FakeLock:
    def __init__(self, bind_errno: int | None) -> None:
        self.bind_errno = bind_errno
        self.closed = False

    def bind(self, name: bytes) -> None:
        if self.bind_errno is not None:
            raise OSError(self.bind_errno, "faked")

    def close(self) -> None:
        self.closed = True


def test_the_lock_socket_failing_names_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise OSError(errno.EMFILE, "faked")

    monkeypatch.setattr(entry.socket, "socket", refuse)
    with pytest.raises(entry.StartupCallFailed) as failure:
        entry.take_namespace_lock()
    assert str(failure.value) == (
        "socket AF_UNIX (the namespace lock) failed: EMFILE (Too many open files)"
    )


@pytest.mark.parametrize("err", [errno.EADDRNOTAVAIL, errno.EACCES, errno.ENOMEM])
def test_only_eaddrinuse_on_the_lock_means_another_igmpd(
    monkeypatch: pytest.MonkeyPatch, err: int
) -> None:
    locks: list[_FakeLock] = []
    monkeypatch.setattr(
        entry.socket, "socket", lambda *a: locks.append(_FakeLock(err)) or locks[-1]
    )
    with pytest.raises(entry.StartupCallFailed) as failure:
        entry.take_namespace_lock()
    assert str(failure.value).startswith(
        f"bind @igmpd (the namespace lock) failed: {errno.errorcode[err]} ("
    )
    assert locks[0].closed
    locks.clear()
    monkeypatch.setattr(
        entry.socket, "socket", lambda *a: locks.append(_FakeLock(errno.EADDRINUSE)) or locks[-1]
    )
    with pytest.raises(entry.AlreadyRunning):
        entry.take_namespace_lock()


def test_an_errno_without_a_name_is_still_said() -> None:
    assert str(entry.StartupCallFailed("bind @igmpd", 4095)).startswith(
        "bind @igmpd failed: errno 4095 ("
    )


# --- namespaces: the real calls failed by seccomp ------------------------------------------


def _run(node: Any, preexec: Any, *args: str) -> subprocess.CompletedProcess:
    proc = node.popen(
        [*IGMPD, "-i", "e0", "--event-log", "-", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec=preexec,
    )
    out, err = proc.communicate(timeout=stretched(10.0))
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


SIOCGIFINDEX_RULE = (1, netif.SIOCGIFINDEX, None)
START_UP_FAULTS = [
    # id, seccomp rule, exit status, the whole stderr line
    ("ioctl-socket", seccomp_errno("socket", errno.EMFILE, (0, AF_INET, None), (1, SOCK_DGRAM, 0xFF)),
     4, "igmpd: error: socket AF_INET SOCK_DGRAM (the interface ioctl socket) failed: "
        "EMFILE (Too many open files)"),
    ("lock-socket", seccomp_errno("socket", errno.ENFILE, (0, AF_UNIX, None)),
     4, "igmpd: error: socket AF_UNIX (the namespace lock) failed: "
        "ENFILE (Too many open files in system)"),
    ("lock-bind-enomem", seccomp_errno("bind", errno.ENOMEM),
     4, "igmpd: error: bind @igmpd (the namespace lock) failed: ENOMEM (Cannot allocate memory)"),
    ("lock-bind-eaddrinuse", seccomp_errno("bind", errno.EADDRINUSE),
     3, "igmpd: error: another igmpd is already running in this network namespace"),
    ("siocgifindex-enomem", seccomp_errno("ioctl", errno.ENOMEM, SIOCGIFINDEX_RULE),
     4, "igmpd: error: ioctl SIOCGIFINDEX e0 failed: ENOMEM (Cannot allocate memory)"),
    ("siocgifindex-enodev", seccomp_errno("ioctl", errno.ENODEV, SIOCGIFINDEX_RULE),
     2, "igmpd: error: interface e0 does not exist in this network namespace"),
]  # fmt: skip


@pytest.mark.netns
@pytest.mark.parametrize(
    ("preexec", "status", "line"),
    [f[1:] for f in START_UP_FAULTS],
    ids=[f[0] for f in START_UP_FAULTS],
)
def test_a_start_up_call_failing_is_one_truthful_line_and_its_status(
    make_lab, preexec: Any, status: int, line: str
) -> None:
    result = _run(make_lab(PAIR).node("r1"), preexec)
    assert (result.returncode, result.stderr) == (status, line + "\n")
    assert '"id": 41010' not in result.stdout  # igmpd never started routing


def _first_call_fails(request: int, err: str) -> Any:
    """A supervised harness fault that fails only the first ioctl(request): the retry's goes
    through. (fault launch, preexec)."""
    from harness.faults.base import Launch
    from harness.faults.seccomp import SyscallErrorFault

    fault = SyscallErrorFault(syscall="ioctl", errno=err, args={"arg1": request}, nth=1)
    launch = Launch(argv=[])
    fault.prepare(launch)
    return launch, launch.preexec_fn()


@pytest.mark.netns
@pytest.mark.parametrize(
    ("request_", "err", "reason"),
    [
        (netif.SIOCGIFADDR, "ENODEV", "SIOCGIFADDR failed: ENODEV (No such device)"),
        (netif.SIOCGIFNETMASK, "ENOMEM", "SIOCGIFNETMASK failed: ENOMEM (Cannot allocate memory)"),
        (netif.SIOCGIFADDR, "EADDRNOTAVAIL", "the interface has no IPv4 address"),
    ],
    ids=["SIOCGIFADDR-ENODEV", "SIOCGIFNETMASK-ENOMEM", "SIOCGIFADDR-EADDRNOTAVAIL"],
)
def test_a_failed_address_lookup_names_the_call_and_errno_then_recovers(
    make_lab, start_igmpd, request_: int, err: str, reason: str
) -> None:
    lab = make_lab(PAIR)
    launch, preexec = _first_call_fails(request_, err)
    try:
        router = start_igmpd(lab.node("r1"), ["e0"], preexec=preexec)
        record = router.wait_event(id=41055, interface="e0")
        assert (record["call"], record["errno_name"], record["reason"]) == (
            netif.REQUEST_NAMES[request_],
            err,
            reason,
        )
        assert "step" not in record
        router.wait_event(id=41052, interface="e0")  # the retry's lookups answer
        wait_for("e0 active", lambda: router.interface("e0").get("status") == "active")
        assert router.proc.poll() is None and len(router.find(id=41055)) == 1
    finally:
        if launch.supervisor is not None:
            launch.supervisor.close()


@pytest.mark.netns
def test_an_interface_without_an_address_says_so_until_it_gets_one(make_lab, start_igmpd) -> None:
    lab = make_lab(BARE)
    node = lab.node("r1")
    router = start_igmpd(node, ["e0"])
    record = router.wait_event(id=41055, interface="e0")
    assert (record["call"], record["errno_name"]) == ("SIOCGIFADDR", "EADDRNOTAVAIL")
    assert record["reason"] == "the interface has no IPv4 address" and "step" not in record
    node.add_address("e0", "10.0.1.1/24")
    router.wait_event(id=41052, interface="e0")
    wait_for(
        "e0 active with its address",
        lambda: (
            router.interface("e0").get("address") == "10.0.1.1"
            and router.interface("e0").get("status") == "active"
        ),
        last=router.state,
    )
