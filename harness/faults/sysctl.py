"""The generic ``sysctl`` fault: set a per-namespace kernel setting, restore it on clear.

Only settings that belong to the router's network namespace may change. A host-wide key
(fs.epoll.max_user_watches, kernel.*, vm.*, fs.*, ...) would change the machine every other
process runs on, so it is refused with FaultConfigError before anything is built, and a net.* key
that the kernel does not keep per namespace (it is absent from a namespace's /proc/sys) is
refused when the fault is applied.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from harness.catalog import Step
from harness.errors import FaultConfigError
from harness.faults.base import Fault, FaultContext

HOST_WIDE_HINTS = {
    "fs.epoll.max_user_watches": "epoll_ctl ENOSPC; use step-error with step event_select "
    "and errno ENOSPC instead",
    "fs.file-max": "EMFILE/ENFILE; use fd-limit (RLIMIT_NOFILE of the router only) instead",
    "fs.nr_open": "EMFILE; use fd-limit (RLIMIT_NOFILE of the router only) instead",
}


def check_namespaced(key: str) -> str:
    """``key`` when it may be set in a router's namespace; FaultConfigError otherwise."""
    key = key.strip().replace("/", ".")
    if key.startswith("net.") and key not in HOST_WIDE_HINTS:
        return key
    hint = HOST_WIDE_HINTS.get(key, "only net.* keys of the router's namespace may change")
    raise FaultConfigError(
        f"sysctl {key!r} is host-wide: changing it would affect every process on this machine, "
        f"not only the scenario's namespaces; refused ({hint})"
    )


def sysctl_path(key: str) -> Path:
    return Path("/proc/sys") / key.replace(".", "/")


def read_namespaced(key: str) -> str:
    """Read ``key`` inside the current namespace; refuses keys the namespace does not have."""
    path = sysctl_path(key)
    if not path.exists():
        raise FaultConfigError(
            f"sysctl {key!r} does not exist in the router's namespace: it is not per namespace "
            "on this kernel (or misspelt), so it cannot be changed for the scenario alone"
        )
    return path.read_text().strip()


def write(key: str, value: str) -> None:
    sysctl_path(key).write_text(f"{value}\n")


class SysctlFault(Fault):
    """Set one per-namespace sysctl in the router's namespace; clear restores the old value."""

    kind: ClassVar[str] = "sysctl"
    # Its table rows are those of igmp-max-memberships and optmem-max (harness/faults/limits.py).
    generic: ClassVar[bool] = True
    steps: ClassVar[tuple[Step, ...]] = ()
    summary: ClassVar[str] = "a per-namespace kernel setting changed"
    required: ClassVar[tuple[str, ...]] = ("key", "value")
    params: ClassVar[dict[str, dict[str, Any]]] = {
        "key": {"type": "string", "description": "a net.* key, e.g. net.core.optmem_max"},
        "value": {"type": ["integer", "string"], "description": "the value to set"},
    }

    def features(self) -> tuple[str, ...]:
        """Per-namespace sysctls, and this key per namespace on the running kernel (the doctor
        probes it: net.core.optmem_max is per namespace on 6.18, not on 6.1)."""
        return ("sysctl", f"sysctl:{self.key}")

    def __init__(self, key: str, value: Any) -> None:
        self.key = check_namespaced(key)
        self.value = value
        self._previous: str | None = None

    def apply(self, ctx: FaultContext) -> None:
        previous = ctx.node.call(read_namespaced, self.key)
        ctx.node.call(write, self.key, str(self.value))
        if self._previous is None:
            self._previous = previous

    def clear(self, ctx: FaultContext) -> None:
        if self._previous is not None:
            ctx.node.call(write, self.key, self._previous)
            self._previous = None
