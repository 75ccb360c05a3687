"""What the adapters of other routers (igmpproxy, smcroute, pimd, FRR) have in common.

Those routers write free-text logs, name an interface by its address as often as by its name,
and become ready at a log line of their own rather than with one 41052/41055 per interface.
``ExternalAdapter`` extends ``LogPatternAdapter`` with:

- ``RouterPattern``: a catalog event pattern that may name the interface by address (resolved
  through the address book the log itself fills: ``Installing e0 (10.0.1.1 ...)``), and names
  the failed call (``MRT_INIT``, ``IP_ADD_MEMBERSHIP``, ``sendto``) like igmpd's records do;
- ``AddressLine``: a line that tells which address (or subnet) belongs to which interface;
- readiness at a ``ready_id`` event (41010 "IGMP has started"), else the default;
- ``notable_lines``: every log line that reports a problem, mapped or not, so that a robustness
  report can show what a router said even when no catalog event stands for it;
- the binary looked up in the places Debian's packages and scripts/install-routers.sh put it,
  and a skip reason naming the installer when it is missing.

Every router instance keeps its config, pid and socket files in its own workdir, so several
run side by side.
"""

from __future__ import annotations

import ipaddress
import os
import re
import subprocess
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.event import Event, EventSource
from harness.probes import INSTALLER
from harness.routers.base import LogPattern, LogPatternAdapter, find_program
from harness.timing import slow_factor

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

# Where scripts/install-routers.sh unpacks pimd (it conflicts with smcroute and frr in apt).
PIMD_DIR = Path(os.environ.get("FAULTLAB_PIMD_DIR", "/opt/faultlab/pimd"))

# A log line that reports a problem, whether or not a catalog event stands for it.
PROBLEM = re.compile(
    r"fail|error|errno|can't|cannot|could not|unable|not allowed|not permitted|denied|"
    r"already in use|already running|out of range|no buffer|abort|exceeded|"
    r"address has been removed|goes down",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RouterPattern:
    """A log pattern for one catalog event, with how to find the interface and the failed call.

    ``address`` is a ``{group}`` template of the regex naming an interface address; when the
    pattern gives no interface, the address book maps it to one. ``call`` names the failed
    system call or option (section 3's ``call``).
    """

    pattern: LogPattern
    address: str | None = None
    call: str | None = None

    @classmethod
    def compile(
        cls,
        regex: str,
        id: int,
        *,
        address: str | None = None,
        call: str | None = None,
        **fields: Any,
    ) -> RouterPattern:
        return cls(LogPattern.compile(regex, id, **fields), address, call)

    def record(self, line: str, book: AddressBook) -> dict[str, Any] | None:
        record = self.pattern.record(line)
        if record is None:
            return None
        found = self.pattern.regex.search(line)
        groups = {k: v for k, v in (found.groupdict() if found else {}).items() if v}
        if "interface" not in record and self.address is not None:
            interface = book.interface_of(_expand(self.address, groups))
            if interface is not None:
                record["interface"] = interface
        if self.call is not None:
            record["call"] = _expand(self.call, groups)
        return record


def _expand(template: str, groups: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: groups.get(m.group(1), ""), template)


@dataclass(frozen=True)
class AddressLine:
    """A log line saying that an address or subnet (``10.0.1/24`` allowed) is on an interface."""

    regex: re.Pattern[str]

    @classmethod
    def compile(cls, regex: str) -> AddressLine:
        return cls(re.compile(regex))


class AddressBook:
    """Interface addresses and subnets as the router's own log announced them."""

    def __init__(self) -> None:
        self.addresses: dict[str, str] = {}
        self.subnets: list[tuple[ipaddress.IPv4Network, str]] = []

    def learn(self, lines: Sequence[AddressLine], line: str) -> None:
        for item in lines:
            found = item.regex.search(line)
            if not found:
                continue
            groups = found.groupdict()
            interface = groups.get("interface")
            if not interface:
                continue
            if groups.get("address"):
                self.addresses[groups["address"]] = interface
            if groups.get("subnet"):
                network = parse_subnet(groups["subnet"])
                if network is not None:
                    self.subnets.append((network, interface))

    def interface_of(self, address: str) -> str | None:
        """The interface with this address, or whose subnet holds it."""
        if address in self.addresses:
            return self.addresses[address]
        try:
            host = ipaddress.IPv4Address(address)
        except ValueError:
            return None
        for network, interface in self.subnets:
            if host in network:
                return interface
        return None


def parse_subnet(text: str) -> ipaddress.IPv4Network | None:
    """``10.0.1/24`` (the mrouted/pimd style) or ``10.0.1.0/24`` -> the network."""
    base, _, prefix = text.partition("/")
    octets = base.split(".")
    padded = ".".join(octets + ["0"] * (4 - len(octets)))
    try:
        return ipaddress.IPv4Network(f"{padded}/{prefix or 32}", strict=False)
    except ValueError:
        return None


class LineMapper:
    """Turns a router's log lines into section-3 records, remembering the addresses it saw."""

    def __init__(
        self,
        provider: str,
        patterns: Sequence[RouterPattern],
        address_lines: Sequence[AddressLine],
        ignore: re.Pattern[str] | None = None,
    ) -> None:
        self.provider = provider
        self.patterns = tuple(patterns)
        self.address_lines = tuple(address_lines)
        self.ignore = ignore
        self.book = AddressBook()

    def __call__(self, line: str, path: Path | None = None) -> dict[str, Any] | None:
        self.book.learn(self.address_lines, line)
        if self.ignore is not None and self.ignore.search(line):
            return None
        for pattern in self.patterns:
            record = pattern.record(line, self.book)
            if record is not None:
                record["provider"] = self.provider
                return record
        return None

    def map_lines(self, lines: Iterable[str]) -> list[dict[str, Any]]:
        """Every record of ``lines`` in order (the log read after the fact)."""
        return [record for line in lines if (record := self(line)) is not None]


class ExternalAdapter(LogPatternAdapter):
    """Base of the adapters for routers that are not igmpd.

    Subclasses give ``router_patterns``, ``address_lines``, ``ignore`` (known harmless lines),
    ``ready_id`` and ``program()``; they render their configs under the workdir only.
    """

    router_patterns: ClassVar[tuple[RouterPattern, ...]] = ()
    address_lines: ClassVar[tuple[AddressLine, ...]] = ()
    ignore: ClassVar[re.Pattern[str] | None] = None
    ready_id: ClassVar[int | None] = None

    def __init__(self, spec: RouterSpec | None = None) -> None:
        self.spec = spec

    @classmethod
    def for_spec(cls, spec: RouterSpec) -> ExternalAdapter:
        return cls(spec)

    @property
    def interface_names(self) -> tuple[str, ...]:
        return self.spec.interface_names if self.spec is not None else ()

    @classmethod
    def program(cls) -> str | None:
        """The router's main binary, or None when it is not installed here."""
        return find_program(cls.binary, *(Path(folder) / cls.binary for folder in cls.program_dirs))

    def features(self, spec: RouterSpec) -> tuple[str, ...]:
        """Every router but igmpd does MRT_INIT: they need the kernel's multicast routing."""
        return ("raw-socket", "mrt", f"router:{self.name}")

    def requires(self, spec: RouterSpec) -> list[str]:
        if self.program() is None:
            return [
                f"{self.name}: {self.binary!r} is not installed "
                f"(Debian package {self.package_text()}; run {INSTALLER})"
            ]
        return []

    @classmethod
    def package_text(cls) -> str:
        """The package as a skip reason names it: ``pimd (unpacked: ...)``."""
        package = cls.package or cls.binary
        return f"{package} ({cls.package_note})" if cls.package_note else package

    def mapper(self) -> LineMapper:
        return LineMapper(self.name, self.router_patterns, self.address_lines, self.ignore)

    def events(self, workdir: Path) -> EventSource:
        mapper = self.mapper()

        def parse(line: str, path: Path) -> dict[str, Any] | None:
            return mapper(line, path)

        return EventSource(self.log_files(workdir), parse)

    def is_ready(self, events: Sequence[Event], spec: RouterSpec | None = None) -> bool:
        if self.ready_id is not None and any(e.id == self.ready_id for e in events):
            return True
        return super().is_ready(events, spec)

    def queries_on(self, spec: RouterSpec) -> tuple[str, ...]:
        """The interfaces this router sends queries (or adverts) on: all, unless it says."""
        return spec.interface_names

    def log_lines(self, workdir: Path) -> list[str]:
        """The router's log so far (stdout then stderr), one entry per line."""
        lines: list[str] = []
        for path in self.log_files(workdir):
            if path.exists():
                lines += path.read_text(errors="replace").splitlines()
        return lines

    def notable_lines(self, workdir: Path) -> list[str]:
        """Log lines that report a problem (known harmless noise left out), in order."""
        return [
            line.strip()
            for line in self.log_lines(workdir)
            if PROBLEM.search(line) and not (self.ignore is not None and self.ignore.search(line))
        ]


def interface_states(
    names: Iterable[str], active: Iterable[str], groups: dict[str, set[str]]
) -> dict[str, Any]:
    """InterfaceState per configured interface, from the active names and groups found."""
    from harness.routers.base import InterfaceState

    active_set = set(active)
    return {
        name: InterfaceState(name, name in active_set, tuple(sorted(groups.get(name, ()))))
        for name in names
    }


def status_output(argv: Sequence[str], timeout: float) -> str | None:
    """A router's status command's output; None when it fails or does not answer in time.

    Status commands are asked while the router may be broken on purpose: a silent or failing
    one means "no state to read", never an error of the harness.
    """
    try:
        done = subprocess.run(
            list(argv),
            capture_output=True,
            text=True,
            timeout=timeout * slow_factor(),  # an emulated kernel-lab guest is 10-30x slower
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None
    return done.stdout if done.returncode == 0 else None
