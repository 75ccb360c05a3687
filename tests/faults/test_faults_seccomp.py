"""Exact syscall errors on the probe: RET_ERRNO rules and the user-notify supervisor."""

from __future__ import annotations

import pytest

from harness.catalog import Step
from harness.faults.seccomp import StepErrorFault, SyscallErrorFault

# The User Action text's error classes, by name, number and Winsock code.
USER_ACTION = ["ENOBUFS", 12, "EINVAL", "ESOCKTNOSUPPORT", 10047, "EADDRINUSE", "EISCONN", 10065]
USER_ACTION_NAMES = [
    "ENOBUFS",
    "ENOMEM",
    "EINVAL",
    "ESOCKTNOSUPPORT",
    "EAFNOSUPPORT",
    "EADDRINUSE",
    "EISCONN",
    "EHOSTUNREACH",
]

# One probe command per step, after the setup the step needs.
STEP_PROBES: dict[Step, tuple[list[str], str]] = {
    Step.CREATE_SOCKET: ([], "socket e0"),
    Step.BIND: (["socket e0"], "bindtodevice e0"),
    Step.REQUEST_MULTICAST: (["socket e0"], "join e0 224.0.0.22"),
    Step.ROUTER_ALERT: (["socket e0"], "router_alert e0"),
    Step.HEADER_INCLUDE: (["socket e0"], "hdrincl e0"),
    Step.EVENT_SELECT: (["socket e0"], "epoll e0"),
    Step.SEND: (["socket e0", "multicast_if e0"], "send e0"),
    Step.RECEIVE: (["socket e0"], "recv e0"),
}


@pytest.mark.parametrize("given, name", list(zip(USER_ACTION, USER_ACTION_NAMES, strict=True)))
def test_syscall_error_returns_every_user_action_errno(start_probe, given, name):
    fault = SyscallErrorFault(
        syscall="setsockopt", args={"level": "IPPROTO_IP", "optname": "IP_HDRINCL"}, errno=given
    )
    probe = start_probe(fault)
    assert probe.errno("socket e0") is None
    assert probe.errno("hdrincl e0") == name
    assert probe.errno("router_alert e0") is None, "another option of the same call failed"


@pytest.mark.parametrize("step", list(STEP_PROBES), ids=lambda s: s.value)
def test_step_error_breaks_exactly_its_step(start_probe, step):
    setup, command = STEP_PROBES[step]
    probe = start_probe(StepErrorFault(step=step.value, errno="EHOSTUNREACH"))
    for line in setup:
        assert probe.errno(line) is None, f"setup {line!r} broke too"
    report = probe.run(command)
    assert (report["step"], report["errno_name"]) == (step.value, "EHOSTUNREACH")


def test_socket_rule_matches_type_with_cloexec(start_probe):
    fault = StepErrorFault(step="create_socket", errno="EAFNOSUPPORT")
    probe = start_probe(fault)
    # Python opens the socket with SOCK_RAW|SOCK_CLOEXEC; the 0xff mask still matches.
    assert probe.errno("socket e0") == "EAFNOSUPPORT"


def test_nth_call_fails_exactly_that_call(start_probe, lab):
    fault = StepErrorFault(step="request_multicast", call="IP_ADD_MEMBERSHIP", errno=98, nth=2)
    probe = start_probe(fault)
    probe.run("socket e0")
    results = [probe.errno(f"join e0 239.1.1.{n}") for n in range(1, 5)]
    assert results == [None, "EADDRINUSE", None, None]
    assert fault.failed_calls() == [2]


def test_interface_rule_breaks_b_and_leaves_a(start_probe, lab):
    fault = StepErrorFault(step="bind", call="SO_BINDTODEVICE", errno="EADDRINUSE", interface="e1")
    probe = start_probe(fault)
    for ifname in ("e0", "e1"):
        probe.run(f"socket {ifname}")
    assert probe.errno("bindtodevice e0") is None
    assert probe.errno("bindtodevice e1") == "EADDRINUSE"
    assert probe.errno("bindtodevice e0") is None


def test_interface_rule_on_socket_calls_uses_the_bound_device(start_probe, lab):
    fault = StepErrorFault(step="send", call="sendto", errno="ENETDOWN", interface="e0")
    probe = start_probe(fault)
    for ifname in ("e0", "e1"):
        assert probe.errno(f"socket {ifname}") is None
        assert probe.errno(f"bindtodevice {ifname}") is None
    assert probe.errno("send e1") is None
    assert probe.errno("send e0") == "ENETDOWN"


def test_switchable_fault_is_cleared_and_reapplied_at_runtime(start_probe, fault_ctx):
    fault = StepErrorFault(step="header_include", errno="EINVAL", switchable=True)
    probe = start_probe(fault)
    probe.run("socket e0")
    assert probe.errno("hdrincl e0") == "EINVAL"
    fault.clear(fault_ctx(probe))
    assert probe.errno("hdrincl e0") is None
    fault.apply(fault_ctx(probe))
    assert probe.errno("hdrincl e0") == "EINVAL"


def test_armed_at_apply_leaves_start_up_alone(start_probe, fault_ctx):
    fault = StepErrorFault(step="create_socket", errno="EMFILE", armed="apply")
    probe = start_probe(fault)
    assert probe.errno("socket e0") is None
    fault.apply(fault_ctx(probe))
    assert probe.errno("socket e1") == "EMFILE"


def test_window_closes(start_probe, lab):
    fault = StepErrorFault(step="header_include", errno="EINVAL", window=[0, 0])
    probe = start_probe(fault)
    probe.run("socket e0")
    assert probe.errno("hdrincl e0") is None, "an empty window must let every call through"


def test_supervisor_stops_when_the_router_exits(start_probe, lab):
    fault = StepErrorFault(step="bind", errno="EPERM", nth=1)
    probe = start_probe(fault)
    supervisor = probe.launch.supervisor
    assert supervisor is not None and supervisor.wait_attached(5)
    probe.stop()
    supervisor._thread.join(5)
    assert not supervisor.running
