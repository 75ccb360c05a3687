"""The names a topology description gives: node and LAN names, and interface names.

Shared by the readers of nodes (netns.nodespecs), of links and LANs (netns.endpoints) and of
routes (netns.routespecs), so that none of them stands on another: each check reports through
the ``Reading`` it is given and raises what its ``fail`` returns.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from .naming import IFNAME_MAX, LAN_PREFIX

if TYPE_CHECKING:
    from .problems import Path, Reading

NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,31}")
IFNAME_RE = re.compile(r"[^\s/:]+")


def read_name(r: Reading, value: Any, path: Path, what: str) -> str:
    """A node's or a LAN's name (``what``); a node's may not look like a LAN's namespace."""
    if not isinstance(value, str) or not NAME_RE.fullmatch(value):
        raise r.fail(
            path,
            f"{what} name {value!r} must be 1-32 characters of letters, digits, '_', '.', '-',"
            " starting with a letter or digit",
        )
    if what == "node" and value.startswith(LAN_PREFIX):
        raise r.fail(path, f"node name {value!r} may not begin with {LAN_PREFIX!r}")
    return value


def read_ifname(r: Reading, value: Any, path: Path) -> str:
    """An interface name standing alone (a route's dev): its first problem only."""
    if not isinstance(value, str) or not IFNAME_RE.fullmatch(value) or value in (".", ".."):
        raise r.fail(path, f"interface name {value!r} is not a valid interface name")
    if len(value) > IFNAME_MAX:
        raise r.fail(
            path, f"interface name {value!r} is {len(value)} characters; at most {IFNAME_MAX}"
        )
    if value == "lo":
        raise r.fail(path, "interface name 'lo' is the loopback every node already has")
    return value
