"""THE fault table: every fault, the step it breaks, why, the errno it yields here, the event.

This is data, in one place. ``docs/faults.md`` is generated from it
(``python -m harness.faults.table``), and tests/faults/test_faults_table.py applies every row to
the probe program in a real namespace and checks that the kernel returns the listed errno at the
listed step, and that ``clear`` restores the step where the row says it is recoverable. Every
fault kind (harness.faults.FAULT_KINDS) has a row here (a test fails otherwise); what belongs to
the kind itself (its mechanism, parameters, features) is read from its class.

Each row also carries the probe recipe that proves it: ``setup`` commands run before the fault
is applied, ``check`` the command whose errno is the row's.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.catalog import BY_STEP, SETUP_ORDER, Step
from harness.faults import FAULT_KINDS
from harness.faults.stepcalls import STEP_CALLS

__all__ = [
    "ROWS",
    "STEP_CALLS",
    "FaultRow",
    "add_rows",
    "kinds_without_rows",
    "remove_rows",
    "render_markdown",
    "rows",
]


@dataclass(frozen=True)
class FaultRow:
    """One fault at one step: what a field engineer sees and what the kernel returns here."""

    kind: str
    params: dict[str, Any]
    step: Step
    cause: str
    call: str
    errno: str
    recoverable: bool  # clear() restores the step while the router runs
    check: str
    setup: tuple[str, ...] = ()
    note: str = ""

    @property
    def mechanism(self) -> str:
        """The fault class's mechanism: "real" (a cause in the namespace) or "exact" (seccomp)."""
        return FAULT_KINDS[self.kind].mechanism

    @property
    def evidence(self) -> str:
        """Where the errno of this row comes from: the kernel source or the man page (EVIDENCE)."""
        if self.mechanism == "exact":
            return SECCOMP_EVIDENCE
        return EVIDENCE.get((self.kind, self.call), "")

    @property
    def event(self) -> int:
        """The catalog event igmpd must log when this step fails."""
        return BY_STEP[self.step].id

    def fault_spec(self) -> dict[str, Any]:
        """The scenario fault mapping for this row (``make_fault`` input)."""
        return {"kind": self.kind, **self.params}


def _real(
    kind: str,
    step: Step,
    cause: str,
    call: str,
    errno: str,
    check: str,
    setup: tuple[str, ...] = (),
    params: dict[str, Any] | None = None,
    recoverable: bool = True,
    note: str = "",
) -> FaultRow:
    return FaultRow(kind, params or {}, step, cause, call, errno, recoverable, check, setup, note)


# The evidence of each real row: (fault kind, call) -> the kernel source that returns the errno
# (paths in Linux's tree), and the man page that documents it. ``faultlab reproduce`` quotes it
# when it chooses a cause for a field failure.
EVIDENCE: dict[tuple[str, str], str] = {
    ("no-cap-net-raw", "socket"): "net/ipv4/af_inet.c inet_create(): SOCK_RAW needs "
    "CAP_NET_RAW, else -EPERM; raw(7)",
    ("fd-limit", "socket"): "fs/file.c alloc_fd() against RLIMIT_NOFILE -> -EMFILE; socket(2)",
    ("address-gone", "bind"): "net/ipv4/raw.c raw_bind(): an address not local -> "
    "-EADDRNOTAVAIL; bind(2)",
    ("device-gone", "SO_BINDTODEVICE"): "net/core/sock.c sock_bindtoindex_locked(): no such "
    "device -> -ENODEV; socket(7) SO_BINDTODEVICE",
    ("link-deleted", "SO_BINDTODEVICE"): "net/core/sock.c sock_bindtoindex_locked(): no such "
    "device -> -ENODEV; socket(7) SO_BINDTODEVICE",
    ("address-gone", "IP_MULTICAST_IF"): "net/ipv4/ip_sockglue.c do_ip_setsockopt() "
    "IP_MULTICAST_IF: no device has the address -> -EADDRNOTAVAIL; ip(7)",
    ("mrt-held", "MRT_INIT"): "net/ipv4/ipmr.c ip_mroute_setsockopt() MRT_INIT: "
    "mrt->mroute_sk already set -> -EADDRINUSE",
    ("stale-vif", "MRT_ADD_VIF"): "net/ipv4/ipmr.c vif_add(): VIF_EXISTS(mrt, vifi) -> -EADDRINUSE",
    ("address-removed", "IP_ADD_MEMBERSHIP"): "net/ipv4/igmp.c ip_mc_join_group() -> "
    "ip_mc_find_dev() finds no device -> -ENODEV; ip(7)",
    ("link-deleted", "IP_ADD_MEMBERSHIP"): "net/ipv4/igmp.c ip_mc_join_group() -> "
    "ip_mc_find_dev() finds no device -> -ENODEV; ip(7)",
    ("igmp-max-memberships", "IP_ADD_MEMBERSHIP"): "net/ipv4/igmp.c __ip_mc_join_group(): "
    "count >= net.ipv4.igmp_max_memberships -> -ENOBUFS; ip(7) igmp_max_memberships",
    ("optmem-max", "IP_ADD_MEMBERSHIP"): "net/ipv4/igmp.c __ip_mc_join_group(): sock_kmalloc() "
    "over net.core.optmem_max -> -ENOBUFS; socket(7) optmem_max",
    ("fd-limit", "epoll_create1"): "fs/eventpoll.c do_epoll_create() -> get_unused_fd_flags() "
    "-> -EMFILE; epoll_create(2)",
    ("route-removed", "sendto"): "net/ipv4/raw.c raw_sendmsg() -> ip_route_output_flow(): no "
    "route -> -ENETUNREACH; raw(7)",
    ("address-removed", "sendto"): "net/ipv4/raw.c raw_sendmsg() -> ip_route_output_flow(): "
    "no source address on the interface -> -ENETUNREACH; raw(7)",
    ("link-down", "sendto"): "net/ipv4/raw.c raw_sendmsg() -> ip_route_output_flow(): the "
    "device is down -> -ENETUNREACH; raw(7)",
    ("link-deleted", "sendto"): "net/ipv4/raw.c raw_sendmsg(): the bound device is gone -> "
    "-ENODEV; socket(7) SO_BINDTODEVICE",
    ("egress-full", "sendto"): "net/ipv4/ip_output.c ip_send_skb() -> net_xmit_errno() "
    "(reported with IP_RECVERR) -> -ENOBUFS; ip(7) IP_RECVERR",
    ("nft-drop-igmp", "sendto"): "net/netfilter/core.c nf_hook_slow(): NF_DROP -> -EPERM; "
    "sendto(2) EPERM",
    ("nft-reject-igmp", "sendto"): "net/netfilter/core.c nf_hook_slow(): the rule's verdict "
    "drops the local packet -> -EPERM; sendto(2) EPERM",
}
SECCOMP_EVIDENCE = (
    "seccomp(2) SECCOMP_RET_ERRNO / SECCOMP_RET_USER_NOTIF: the call returns the errno"
)

SOCK = ("socket e0",)
SOCK_IF = ("socket e0", "multicast_if e0")

REAL_ROWS: tuple[FaultRow, ...] = (
    _real(
        "no-cap-net-raw",
        Step.CREATE_SOCKET,
        "the router was started without CAP_NET_RAW (service user, container profile)",
        "socket",
        "EPERM",
        "socket e0",
        recoverable=False,
        note="set at launch: a restart with the capability recovers",
    ),
    _real(
        "fd-limit",
        Step.CREATE_SOCKET,
        "the router process reached its open-file limit (RLIMIT_NOFILE)",
        "socket",
        "EMFILE",
        "socket e0",
    ),
    _real(
        "address-gone",
        Step.BIND,
        "the address the router is configured with is not on the interface",
        "bind",
        "EADDRNOTAVAIL",
        "bind e0",
        SOCK,
    ),
    _real(
        "device-gone",
        Step.BIND,
        "the interface the router expects is gone (renamed away)",
        "SO_BINDTODEVICE",
        "ENODEV",
        "bindtodevice e0",
        SOCK,
    ),
    _real(
        "link-deleted",
        Step.BIND,
        "the interface was deleted (NIC removed, veth or VLAN deleted)",
        "SO_BINDTODEVICE",
        "ENODEV",
        "bindtodevice e0",
        SOCK,
    ),
    _real(
        "address-gone",
        Step.REQUEST_MULTICAST,
        "the address the router is configured with is not on the interface",
        "IP_MULTICAST_IF",
        "EADDRNOTAVAIL",
        "multicast_if e0",
        SOCK,
    ),
    _real(
        "mrt-held",
        Step.REQUEST_MULTICAST,
        "another multicast router (mrouted, pimd, smcroute) holds the namespace's MRT socket",
        "MRT_INIT",
        "EADDRINUSE",
        "mrt_init",
    ),
    _real(
        "stale-vif",
        Step.REQUEST_MULTICAST,
        "an earlier router process left a static VIF at the index this router uses",
        "MRT_ADD_VIF",
        "EADDRINUSE",
        "add_vif e0 0",
        ("mrt_init",),
        {"vifi": 0},
        note="the VIF survives its process; clear removes it with MRT_DEL_VIF",
    ),
    _real(
        "address-removed",
        Step.REQUEST_MULTICAST,
        "the interface address was deleted",
        "IP_ADD_MEMBERSHIP",
        "ENODEV",
        "join e0 224.0.0.22",
        SOCK,
    ),
    _real(
        "link-deleted",
        Step.REQUEST_MULTICAST,
        "the interface was deleted",
        "IP_ADD_MEMBERSHIP",
        "ENODEV",
        "join e0 224.0.0.22",
        SOCK,
    ),
    _real(
        "igmp-max-memberships",
        Step.REQUEST_MULTICAST,
        "net.ipv4.igmp_max_memberships is too low in the namespace",
        "IP_ADD_MEMBERSHIP",
        "ENOBUFS",
        "join e0 224.0.0.22",
        SOCK,
        {"value": 0},
    ),
    _real(
        "optmem-max",
        Step.REQUEST_MULTICAST,
        "net.core.optmem_max (socket option memory) is exhausted in the namespace",
        "IP_ADD_MEMBERSHIP",
        "ENOBUFS",
        "join e0 224.0.0.22",
        SOCK,
        {"value": 0},
    ),
    _real(
        "fd-limit",
        Step.EVENT_SELECT,
        "the router process reached its open-file limit (RLIMIT_NOFILE)",
        "epoll_create1",
        "EMFILE",
        "epoll e0",
        SOCK,
    ),
    _real(
        "route-removed",
        Step.SEND,
        "the route to the multicast range was removed and no interface is chosen",
        "sendto",
        "ENETUNREACH",
        "send e0",
        SOCK,
        {"dst": "224.0.0.0/4"},
    ),
    _real(
        "address-removed",
        Step.SEND,
        "the interface address was deleted after IP_MULTICAST_IF",
        "sendto",
        "ENETUNREACH",
        "send e0",
        SOCK_IF,
    ),
    _real(
        "link-down",
        Step.SEND,
        "the interface went down (cable, admin down)",
        "sendto",
        "ENETUNREACH",
        "send e0",
        SOCK_IF,
        note="Linux never says ENETDOWN here",
    ),
    _real(
        "link-deleted",
        Step.SEND,
        "the interface was deleted after SO_BINDTODEVICE",
        "sendto",
        "ENODEV",
        "send e0",
        ("socket e0", "bindtodevice e0"),
    ),
    _real(
        "egress-full",
        Step.SEND,
        "the interface's egress queue is full and drops (a qdisc that cannot drain)",
        "sendto",
        "ENOBUFS",
        "send e0 224.0.0.1 50",
        (*SOCK_IF, "recverr e0"),
        note="the kernel reports queue drops only to a socket with IP_RECVERR; without it "
        "sendto succeeds and the packets are silently lost",
    ),
    _real(
        "nft-drop-igmp",
        Step.SEND,
        "a firewall rule in the namespace drops outgoing IGMP",
        "sendto",
        "EPERM",
        "send e0",
        SOCK_IF,
    ),
    _real(
        "nft-reject-igmp",
        Step.SEND,
        "a firewall rule in the namespace rejects outgoing IGMP",
        "sendto",
        "EPERM",
        "send e0",
        SOCK_IF,
    ),
    _real(
        "nft-drop-igmp",
        Step.SEND,
        "a firewall rule drops IGMP leaving one interface (oifname); the others still send",
        "sendto",
        "EPERM",
        "send e0",
        SOCK_IF,
        {"interface": "e0"},
        note="interface: matches oifname: that interface's sends fail, the others' still work "
        "(tests/faults/test_faults_firewall.py)",
    ),
    _real(
        "nft-reject-igmp",
        Step.SEND,
        "a firewall rule rejects IGMP leaving one interface (oifname); the others still send",
        "sendto",
        "EPERM",
        "send e0",
        SOCK_IF,
        {"interface": "e0"},
        note="interface: matches oifname: that interface's sends fail, the others' still work "
        "(tests/faults/test_faults_firewall.py)",
    ),
)

# One exact-errno row per step: the step's usual call made to fail by seccomp (any errno).
STEP_PROBES: dict[Step, tuple[tuple[str, ...], str]] = {
    Step.CREATE_SOCKET: ((), "socket e0"),
    Step.BIND: (SOCK, "bindtodevice e0"),
    Step.REQUEST_MULTICAST: (SOCK, "join e0 224.0.0.22"),
    Step.ROUTER_ALERT: (SOCK, "router_alert e0"),
    Step.HEADER_INCLUDE: (SOCK, "hdrincl e0"),
    Step.EVENT_SELECT: (SOCK, "epoll e0"),
    Step.SEND: (SOCK_IF, "send e0"),
    Step.RECEIVE: (SOCK, "recv e0"),
}

EXACT_ROWS: tuple[FaultRow, ...] = tuple(
    FaultRow(
        "step-error",
        {"step": step.value, "errno": "EINVAL"},
        step,
        "exact error: any errno at this step (seccomp; nth/interface/window by supervisor)",
        " / ".join(STEP_CALLS[step]),
        "EINVAL",
        False,
        check,
        setup,
        "any errno by name, number or Winsock code; switchable: true makes it recoverable",
    )
    for step, (setup, check) in STEP_PROBES.items()
) + (
    FaultRow(
        "syscall-error",
        {
            "syscall": "setsockopt",
            "args": {"level": "IPPROTO_IP", "optname": "IP_HDRINCL"},
            "errno": "EPERM",
        },
        Step.HEADER_INCLUDE,
        "exact error: one syscall with integer-argument matches",
        "setsockopt IP_HDRINCL",
        "EPERM",
        False,
        "hdrincl e0",
        SOCK,
    ),
    FaultRow(
        "step-error",
        {
            "step": "request_multicast",
            "call": "MRT_INIT",
            "errno": "EADDRINUSE",
            "switchable": True,
        },
        Step.REQUEST_MULTICAST,
        "exact error switched on and off while the router runs",
        "MRT_INIT",
        "EADDRINUSE",
        True,
        "mrt_init",
        (),
    ),
)

ROWS: tuple[FaultRow, ...] = REAL_ROWS + EXACT_ROWS
_ADDED: list[FaultRow] = []  # rows of fault kinds registered elsewhere (a test's own kind)


def rows() -> tuple[FaultRow, ...]:
    """Every row: the table above, then any added with :func:`add_rows`."""
    return ROWS + tuple(_ADDED)


def add_rows(*added: FaultRow) -> None:
    """Add the rows of a fault kind registered outside this module (its kind must exist)."""
    unknown = [row.kind for row in added if row.kind not in FAULT_KINDS]
    if unknown:
        raise ValueError(f"fault kind(s) {unknown} not in harness.faults.FAULT_KINDS")
    _ADDED.extend(added)


def remove_rows(*removed: FaultRow) -> None:
    """Take rows added with :func:`add_rows` out again."""
    for row in removed:
        _ADDED.remove(row)


def kinds_without_rows() -> list[str]:
    """Fault kinds offered to scenarios that have no row in the table (should be none).

    A ``generic`` kind (the plain ``sysctl``) has its rows through the kinds built on it.
    """
    covered = {row.kind for row in rows()}
    return [
        kind
        for kind, cls in FAULT_KINDS.items()
        if not cls.internal
        and kind not in covered
        and not (cls.generic and any(issubclass(FAULT_KINDS[k], cls) for k in covered))
    ]


def _params(row: FaultRow) -> str:
    return ", ".join(f"{k}: {v}" for k, v in row.params.items()) or "-"


def render_markdown() -> str:
    """docs/faults.md: the table by step, the follow-up event, and how each row is proven."""
    lines = [
        "# Faults: step x cause x errno x event",
        "",
        "Generated from `harness/faults/table.py` by `python -m harness.faults.table`; do not "
        "edit by hand (a test checks that this file equals the table).",
        "",
        "Every row is proven by tests/faults/test_faults_table.py: the fault is applied to a "
        "probe program that makes a router's socket calls in a real namespace, the listed call "
        "fails with the listed errno, and for recoverable rows `clear` restores the step.",
        "",
        "| step | fault (kind, parameters) | cause | call that fails | errno here | event | "
        "mechanism | recoverable |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for step in Step:
        for row in (r for r in rows() if r.step == step):
            lines.append(
                f"| {step.value} | `{row.kind}` ({_params(row)}) | {row.cause} | {row.call} | "
                f"{row.errno} | {row.event} {BY_STEP[step].symbol} | {row.mechanism} | "
                f"{'yes' if row.recoverable else 'no'} |"
            )
    lines += _footer()
    return "\n".join(lines) + "\n"


def _footer() -> list[str]:
    setup = ", ".join(s.value for s in SETUP_ORDER)
    notes = [f"- `{r.kind}` at {r.step.value}: {r.note}" for r in rows() if r.note]
    evidence = [
        f"- `{r.kind}` {r.call} {r.errno}: {r.evidence}"
        for r in rows()
        if r.mechanism == "real" and r.evidence
    ]
    return [
        "",
        "## Follow-up event",
        "",
        f"A failure in an interface's setup steps ({setup}) is followed by event 41055 "
        'IGMPLOG_ACTIVATION_FAILURE_RTR for that interface ("IGMP router version %1 could not '
        'be installed on interface %2"); send and receive failures are runtime warnings and '
        "errors without it. After `clear`, a router that retries logs 41052 "
        "IGMPLOG_INTERFACE_RTR_ACTIVATED.",
        "",
        "## Refused",
        "",
        "Faults that would change the host rather than the scenario's namespaces are refused "
        "with an error: host-wide sysctls (fs.epoll.max_user_watches, fs.file-max, kernel.*, "
        "vm.*), host cgroup limits. Use the exact-errno faults for those errors instead.",
        "",
        "## Notes",
        "",
        *dict.fromkeys(notes),
        "",
        "## Evidence",
        "",
        "Where each real cause's errno comes from (a path in Linux's source, and the man page); "
        "the exact-error rows return whatever errno they are given (" + SECCOMP_EVIDENCE + ").",
        "",
        *dict.fromkeys(evidence),
    ]


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path(__file__).resolve().parents[2] / "docs/faults.md"
    target.write_text(render_markdown())
    print(f"wrote {target} ({len(rows())} rows)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
