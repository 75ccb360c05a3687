"""Names of everything a lab creates, derived from its run id.

A run id is 6 lowercase base-36 characters. Every namespace of a run is called
``fl<runid>-<node>`` (or ``fl<runid>-lan-<name>`` for a LAN's bridge), and every link that
has to exist outside a node's own namespace begins with ``fl<runid>``. The prefix is how
``netns.sweep()`` recognises the leftovers of a run whose owner died, and the run id is what
keeps two labs built at the same time (pytest-xdist workers) from ever colliding.
"""

from __future__ import annotations

import re
import secrets

RUN_ID_ALPHABET = "0123456789abcdefghijklmnopqrstuvwxyz"
RUN_ID_LENGTH = 6
IFNAME_MAX = 15  # IFNAMSIZ - 1

RUN_ID_RE = re.compile(r"[0-9a-z]{6}")
NETNS_NAME_RE = re.compile(r"fl(?P<run_id>[0-9a-z]{6})-(?P<rest>.+)")
LAN_PREFIX = "lan-"

#: The environment variable that tags every process a lab starts with its run id.
RUN_ENV = "FAULTLAB_RUN"


def new_run_id() -> str:
    """A fresh random run id (36**6, about 2e9, possibilities; uniqueness is claimed on disk)."""
    return "".join(secrets.choice(RUN_ID_ALPHABET) for _ in range(RUN_ID_LENGTH))


def check_run_id(run_id: str) -> str:
    """Return ``run_id`` if it is 6 lowercase base-36 characters, else raise ValueError."""
    if not RUN_ID_RE.fullmatch(run_id):
        raise ValueError(f"run id {run_id!r} is not 6 lowercase base-36 characters (e.g. 'k3x9a0')")
    return run_id


def node_netns(run_id: str, node: str) -> str:
    """The namespace of node ``node`` in run ``run_id``: ``fl<runid>-<node>``."""
    return f"fl{run_id}-{node}"


def lan_netns(run_id: str, lan: str) -> str:
    """The namespace holding LAN ``lan``'s bridge: ``fl<runid>-lan-<name>``."""
    return f"fl{run_id}-{LAN_PREFIX}{lan}"


def bridge_ifname(run_id: str) -> str:
    """The bridge's name inside its LAN namespace: ``fl<runid>b``."""
    return f"fl{run_id}b"


def bridge_port_ifname(run_id: str, port: int) -> str:
    """The bridge-side end of LAN member ``port``'s veth: ``fl<runid>p<N>`` (at most 15 chars)."""
    name = f"fl{run_id}p{port}"
    if len(name) > IFNAME_MAX:
        raise ValueError(f"bridge port {port} gives {name!r}, longer than {IFNAME_MAX} characters")
    return name


def run_id_of(name: str) -> str | None:
    """The run id a namespace or link name carries, or None if it is not a lab's name."""
    if not name.startswith("fl") or len(name) < 2 + RUN_ID_LENGTH:
        return None
    run_id = name[2 : 2 + RUN_ID_LENGTH]
    return run_id if RUN_ID_RE.fullmatch(run_id) else None


def run_id_of_netns(name: str) -> str | None:
    """The run id of a namespace called ``fl<runid>-...``, or None for any other name."""
    match = NETNS_NAME_RE.fullmatch(name)
    return match["run_id"] if match else None
