"""The ``links:`` and ``lans:`` of a topology description and their endpoints.

An endpoint string is ``NODE:IFNAME [ADDRESS/PREFIX ...]``; the mapping form is
``{node: NODE, ifname: IFNAME, addresses: [ADDRESS/PREFIX, ...]}``. Every endpoint of a known
node is counted in the ``Reading`` (its interface name and addresses), even a bad one, so that
routes and the address checks (netns.clashes) see what the file names.
"""

from __future__ import annotations

import ipaddress
from functools import partial
from typing import Any

from .names import IFNAME_RE, read_name
from .naming import IFNAME_MAX
from .problems import Path, Reading, Skip, dotted
from .spec import Endpoint, Interface, LanSpec, LinkSpec


def read_link(r: Reading, value: Any, path: Path) -> LinkSpec:
    body = r.mapping(value, path, {"a", "b", "up"}, {"a", "b"})
    try:
        a: Endpoint | None = read_endpoint(r, body["a"], path + ("a",))
    except Skip:
        a = None
    since = len(r.problems)
    try:
        b = read_endpoint(r, body["b"], path + ("b",))
    finally:
        if a is None:
            r.after_first(since)
    up = body.get("up", True)
    if not isinstance(up, bool):
        raise r.fail(path + ("up",), f"'up' must be true or false, got {up!r}")
    if a is None:
        raise Skip()
    return LinkSpec(a, b, up)


def read_lan(r: Reading, value: Any, path: Path) -> LanSpec:
    body = r.mapping(value, path, {"name", "members"}, {"name", "members"})
    members_path = path + ("members",)
    try:
        name = read_name(r, body["name"], path + ("name",), "LAN")
    except Skip:
        since = len(r.problems)
        r.each(
            r.sequence(body["members"], members_path),
            members_path,
            partial(read_endpoint, r),
        )
        r.after_first(since)
        raise
    given = r.sequence(body["members"], members_path)
    members = r.each(given, members_path, partial(read_endpoint, r))
    if len(members) < len(given):
        raise Skip()
    if not body["members"]:
        raise r.fail(members_path, f"LAN {name!r} has no members")
    return LanSpec(name, tuple(members))


def read_endpoint(r: Reading, value: Any, path: Path) -> Endpoint:
    """An endpoint of a known node; every problem with its name and addresses is reported
    (at the endpoint), and its interface and addresses are counted even when bad."""
    if isinstance(value, str):
        words = value.split()
        node, colon, ifname = words[0].partition(":") if words else ("", "", "")
        if not colon or not node:
            raise r.fail(path, f"endpoint {value!r} is not 'NODE:IFNAME [ADDRESS/PREFIX ...]'")
        texts: list = words[1:]
    else:
        body = r.mapping(value, path, {"node", "ifname", "addresses"}, {"node", "ifname"})
        node, ifname = body["node"], body["ifname"]
        if not isinstance(node, str):
            raise r.fail(path + ("node",), f"node must be a name, got {node!r}")
        texts = r.sequence(body.get("addresses"), path + ("addresses",))
    item = repr(" ".join([f"{node}:{ifname}", *map(str, texts)]))
    if node not in r.known:
        raise r.unknown_node(path, node, item)
    valid = endpoint_name(r, ifname, path, path if isinstance(value, str) else path + ("ifname",))
    if node not in r.accepted and valid:  # a node whose name is refused
        r.fail(path, f"{item}: unknown node {node!r} (nodes: {', '.join(r.accepted)})")
        valid = False
    if isinstance(ifname, str) and ifname in r.interfaces[node]:
        r.fail(
            path,
            f"interface {node}:{ifname} is already defined at"
            f" {dotted(r.defined.get((node, ifname), ()))}",
            "duplicate-ifname",
            node=node,
            ifname=ifname,
        )
    r.interfaces[node].append(ifname)
    if valid:
        r.defined.setdefault((node, ifname), path)
    addresses = [read_interface(r, text, path) for text in texts]
    found = tuple(address for address in addresses if address is not None)
    r.addresses.extend((path, node, ifname, address) for address in found)
    if not valid or len(found) < len(texts):
        raise Skip()
    return Endpoint(node, ifname, found)


def endpoint_name(r: Reading, ifname: Any, path: Path, name_path: Path) -> bool:
    """Report what is wrong with an endpoint's interface name (its length at the endpoint,
    the rest at the name); whether it is usable."""
    valid = True
    if not isinstance(ifname, str) or not IFNAME_RE.fullmatch(ifname) or ifname in (".", ".."):
        r.fail(name_path, f"interface name {ifname!r} is not a valid interface name")
        valid = False
    if isinstance(ifname, str) and len(ifname) > IFNAME_MAX:
        r.fail(
            path,
            f"interface name {ifname!r} is {len(ifname)} characters; at most {IFNAME_MAX}",
            "ifname-length",
            ifname=ifname,
        )
        valid = False
    if ifname == "lo":
        r.fail(name_path, "interface name 'lo' is the loopback every node already has")
        valid = False
    return valid


def read_interface(r: Reading, text: Any, path: Path) -> Interface | None:
    """An address with its prefix; one without (10.0.1.1) is reported and taken as a host."""
    try:
        address = ipaddress.ip_interface(text) if isinstance(text, str) else None
    except ValueError as exc:
        if "/" in text:
            r.fail(path, f"address {text!r} is malformed: {exc}", "address", text=text)
            return None
        address = None
    if address is None:
        r.fail(
            path,
            f"address {text!r} is not ADDRESS/PREFIX (e.g. 10.0.1.1/24)",
            "address",
            text=text,
        )
        return None
    if "/" not in text:
        r.fail(
            path,
            f"address {text!r} is not ADDRESS/PREFIX (e.g. 10.0.1.1/24)",
            "prefix",
            text=text,
        )
    return address
