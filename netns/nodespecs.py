"""The ``nodes:`` and ``sysctls:`` of a topology description: names, and per-namespace sysctls.

Node and LAN names are checked by netns.names (``read_name``); a sysctl key must be one of a network
namespace (``NAMESPACED_SYSCTLS``), never one that would change the host.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import partial
from types import MappingProxyType
from typing import Any

from .names import read_name
from .problems import Path, Reading, Skip
from .spec import EMPTY, NodeSpec

SYSCTL_RE = re.compile(r"net[./][A-Za-z0-9_./-]+")
#: The sysctl trees that are per network namespace; a key anywhere else would change the host.
NAMESPACED_SYSCTLS = ("net.ipv4.", "net.ipv6.", "net.core.", "net.netfilter.", "net.unix.")


def is_namespaced_sysctl(key: Any) -> bool:
    """Whether ``key`` is a sysctl of one network namespace (dotted, under NAMESPACED_SYSCTLS)."""
    return (
        isinstance(key, str)
        and key.startswith(NAMESPACED_SYSCTLS)
        and SYSCTL_RE.fullmatch(key) is not None
        and ".." not in key
    )


def read_nodes(r: Reading, value: Any, path: Path) -> list[NodeSpec]:
    """The nodes, from a list of names or a mapping of name -> {sysctls: ...}."""
    if isinstance(value, Mapping):
        return r.each(list(value.items()), path, partial(read_node_item, r))
    try:
        names = r.sequence(value, path)
    except Skip:
        return []
    if not names:
        r.fail(path, "a topology needs at least one node")
    return r.each(names, path, lambda name, p: NodeSpec(read_name(r, name, p, "node")))


def read_node_item(r: Reading, item: tuple[Any, Any], path: Path) -> NodeSpec:
    name, body = item
    path = path[:-1] + (str(name),)
    body = r.mapping(body or {}, path, {"sysctls"}, set())
    try:
        name = read_name(r, name, path, "node")
    except Skip:
        since = len(r.problems)
        read_sysctls(r, body.get("sysctls"), path + ("sysctls",))  # for its refused keys
        r.after_first(since)
        raise
    return NodeSpec(name, read_sysctls(r, body.get("sysctls"), path + ("sysctls",)))


def read_sysctls(r: Reading, value: Any, path: Path) -> Mapping[str, str]:
    if value is None:
        return EMPTY
    if not isinstance(value, Mapping):
        raise r.fail(path, f"expected a mapping of sysctl keys to values, got {value!r}")
    result = {}
    for key, raw in value.items():
        try:
            result[sysctl_key(r, key, path + (key,))] = sysctl_value(r, raw, path + (key,))
        except Skip:
            continue
    return MappingProxyType(result)


def sysctl_key(r: Reading, key: Any, path: Path) -> str:
    if not is_namespaced_sysctl(key):
        raise r.fail(
            path,
            f"sysctl {key!r}: only keys under {', '.join(NAMESPACED_SYSCTLS)} are per"
            " namespace (e.g. net.ipv4.igmp_max_memberships)",
            "sysctl",
            key=key,
        )
    return key


def sysctl_value(r: Reading, raw: Any, path: Path) -> str:
    if isinstance(raw, bool):
        return "1" if raw else "0"
    if isinstance(raw, int | str):
        return str(raw)
    raise r.fail(path, f"sysctl value {raw!r} must be a number or a string")


def merge_sysctls(r: Reading, nodes: list[NodeSpec], value: Any) -> list[NodeSpec]:
    """The nodes with the top-level ``sysctls:`` (node -> {key: value}) added to their own."""
    if value is None:
        return nodes
    if not isinstance(value, Mapping):
        r.fail(("sysctls",), f"expected a mapping of node -> {{key: value}}, got {value!r}")
        return nodes
    by_name = {node.name: node for node in nodes}
    for name, keys in value.items():
        path = ("sysctls", name)
        if name not in r.known:
            r.unknown_node(path, name)
            continue
        if name not in by_name:  # a node whose name is refused: reported there
            r.fail(path, f"unknown node {name!r} (nodes: {', '.join(by_name)})")
            continue
        try:
            extra = read_sysctls(r, keys, path)
        except Skip:
            continue
        by_name[name] = merged(r, by_name[name], extra, path)
    return [by_name[node.name] for node in nodes]


def merged(r: Reading, node: NodeSpec, extra: Mapping[str, str], path: Path) -> NodeSpec:
    for key in extra.keys() & node.sysctls.keys():
        if extra[key] != node.sysctls[key]:
            r.fail(path + (key,), f"sysctl {key} of node {node.name} given twice, differently")
    return NodeSpec(node.name, MappingProxyType({**node.sysctls, **extra}))
