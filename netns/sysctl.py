"""Sysctls of the calling thread's network namespace (/proc/sys/net is per namespace).

Only keys under ``net.`` are accepted, and only ones that exist inside a namespace: a key that
is not per namespace on this kernel is absent from a child namespace's /proc/sys/net, so a
write can never reach the host's value through here.
"""

from __future__ import annotations

from pathlib import Path

PROC_SYS = Path("/proc/sys")


def sysctl_path(key: str) -> Path:
    """``net.ipv4.igmp_max_memberships`` -> /proc/sys/net/ipv4/igmp_max_memberships.

    Keys whose parts contain dots (an interface called ``e0.10``) are written with slashes.
    """
    if not (key.startswith("net.") or key.startswith("net/")) or ".." in key:
        raise ValueError(f"sysctl {key!r}: only keys under 'net.' are per namespace")
    return PROC_SYS / (key if "/" in key else key.replace(".", "/"))


def write_sysctl(key: str, value: str | int) -> None:
    """Set ``key`` in the calling thread's namespace."""
    with open(sysctl_path(key), "w") as out:
        out.write(str(value))


def read_sysctl(key: str) -> str:
    """The value of ``key`` in the calling thread's namespace, without the trailing newline."""
    with open(sysctl_path(key)) as src:
        return src.read().rstrip("\n")


def write_sysctls(values: dict[str, str]) -> None:
    """Set several keys in the calling thread's namespace, in order."""
    for key, value in values.items():
        write_sysctl(key, value)
