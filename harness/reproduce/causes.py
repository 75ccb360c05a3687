"""Which cause gives a field failure's call and errno on Linux, and which one a reproduction uses.

The causes faultlab can set up are the fault table's real rows (harness.faults.table, each with
its evidence: the kernel source path and man page). Two more tables are data:

- ``FIELD_CAUSES``: causes seen in the field that a namespace cannot set up (a kernel built
  without multicast routing, 32 VIFs already in use ...), with their evidence: a reproduction
  says they are the likely cause and uses the exact error at that call (seccomp) instead;
- ``NEVER_MEETS`` (harness.reproduce.nevermeets): causes a router's design never meets
  (docs/matrix.md, "Fault-table rows left out", is this table for igmpd): they are never
  chosen, since the scenario could not pass.

``choose`` reads them in that order: the first real cause of the table for (call, errno) that the
router meets, else an exact error at that call; a call no step of the catalog makes (MRT_ADD_MFC,
MRT_DEL_MFC) cannot be broken yet, and the choice says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.catalog import Step
from harness.faults import FAULT_KINDS
from harness.faults.stepcalls import step_of
from harness.faults.table import FaultRow, rows
from harness.reproduce.nevermeets import never_meets


@dataclass(frozen=True)
class FieldCause:
    """A cause of (call, errno) on Linux that faultlab cannot set up in a namespace."""

    call: str
    errno: str
    cause: str
    evidence: str


FIELD_CAUSES: tuple[FieldCause, ...] = (
    FieldCause(
        "MRT_INIT",
        "ENOPROTOOPT",
        "the kernel has no multicast routing (built without CONFIG_IP_MROUTE: a container "
        "host's or a small router image's kernel; on FreeBSD, ip_mroute.ko not loaded)",
        "include/linux/mroute.h ip_mroute_setsockopt() stub returns -ENOPROTOOPT without "
        "CONFIG_IP_MROUTE",
    ),
    FieldCause(
        "MRT_INIT",
        "EOPNOTSUPP",
        "the socket is not a raw IGMP socket (or the kernel lacks the option)",
        "net/ipv4/ipmr.c ip_mroute_setsockopt(): sk_type != SOCK_RAW or protocol != "
        "IPPROTO_IGMP -> -EOPNOTSUPP",
    ),
    FieldCause(
        "MRT_INIT",
        "EACCES",
        "the process lacks CAP_NET_ADMIN in its network namespace (an unprivileged container)",
        "net/ipv4/ipmr.c ip_mroute_setsockopt(): !ns_capable(CAP_NET_ADMIN) -> -EACCES",
    ),
    FieldCause(
        "MRT_ADD_VIF",
        "ENFILE",
        "more multicast interfaces than the kernel's MAXVIFS (32): every interface got a VIF",
        "net/ipv4/ipmr.c ip_mroute_setsockopt() MRT_ADD_VIF: vifc_vifi >= MAXVIFS -> -ENFILE",
    ),
    FieldCause(
        "MRT_ADD_VIF",
        "EADDRNOTAVAIL",
        "the interface's address (the VIF's local address) is gone or not yet assigned",
        "net/ipv4/ipmr.c vif_add(): __ip_dev_find(vifc_lcl_addr) finds no device -> -EADDRNOTAVAIL",
    ),
    FieldCause(
        "MRT_ADD_VIF",
        "ENODEV",
        "the interface (VIFF_USE_IFINDEX) does not exist any more",
        "net/ipv4/ipmr.c vif_add(): dev_get_by_index() fails -> -ENODEV",
    ),
    FieldCause(
        "MRT_ADD_MFC",
        "EINVAL",
        "the route's group is not a multicast address, or the request is malformed",
        "net/ipv4/ipmr.c ipmr_mfc_add() / ip_mroute_setsockopt() MRT_ADD_MFC -> -EINVAL",
    ),
    FieldCause(
        "MRT_ADD_MFC",
        "ENFILE",
        "the route's inbound VIF index is >= MAXVIFS (32)",
        "net/ipv4/ipmr.c ipmr_mfc_add(): mfcc_parent >= MAXVIFS -> -ENFILE",
    ),
    FieldCause(
        "MRT_DEL_MFC",
        "ENOENT",
        "the (S,G) entry is not in the kernel's cache any more (flushed with its VIF, or by "
        "a restart)",
        "net/ipv4/ipmr.c ipmr_mfc_delete(): no matching entry -> -ENOENT",
    ),
    FieldCause(
        "IP_ADD_MEMBERSHIP",
        "EADDRINUSE",
        "the socket has joined this group on this interface already",
        "net/ipv4/igmp.c __ip_mc_join_group(): the membership exists -> -EADDRINUSE; ip(7)",
    ),
    FieldCause(
        "sendto",
        "EACCES",
        "a security module (SELinux, AppArmor) denies the send, or a broadcast destination "
        "without SO_BROADCAST",
        "net/ipv4/raw.c raw_sendmsg(): broadcast without SO_BROADCAST -> -EACCES; sendto(2)",
    ),
)


@dataclass(frozen=True)
class Choice:
    """The fault a reproduction uses for (router, call, errno), and why.

    ``fault`` is None when faultlab cannot break the call yet (``why`` says so). ``others``
    are the other causes that give the same line; ``not_met`` those left out for this router.
    """

    fault: dict[str, Any] | None
    real: bool
    cause: str
    evidence: str
    why: str
    others: tuple[str, ...] = ()
    not_met: tuple[str, ...] = ()
    field_causes: tuple[FieldCause, ...] = field(default=())

    @property
    def phrase(self) -> str:
        """``mrt-held: a real cause`` / ``step-error: an exact syscall error (seccomp)``."""
        if self.fault is None:
            return "none: faultlab cannot break this call yet"
        what = "a real cause" if self.real else "an exact syscall error (seccomp)"
        return f"{self.fault['kind']}: {what}"


def choose(router: str, call: str, errno: str | None, *, before_start: bool = False) -> Choice:
    """The cause a reproduction of ``router``'s failed ``call`` with ``errno`` uses.

    ``before_start``: the fault must act before the router starts (a setup step of igmpd):
    real causes whose class cannot are passed over, like those the router never meets.
    """
    step = step_of(call)
    field = tuple(c for c in FIELD_CAUSES if c.call == call and c.errno == errno)
    candidates = [r for r in rows() if r.mechanism == "real" and r.call == call]
    matching = [r for r in candidates if errno is None or r.errno == errno]
    usable: list[FaultRow] = []
    not_met: list[str] = []
    for row in matching:
        skip = never_meets(router, row.kind, row.step)
        if skip is not None:
            not_met.append(f"{row.kind} ({row.cause}): {router} never meets it: {skip.reason}")
        elif before_start and not FAULT_KINDS[row.kind].can_apply_before_start():
            not_met.append(f"{row.kind}: it cannot act before the router starts")
        else:
            usable.append(row)
    by_kind: dict[str, str] = {}  # one line per other fault kind (its first row's cause)
    for row in usable[1:]:
        if row.kind != usable[0].kind:
            by_kind.setdefault(row.kind, f"{row.kind}: {row.cause}")
    others = tuple(dict.fromkeys([*by_kind.values(), *(c.cause for c in field)]))
    if usable:
        row = usable[0]
        return Choice(
            row.fault_spec(),
            True,
            row.cause,
            row.evidence,
            f"the first real cause of the fault table for {call} {errno or '(any errno)'} that "
            f"{router} meets",
            others,
            tuple(not_met),
            field,
        )
    return _exact(router, call, errno, step, field, tuple(not_met))


def _exact(
    router: str,
    call: str,
    errno: str | None,
    step: Step | None,
    field: tuple[FieldCause, ...],
    not_met: tuple[str, ...],
) -> Choice:
    cause = field[0].cause if field else "no real cause in faultlab's table"
    evidence = field[0].evidence if field else ""
    others = tuple(c.cause for c in field[1:])
    if step is None:
        return Choice(
            None,
            False,
            cause,
            evidence,
            f"{call} is not a call of any step faultlab breaks (harness/faults/stepcalls.py): "
            "faultlab cannot break it yet",
            others,
            not_met,
            field,
        )
    if errno is None:
        return Choice(
            None, False, cause, evidence, "the log gives no errno to inject", others, not_met, field
        )
    if field:
        why = "its likely cause is not one faultlab sets up (FIELD_CAUSES)"
    elif not_met:
        why = f"no real cause in the table for {call} {errno} is one {router} meets"
    else:
        why = f"no real cause in the table gives {call} {errno}"
    why += ": the exact error at that call, through seccomp"
    fault = {"kind": "step-error", "step": step.value, "call": call, "errno": errno}
    return Choice(fault, False, cause, evidence, why, others, not_met, field)


def alternatives(
    router: str, step: Step, errno: str | None, chosen: str
) -> tuple[list[str], list[str]]:
    """For a failure known by its step (a Windows event): the other real causes of the table
    that give the same step and errno, and those left out because ``router`` never meets them."""
    others: list[str] = []
    not_met: list[str] = []
    for row in rows():
        if row.step is not step or row.mechanism != "real" or errno not in (None, row.errno):
            continue
        skip = never_meets(router, row.kind, step)
        if skip is not None:
            not_met.append(f"{row.kind}: {router} never meets it: {skip.reason}")
        elif row.kind != chosen:
            others.append(f"{row.kind}: {row.cause}")
    return list(dict.fromkeys(others)), list(dict.fromkeys(not_met))
