"""A snapshot of the host's network (the root namespace), to prove a suite left it untouched.

    before = snapshot()
    ...run the scenario suite...
    problems = diff(before, snapshot())     # [] when the host is as it was

    python -m harness.hostcheck save FILE      # before the suite (tox -e scenarios)
    python -m harness.hostcheck compare FILE   # after it: exit 1 listing every difference

faultlab promises never to change the host: every object lives in an ``fl*`` namespace. The
snapshot covers what a mistake would change: links (name, kind, flags, MTU, MAC, master),
addresses, routes of every table, policy rules, the nftables ruleset (tables, chains, rules and
sets of every family, read over netlink), every ``net.*`` sysctl, and the multicast routing
tables (``/proc/net/ip_mr_vif``, ``/proc/net/ip_mr_cache``). It is taken in the calling thread's
network namespace (the root namespace when run from the host), so ``Node.call(snapshot)`` takes
one inside a lab node.

Each section is a sorted list of one-line texts (sysctls: a mapping key -> value), so a
difference reads as ``routes: + ...`` / ``routes: - ...``. Values that change on their own are
left out, each listed here with the reason: traffic counters (link statistics, nftables
``counter``/``quota`` values and base-chain counters, multicast-routing packet and byte counts),
address and route lifetimes (``IFA_CACHEINFO``, ``RTA_CACHEINFO``, ``RTA_EXPIRES``), and the
sysctls in ``VOLATILE_SYSCTLS``. A sysctl that only exists afterwards is a note, not a
difference: the kernel creates sysctls when it loads a module on demand.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

Snapshot = dict[str, Any]

SYSCTL_ROOT = Path("/proc/sys/net")
#: sysctls whose value changes without anyone changing the host (counts of live objects).
VOLATILE_SYSCTLS = frozenset(
    {
        "net.netfilter.nf_conntrack_count",  # live connection-tracking entries
        "net.ipv4.tcp_fastopen_key",  # may be rotated by the kernel
    }
)
#: Multicast routing tables, read through thread-self so a thread inside a node sees its own.
MROUTE_FILES = {
    "ip_mr_vif": Path("/proc/thread-self/net/ip_mr_vif"),
    "ip_mr_cache": Path("/proc/thread-self/net/ip_mr_cache"),
}
COUNTER_COLUMNS = {"ip_mr_vif": slice(2, 6), "ip_mr_cache": slice(3, 6)}
#: Netlink attributes that are counters or lifetimes, not configuration.
VOLATILE_ATTRS = frozenset(
    {
        "IFA_CACHEINFO",
        "RTA_CACHEINFO",
        "RTA_EXPIRES",
        "NFTA_CHAIN_COUNTERS",
        "NFTA_COUNTER_BYTES",
        "NFTA_COUNTER_PACKETS",
        "NFTA_QUOTA_CONSUMED",
        "NFTA_TABLE_PAD",
        "NFTA_CHAIN_PAD",
        "NFTA_RULE_PAD",
        "NFTA_SET_PAD",
        "UNKNOWN",
    }
)
SECTIONS = (
    "links",
    "addresses",
    "routes",
    "rules",
    "nftables",
    "sysctls",
    "ip_mr_vif",
    "ip_mr_cache",
)
NFPROTO_UNSPEC = 0  # dump every nftables family at once
FAMILIES = {
    0: "unspec",
    1: "inet-any",
    2: "inet",
    3: "arp",
    5: "netdev",
    7: "bridge",
    10: "inet6",
    128: "ipmr",
    129: "ip6mr",
}
TABLES = {253: "default", 254: "main", 255: "local"}


# -- taking the snapshot -------------------------------------------------------------------------


def snapshot() -> Snapshot:
    """The calling thread's network namespace, as comparable data (see the module docstring)."""
    from pyroute2 import IPRoute

    with IPRoute() as ipr:
        names = {link["index"]: link.get_attr("IFLA_IFNAME") for link in ipr.get_links()}
        result: Snapshot = {
            "links": sorted(_link_text(link, names) for link in ipr.get_links()),
            "addresses": sorted(_message_text(msg, names) for msg in ipr.get_addr(family=0)),
            "routes": sorted(_message_text(msg, names) for msg in _all_routes(ipr)),
            "rules": sorted(_message_text(msg, names) for msg in ipr.get_rules(family=0)),
        }
    result["nftables"] = nftables_ruleset()
    result["sysctls"] = net_sysctls()
    for name, path in MROUTE_FILES.items():
        result[name] = _mroute_lines(path)
    return result


def _all_routes(ipr: Any) -> list[Any]:
    """Routes of every table and family (the kernel dumps all tables without a table filter)."""
    return [msg for msg in ipr.get_routes(family=0) if msg.get("event") == "RTM_NEWROUTE"]


def _link_text(link: Any, names: Mapping[int, str]) -> str:
    """One link's configuration: name, kind, flags, MTU, MAC address, master."""
    info = link.get_attr("IFLA_LINKINFO")
    kind = info.get_attr("IFLA_INFO_KIND") if info is not None else None
    master = link.get_attr("IFLA_MASTER")
    fields = {
        "name": link.get_attr("IFLA_IFNAME"),
        "kind": kind or "-",
        "flags": hex(link["flags"]),
        "mtu": link.get_attr("IFLA_MTU"),
        "mac": link.get_attr("IFLA_ADDRESS") or "-",
        "master": names.get(master, master) if master else "-",
    }
    return " ".join(f"{key}={value}" for key, value in fields.items())


def _message_text(msg: Any, names: Mapping[int, str]) -> str:
    """An address, route or rule message as one line: header fields, then attributes."""
    header = {
        key: value
        for key, value in msg.items()
        if key not in ("attrs", "header", "event", "value") and not key.startswith("__")
    }
    if "family" in header:
        header["family"] = FAMILIES.get(header["family"], header["family"])
    if "table" in header:
        header["table"] = TABLES.get(header["table"], header["table"])
    if "index" in header:
        header["index"] = names.get(header["index"], header["index"])
    parts = [f"{key}={header[key]}" for key in sorted(header)]
    parts += [f"{name}={value}" for name, value in _attrs(msg, names)]
    return " ".join(parts)


def _attrs(msg: Any, names: Mapping[int, str]) -> list[tuple[str, Any]]:
    """(name, plain value) of each attribute, volatile ones left out, interface indexes named."""
    pairs = []
    for attr in msg.get("attrs", []):
        name, value = attr[0], attr[1]
        if name in VOLATILE_ATTRS:
            continue
        if name in ("RTA_OIF", "RTA_IIF", "IFA_INDEX"):
            value = names.get(value, value)
        pairs.append((name, _plain(value, names)))
    return pairs


def _plain(value: Any, names: Mapping[int, str]) -> Any:
    """A netlink value as plain, comparable data (nested messages as attribute lists)."""
    if hasattr(value, "get") and "attrs" in value:
        return _attrs(value, names)
    if isinstance(value, list | tuple):
        return [_plain(item, names) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item, names) for key, item in value.items() if key != "header"}
    if isinstance(value, bytes):
        return value.hex()
    return value


def nftables_ruleset() -> list[str]:
    """Tables, chains, rules and sets of every family, one line each; or the one error line.

    An error (no nf_tables module, no permission) is recorded as ``error: <errno name>`` so two
    snapshots of the same host agree on it.
    """
    try:
        from pyroute2.nftables.main import NFTables

        nft = NFTables(nfgen_family=NFPROTO_UNSPEC)
    except OSError as exc:
        return [f"error: {_errno_name(exc)}"]
    try:
        lines = []
        for kind, dump in (
            ("table", nft.get_tables),
            ("chain", nft.get_chains),
            ("rule", nft.get_rules),
            ("set", nft.get_sets),
        ):
            lines += [f"{kind} {_message_text(msg, {})}" for msg in dump()]
        return sorted(lines)
    except OSError as exc:
        return [f"error: {_errno_name(exc)}"]
    finally:
        nft.close()


def net_sysctls(root: Path = SYSCTL_ROOT) -> dict[str, str]:
    """Every readable ``net.*`` sysctl -> its value; unreadable ones as ``<errno name>``."""
    values = {}
    for path in sorted(_files_under(root)):
        key = "net." + ".".join(path.relative_to(root).parts)
        if key in VOLATILE_SYSCTLS:
            continue
        try:
            values[key] = path.read_text().strip()
        except OSError as exc:
            values[key] = f"<{_errno_name(exc)}>"
    return values


def _files_under(root: Path) -> Iterable[Path]:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            yield Path(folder, name)


def _mroute_lines(path: Path) -> list[str]:
    """Lines of a multicast routing table with the traffic counters blanked (header kept)."""
    try:
        lines = path.read_text().splitlines()
    except FileNotFoundError:
        return ["(absent: no CONFIG_IP_MROUTE)"]
    return [_without_counters(path.name, line) for line in lines]


def _without_counters(name: str, line: str) -> str:
    """A data line without its traffic counters; the header line as it is.

    ip_mr_vif: ``VIF NAME BytesIn PktsIn BytesOut PktsOut Flags Local Remote``;
    ip_mr_cache: ``Group Origin Iif Pkts Bytes Wrong Oifs...``.
    """
    words = line.split()
    counters = COUNTER_COLUMNS[name]
    if not words or not words[0][:1].isdigit() and name == "ip_mr_vif":
        return " ".join(words)
    if words[0] == "Group":
        return " ".join(words)
    return " ".join(words[: counters.start] + words[counters.stop :])


def _errno_name(exc: OSError) -> str:
    return errno.errorcode.get(exc.errno or 0, str(exc))


# -- comparing -----------------------------------------------------------------------------------


def diff(before: Snapshot, after: Snapshot) -> list[str]:
    """Every difference between two snapshots, one readable line each ([] if identical).

    A sysctl that did not exist before is not a difference (see ``appeared``): the kernel adds
    sysctls when it loads a module on demand (nf_conntrack for a lab's ruleset, say), which
    changes no setting of the host. A new interface's sysctls come with a new link, which is.
    """
    problems: list[str] = []
    for section in SECTIONS:
        old, new = before.get(section), after.get(section)
        if isinstance(old, dict) or isinstance(new, dict):
            old, new = old or {}, new or {}
            problems += _diff_mapping(section, old, {k: v for k, v in new.items() if k in old})
        else:
            problems += _diff_lines(section, old or [], new or [])
    return problems


def appeared(before: Snapshot, after: Snapshot) -> list[str]:
    """Sysctls that exist only in ``after`` (a module the kernel loaded), as notes."""
    old, new = before.get("sysctls", {}), after.get("sysctls", {})
    return [f"sysctls: new {key} = {new[key]!r}" for key in sorted(set(new) - set(old))]


def _diff_lines(section: str, old: Sequence[str], new: Sequence[str]) -> list[str]:
    gone = [line for line in old if line not in set(new)]
    added = [line for line in new if line not in set(old)]
    return [f"{section}: - {line}" for line in gone] + [f"{section}: + {line}" for line in added]


def _diff_mapping(section: str, old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    problems = []
    for key in sorted(set(old) | set(new)):
        if key not in new:
            problems.append(f"{section}: - {key} = {old[key]!r}")
        elif key not in old:
            problems.append(f"{section}: + {key} = {new[key]!r}")
        elif old[key] != new[key]:
            problems.append(f"{section}: {key}: {old[key]!r} -> {new[key]!r}")
    return problems


# -- command line --------------------------------------------------------------------------------


def save(path: Path) -> None:
    """Write a snapshot of this namespace to ``path`` (JSON)."""
    path.write_text(json.dumps(snapshot(), indent=1, sort_keys=True) + "\n")


def compare(path: Path) -> tuple[list[str], list[str]]:
    """(differences, notes) between the snapshot saved at ``path`` and this namespace now."""
    before, after = json.loads(path.read_text()), snapshot()
    return diff(before, after), appeared(before, after)


def main(argv: Sequence[str] | None = None) -> int:
    """``save FILE`` (exit 0) or ``compare FILE`` (exit 1 listing the differences)."""
    parser = argparse.ArgumentParser(
        prog="python -m harness.hostcheck",
        description="Prove a run left the host's network untouched: save a snapshot of the "
        "root namespace before, compare after.",
    )
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("file", type=Path, metavar="FILE")
    args = parser.parse_args(argv)
    actions: dict[str, Callable[[Path], int]] = {"save": _cmd_save, "compare": _cmd_compare}
    return actions[args.action](args.file)


def _cmd_save(path: Path) -> int:
    save(path)
    print(f"hostcheck: snapshot of the host's network saved to {path}")
    return 0


def _cmd_compare(path: Path) -> int:
    try:
        problems, notes = compare(path)
    except (OSError, ValueError) as exc:
        print(f"hostcheck: cannot read the saved snapshot {path}: {exc}", file=sys.stderr)
        return 2
    for note in notes:
        print(f"hostcheck: note (a kernel module was loaded, no setting changed): {note}")
    if not problems:
        print("hostcheck: the host's network is unchanged")
        return 0
    print(f"hostcheck: the host's network changed ({len(problems)} difference(s)):")
    for line in problems:
        print(f"  {line}")
    return 1


if __name__ == "__main__":
    sys.exit(main())
