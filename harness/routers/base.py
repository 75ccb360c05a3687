"""The router adapter protocol: how the runner starts any router and learns what it did.

The runner knows routers only through this protocol (docs/architecture.md section 4): an adapter
renders the router's command line (and config files) from the scenario's ``router:`` section,
names the files its events come from and how a line becomes a section-3 event record, says when
the router is ready, and reads the router's state (interfaces and groups). igmpd is one adapter
among others; there is no special case for any router in the runner.

``LogPatternAdapter`` is the helper for routers that write free-text logs: one regex per catalog
event, with named groups for the interface, the errno (extracted in the router's own style:
``Errno(98)``, ``errno=98``, ``No buffer space available``) and the insertion strings.
"""

from __future__ import annotations

import errno as _errno
import os
import re
import shutil
import signal
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

# The router's standard streams, in the scenario's artifacts folder (re-exported here).
from harness.artifacts import STDERR_NAME, STDOUT_NAME
from harness.event import Event, EventSource

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

READY_ACTIVATION_IDS = (41052, 41055)  # one of these per interface: activation is decided


@dataclass(frozen=True)
class ScenarioKey:
    """A ``router:`` key of a scenario that one router kind owns: its JSON Schema piece, its
    shape when the kind cannot do without it (``needed``; empty: optional), and what the
    refusal adds when another kind is given it (``note``)."""

    schema: Mapping[str, Any]
    needed: str = ""
    note: str = ""


@dataclass(frozen=True)
class InterfaceState:
    """One interface as the router reports it: active or not, and the groups it has learned."""

    name: str
    active: bool
    groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class RouterState:
    """The router's own state report (its status command or state file), normalised."""

    interfaces: Mapping[str, InterfaceState] = field(default_factory=dict)
    raw: Any = None

    def to_json(self) -> dict[str, Any]:
        return {
            name: {"active": item.active, "groups": list(item.groups)}
            for name, item in self.interfaces.items()
        }


def find_program(name: str, *candidates: Path) -> str | None:
    """The first executable among ``candidates``, else ``name`` on PATH (or in /usr/sbin)."""
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    # Only the system's own folders: a private folder (FRR's /usr/lib/frr) is searched by the
    # adapter that names it in program_dirs, so FRR's pimd is never taken for standalone pimd.
    return shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")


class RouterAdapter(ABC):
    """How to run one kind of router in a lab node and read what it did.

    ``name`` is the ``router.kind`` a scenario gives. ``stop_signal`` asks the router to stop
    (the runner waits a bounded time, then SIGKILLs). ``start_timeout`` bounds readiness.

    The class also carries the router's facts, which the schema, ``faultlab doctor``,
    ``faultlab compare`` and the install script's test read from the registry
    (harness.routers.ADAPTERS) instead of keeping lists of their own:

    - ``programs``: what must be installed (the doctor's ``router:<kind>`` check), looked up in
      ``program_dirs`` first (where Debian's package or scripts/install-routers.sh puts them),
      then on PATH; none for a router that ships with faultlab;
    - ``package``: the Debian package that has them (``package_note`` is said after it in skip
      reasons; ``unpacked``: the install script unpacks its .deb instead of installing it);
    - ``compare_window``: seconds ``faultlab compare`` watches after the fault, and again after
      clearing it; ``querier``: whether it queries and learns host joins (compare judges
      "join learned" only then); ``comparable``: whether ``faultlab compare`` runs it by
      default (not for a router that needs a command line from the scenario);
    - ``own_keys``: the ``router:`` keys of a scenario that only this kind takes
      (``ScenarioKey``: their schema piece, whether needed): the schema offers them, the loader
      asks for the needed ones on this kind and refuses them all on any other.
    """

    name: ClassVar[str] = ""
    own_keys: ClassVar[Mapping[str, ScenarioKey]] = {}
    stop_signal: ClassVar[int] = signal.SIGTERM
    start_timeout: ClassVar[float] = 5.0
    programs: ClassVar[tuple[str, ...]] = ()
    program_dirs: ClassVar[tuple[str, ...]] = ()
    package: ClassVar[str] = ""
    package_note: ClassVar[str] = ""
    unpacked: ClassVar[bool] = False
    compare_window: ClassVar[float] = 4.0
    querier: ClassVar[bool] = True
    comparable: ClassVar[bool] = True

    @classmethod
    def program_paths(cls) -> list[str]:
        """Where each of ``programs`` is on this host; empty when any of them is missing."""
        found = [
            find_program(name, *(Path(folder) / name for folder in cls.program_dirs))
            for name in cls.programs
        ]
        return [path for path in found if path] if all(found) else []

    @classmethod
    def for_spec(cls, spec: RouterSpec) -> RouterAdapter:
        """The adapter for one scenario's router (adapters that need the spec keep it)."""
        return cls()

    def requires(self, spec: RouterSpec) -> list[str]:
        """What this host lacks to run the router (e.g. its binary); skip reasons, empty if none."""
        return []

    def features(self, spec: RouterSpec) -> tuple[str, ...]:
        """The doctor's features an IGMP router needs (harness.features.Feature names)."""
        return ("raw-socket", "mrt")

    @abstractmethod
    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        """The router's argv; config files it needs are rendered into ``workdir``."""

    def environment(self, spec: RouterSpec, workdir: Path) -> dict[str, str] | None:
        """Environment for the router process (None: inherit the harness's)."""
        return None

    @abstractmethod
    def events(self, workdir: Path) -> EventSource:
        """The files the router's events are read from, and how each line becomes a record."""

    def is_ready(self, events: Sequence[Event], spec: RouterSpec | None = None) -> bool:
        """Whether start-up is over: by default one 41052 or 41055 per configured interface."""
        names = spec.interface_names if spec is not None else ()
        decided = {e.interface for e in events if e.id in READY_ACTIVATION_IDS}
        return bool(names) and decided.issuperset(names)

    def query_period(self, spec: RouterSpec) -> float | None:
        """Seconds between two of the router's general queries (or adverts) in steady state with
        ``spec``'s timers: how long ``faultlab explore`` waits for one. None when it is not known
        or too long to wait for (then an exploration judges state and joins, not queries)."""
        interval = spec.timers.get("query_interval")
        return float(interval) if interval is not None else None

    def exit_meaning(self, code: int | None) -> str:
        """What exit status ``code`` means for this router ("" when it does not say)."""
        return ""

    def state_request(self, pid: int, workdir: Path) -> Path | None:
        """Ask the running router for a fresh state report; the file that will change, if any."""
        return None

    def state(self, node: Any, workdir: Path) -> RouterState | None:
        """The router's state now (None when this router cannot report it)."""
        return None


# -- errno extraction in each router's own style ---------------------------------------------

# strerror text -> errno, longest text first ("No such device or address" before "No such device").
_STRERROR: dict[str, int] = dict(
    sorted(
        ((os.strerror(number).lower(), number) for number in sorted(_errno.errorcode)),
        key=lambda item: -len(item[0]),
    )
)
_NUMBER_STYLES = (
    re.compile(r"errno[ =(:]*(-?\d+)", re.IGNORECASE),  # Errno(98), errno=98, errno 98
    re.compile(r"error[ =(:]*(-?\d+)", re.IGNORECASE),  # error 1: Operation not permitted
    re.compile(r"^\s*(-?\d+)\s*$"),  # a bare number
)
_NAME_STYLE = re.compile(r"\b(E[A-Z0-9]{2,})\b")


def extract_errno(text: str | None) -> int | None:
    """The errno in a log fragment, whatever the router's style; None when there is none.

    ``"Errno(98)"``, ``"errno=98"``, ``"98"`` -> 98; ``"EADDRINUSE"`` -> 98;
    ``"No buffer space available"`` -> ENOBUFS (105).
    """
    if not text:
        return None
    for style in _NUMBER_STYLES:
        found = style.search(text)
        if found:
            return abs(int(found.group(1)))
    for name in _NAME_STYLE.findall(text):
        if name in _errno.__dict__ and isinstance(getattr(_errno, name), int):
            return int(getattr(_errno, name))
    lowered = text.lower()
    for message, number in _STRERROR.items():
        if message in lowered:
            return number
    return None


@dataclass(frozen=True)
class LogPattern:
    """A regex over a router's log lines and the catalog event a match stands for.

    ``interface``, ``errno`` and each of ``strings`` are literals or ``{group}`` references to
    named groups of the regex. Without ``errno``, a group named ``errno`` is used when present.
    """

    regex: re.Pattern[str]
    id: int
    interface: str | None = None
    errno: str | None = None
    strings: tuple[str, ...] = ()

    @classmethod
    def compile(cls, regex: str, id: int, **fields: Any) -> LogPattern:
        return cls(re.compile(regex), id, **fields)

    def record(self, line: str) -> dict[str, Any] | None:
        """The section-3 record for ``line``, or None when the line does not match."""
        found = self.regex.search(line)
        if not found:
            return None
        groups = {k: v for k, v in found.groupdict().items() if v is not None}
        record: dict[str, Any] = {"id": self.id, "message": line.strip()}
        if self.interface is not None:
            record["interface"] = _expand(self.interface, groups)
        elif "interface" in groups:
            record["interface"] = groups["interface"]
        errno_text = _expand(self.errno, groups) if self.errno else groups.get("errno")
        number = extract_errno(errno_text)
        if number is not None:
            record["errno"] = number
        record["strings"] = [_expand(item, groups) for item in self.strings]
        return record


def _expand(template: str, groups: Mapping[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: groups.get(m.group(1), ""), template)


class LogPatternAdapter(RouterAdapter):
    """Base for routers with free-text logs: their stdout and stderr, mapped line by line.

    Subclasses give ``patterns`` (or override ``log_patterns``); the first matching pattern
    wins for each line.
    """

    patterns: ClassVar[tuple[LogPattern, ...]] = ()
    binary: ClassVar[str] = ""

    def log_patterns(self) -> Sequence[LogPattern]:
        return self.patterns

    def log_files(self, workdir: Path) -> tuple[Path, ...]:
        return (workdir / STDOUT_NAME, workdir / STDERR_NAME)

    def requires(self, spec: RouterSpec) -> list[str]:
        if self.binary and shutil.which(self.binary) is None:
            return [f"{self.name}: the {self.binary!r} program is not installed"]
        return []

    def events(self, workdir: Path) -> EventSource:
        patterns = tuple(self.log_patterns())

        def parse(line: str, path: Path) -> dict[str, Any] | None:
            return first_record(patterns, line)

        return EventSource(self.log_files(workdir), parse)


def first_record(patterns: Iterable[LogPattern], line: str) -> dict[str, Any] | None:
    """The record of the first pattern that matches ``line``."""
    for pattern in patterns:
        record = pattern.record(line)
        if record is not None:
            return record
    return None
