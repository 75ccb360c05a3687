"""Firewall: an nftables rule in the router's namespace drops or rejects its IGMP output.

The table, chain and rule are added over netlink with pyroute2's nftables support (no ``nft``
command is needed; the kernel's nf_tables is). A local output packet dropped or rejected by a
filter hook fails the router's sendto with EPERM. Without ``interface`` the rule covers the whole
output hook (``ip protocol igmp drop``); with it, only packets leaving that interface
(``oifname "e0" ip protocol igmp drop``), so a scenario keeps a healthy interface to compare
with. Each fault has a table of its own (``faultlab`` or ``faultlab_<ifname>``), so that faults
on two interfaces can be applied and cleared independently. Where nf_tables is not usable,
``requires()`` names what is missing, and the fault is skipped with that reason.
"""

from __future__ import annotations

from typing import Any, ClassVar

from harness.catalog import Step
from harness.errors import FaultConfigError
from harness.faults.base import Fault, FaultContext

TABLE = "faultlab"
CHAIN = "igmp_out"
NF_DROP = 0
NFT_META_OIFNAME = 7
IFNAMSIZ = 16
NFT_REJECT_ICMP_UNREACH = 0
ICMP_PROT_UNREACH = 2


def _expr(name: str, **data: Any) -> dict[str, Any]:
    attrs = [(f"NFTA_{name.upper()}_{k.upper()}", v) for k, v in data.items()]
    return {"attrs": [("NFTA_EXPR_NAME", name), ("NFTA_EXPR_DATA", {"attrs": attrs})]}


def igmp_match() -> list[dict[str, Any]]:
    """Expressions: load the IPv4 protocol byte into register 1 and compare it with IGMP (2)."""
    return [
        _expr("payload", dreg=1, base=1, offset=9, len=1),
        _expr("cmp", sreg=1, op=0, data={"attrs": [("NFTA_DATA_VALUE", b"\x02")]}),
    ]


def oifname_match(ifname: str) -> list[dict[str, Any]]:
    """Expressions: load the output interface's name into register 1 and compare it with
    ``ifname`` (NUL-padded to IFNAMSIZ, as ``nft`` encodes ``oifname "e0"``)."""
    name = ifname.encode().ljust(IFNAMSIZ, b"\0")
    return [
        _expr("meta", dreg=1, key=NFT_META_OIFNAME),
        _expr("cmp", sreg=1, op=0, data={"attrs": [("NFTA_DATA_VALUE", name)]}),
    ]


def table_name(interface: str | None) -> str:
    """The fault's own nftables table: ``faultlab`` for the whole hook, else per interface."""
    return TABLE if interface is None else f"{TABLE}_{interface}"


def verdict(action: str) -> list[dict[str, Any]]:
    if action == "reject":
        return [_expr("reject", type=NFT_REJECT_ICMP_UNREACH, icmp_code=ICMP_PROT_UNREACH)]
    data = {"attrs": [("NFTA_DATA_VERDICT", {"attrs": [("NFTA_VERDICT_CODE", NF_DROP)]})]}
    return [_expr("immediate", dreg=0, data=data)]


def add_rule(action: str, interface: str | None = None) -> None:
    """Inside the namespace: an ip table, an output chain, and the rule
    '[oifname IF] ip protocol igmp <action>'."""
    from pyroute2.nftables.main import NFTables

    table = table_name(interface)
    match = (oifname_match(interface) if interface else []) + igmp_match()
    nft = NFTables(nfgen_family=2)
    try:
        nft.table("add", name=table)
        nft.chain("add", table=table, name=CHAIN, hook="output", type="filter", priority=0)
        nft.rule("add", table=table, chain=CHAIN, expressions=(match, verdict(action)))
    finally:
        nft.close()


def delete_table(interface: str | None = None) -> None:
    """Inside the namespace: remove the fault's table (its chain and rule go with it)."""
    from pyroute2.nftables.main import NFTables

    nft = NFTables(nfgen_family=2)
    try:
        nft.table("del", name=table_name(interface))
    finally:
        nft.close()


def nftables_missing() -> list[str]:
    """What this host lacks for nftables faults (empty when they can run)."""
    try:
        from pyroute2.nftables.main import NFTables
    except ImportError as exc:
        return [f"pyroute2 nftables support ({exc})"]
    try:
        NFTables(nfgen_family=2).close()
    except OSError as exc:
        return [f"nf_tables over netlink ({exc.strerror or exc})"]
    return []


class NftDropIgmp(Fault):
    """An nftables output rule drops the router's IGMP packets (EPERM at sendto)."""

    kind: ClassVar[str] = "nft-drop-igmp"
    steps: ClassVar[tuple[Step, ...]] = (Step.SEND,)
    summary: ClassVar[str] = "a firewall rule drops outgoing IGMP"
    action: ClassVar[str] = "drop"
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "interface": {
            "type": "string",
            "description": "only IGMP leaving this interface (oifname); default: every interface",
        },
    }

    def __init__(self, interface: str | None = None) -> None:
        if interface is not None and not 0 < len(interface.encode()) < IFNAMSIZ:
            raise FaultConfigError(
                f"{self.kind}: interface {interface!r} is not an interface name "
                f"(1 to {IFNAMSIZ - 1} bytes)"
            )
        self.interface = interface
        self._added = False

    def requires(self) -> list[str]:
        return nftables_missing()

    def features(self) -> tuple[str, ...]:
        return ("nftables",)

    def apply(self, ctx: FaultContext) -> None:
        ctx.node.call(add_rule, self.action, self.interface)
        self._added = True

    def clear(self, ctx: FaultContext) -> None:
        if self._added:
            ctx.node.call(delete_table, self.interface)
            self._added = False


class NftRejectIgmp(NftDropIgmp):
    """An nftables output rule rejects the router's IGMP packets (EPERM at sendto)."""

    kind: ClassVar[str] = "nft-reject-igmp"
    summary: ClassVar[str] = "a firewall rule rejects outgoing IGMP"
    action: ClassVar[str] = "reject"
