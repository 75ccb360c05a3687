"""The igmpd adapter: this project's router, run from the same checkout as the harness.

igmpd writes section-3 JSON event lines itself (``--event-log``), so its events need no pattern
mapping, and it reports its state in a JSON file (``--state``) that it rewrites atomically, and
again on SIGUSR1.
"""

from __future__ import annotations

import json
import os
import signal
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

import igmpd
from harness.artifacts import EVENT_LOG_NAME, STATE_NAME
from harness.event import EventSource, parse_json_line
from harness.routers.base import InterfaceState, RouterAdapter, RouterState, ScenarioKey

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

_CHECKOUT = Path(igmpd.__file__).resolve().parent.parent


MULTICAST_ROUTING = ("auto", "on", "off")  # igmpd --multicast-routing


class IgmpdAdapter(RouterAdapter):
    """igmpd started as ``python -S -m igmpd`` (no site import: it needs the standard library only)."""

    name: ClassVar[str] = "igmpd"
    own_keys: ClassVar[Mapping[str, ScenarioKey]] = {
        "multicast_routing": ScenarioKey(
            {
                "enum": list(MULTICAST_ROUTING),
                "default": "auto",
                "description": "igmpd: on (MRT_INIT and VIFs; needs the kernel's multicast "
                "routing), off (packet sockets), auto (on where the kernel has it)",
            },
            note=" (other routers always use the kernel's multicast routing)",
        )
    }

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        argv = [sys.executable, "-S", "-m", "igmpd", "--version", str(spec.version)]
        if spec.multicast_routing != "auto":  # igmpd's default
            argv += ["--multicast-routing", spec.multicast_routing]
        for interface in spec.interfaces:
            suffix = "" if interface.mode == "router" else f":{interface.mode}"
            argv += ["--interface", interface.name + suffix]
            for group in interface.static_groups:
                argv += ["--static-group", f"{interface.name}:{group}"]
        for timer, value in spec.timers.items():
            argv += ["--" + timer.replace("_", "-"), _number(value)]
        argv += ["--event-log", str(workdir / EVENT_LOG_NAME), "--state", str(workdir / STATE_NAME)]
        return argv

    def features(self, spec: RouterSpec) -> tuple[str, ...]:
        """A raw IGMP socket always; the kernel's multicast routing only with
        ``multicast_routing: on`` (``auto`` takes packet sockets where it is missing)."""
        return ("raw-socket", "mrt") if spec.multicast_routing == "on" else ("raw-socket",)

    def environment(self, spec: RouterSpec, workdir: Path) -> dict[str, str] | None:
        """The checkout on PYTHONPATH (``-S`` skips the editable install's .pth file).

        Bytecode goes to a cache folder of the user's, never into the checkout: compiling
        igmpd's modules on every start cost about 50 ms of each scenario.
        """
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(_CHECKOUT), env.get("PYTHONPATH", "")) if p
        )
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode_cache())
        return env

    def events(self, workdir: Path) -> EventSource:
        return EventSource((workdir / EVENT_LOG_NAME,), parse_json_line)

    def state_request(self, pid: int, workdir: Path) -> Path | None:
        os.kill(pid, signal.SIGUSR1)
        return workdir / STATE_NAME

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        try:
            data = json.loads((workdir / STATE_NAME).read_text())
        except FileNotFoundError:
            return None
        return parse_state(data)


def bytecode_cache() -> Path:
    """The folder igmpd's compiled modules are kept in ($XDG_CACHE_HOME/faultlab/pycache)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    folder = Path(base) / "faultlab" / "pycache"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def parse_state(data: Any) -> RouterState:
    """igmpd's state file -> RouterState. Groups may be a list or a mapping keyed by address."""
    interfaces = data.get("interfaces", {}) if isinstance(data, dict) else {}
    if isinstance(interfaces, list):
        interfaces = {item.get("name"): item for item in interfaces}
    result: dict[str, InterfaceState] = {}
    for name, item in interfaces.items():
        result[name] = InterfaceState(
            name=name,
            active=_is_active(item),
            groups=tuple(sorted(item.get("groups") or ())),
        )
    return RouterState(result, raw=data)


def _is_active(item: dict[str, Any]) -> bool:
    if "active" in item:
        return bool(item["active"])
    return str(item.get("status", item.get("state", ""))).lower() == "active"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))
