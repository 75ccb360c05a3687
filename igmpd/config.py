"""igmpd's configuration: typed, validated values, and the timers derived from them.

The command line (igmpd.cli) and a config file (TOML or JSON) both end up here. Validation
raises ConfigError naming the item; where the catalog has an event for the mistake (41047,
41050, 41051) the error carries it, so that main() can log it before exiting.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

MODES = ("router", "internal")
VERSIONS = (1, 2, 3)
#: --multicast-routing: "on" takes MRT_INIT and a VIF per interface (today's receive path),
#: "off" receives IGMP through a packet socket per interface, "auto" is "on" where the kernel
#: has multicast routing and "off" where MRT_INIT fails with ENOPROTOOPT.
MULTICAST_ROUTING = ("auto", "on", "off")


class ConfigError(ValueError):
    """A configuration value is wrong. ``event`` is (id, strings) when the catalog has one."""

    def __init__(self, message: str, event: tuple[int, list[str], str] | None = None) -> None:
        super().__init__(message)
        self.event = event  # (event id, insertion strings, interface name)


def default_response_interval(query_interval: float) -> float:
    """The query response interval when only the query interval is given.

    RFC 2236's default is 10 s, but it must stay below the query interval (RFC 3376 8.3): a
    test's `--query-interval 0.5` alone gets half the interval instead of a refusal.
    """
    return min(10.0, query_interval / 2)


@dataclass(frozen=True)
class Timers:
    """RFC 2236 / RFC 3376 timer values in seconds (fractions allowed, for tests)."""

    query_interval: float = 125.0
    query_response_interval: float = 10.0
    robustness: int = 2
    startup_query_interval: float | None = None  # default: query_interval / 4
    startup_query_count: int | None = None  # default: robustness
    last_member_query_interval: float = 1.0
    last_member_query_count: int | None = None  # default: robustness
    retry_interval: float = 5.0

    @property
    def startup_interval(self) -> float:
        """Seconds between startup queries."""
        if self.startup_query_interval is not None:
            return self.startup_query_interval
        return self.query_interval / 4

    @property
    def startup_count(self) -> int:
        """Number of startup general queries."""
        return self.robustness if self.startup_query_count is None else self.startup_query_count

    @property
    def last_member_count(self) -> int:
        """Number of group-specific queries sent after a leave."""
        if self.last_member_query_count is None:
            return self.robustness
        return self.last_member_query_count

    @property
    def group_membership_interval(self) -> float:
        """How long a group lives without a report: robustness * QI + QRI."""
        return self.robustness * self.query_interval + self.query_response_interval

    @property
    def other_querier_present_interval(self) -> float:
        """How long another querier is believed present: robustness * QI + QRI / 2."""
        return self.robustness * self.query_interval + self.query_response_interval / 2

    @property
    def older_host_present_interval(self) -> float:
        """How long a group stays in v1/v2 compatibility after an old report."""
        return self.group_membership_interval

    @property
    def last_member_query_time(self) -> float:
        """How long a group survives a leave without a report: LMQC * LMQI."""
        return self.last_member_count * self.last_member_query_interval


@dataclass(frozen=True)
class InterfaceConfig:
    """One configured interface: its name, mode, IGMP version and static groups."""

    name: str
    mode: str = "router"
    version: int = 3
    static_groups: tuple[str, ...] = ()


@dataclass(frozen=True)
class Limits:
    """Caps that bound igmpd's memory and log volume whatever the network sends."""

    max_groups: int = 16384  # groups per interface
    max_sources: int = 256  # sources per group (IGMPv3)
    log_burst: int = 10  # malformed-packet / runtime events logged at once per interface and id
    log_rate: float = 1.0  # ... then this many per second


@dataclass(frozen=True)
class Config:
    """Everything igmpd needs to run."""

    interfaces: tuple[InterfaceConfig, ...]
    timers: Timers = field(default_factory=Timers)
    limits: Limits = field(default_factory=Limits)
    event_log: str = "-"
    state: str | None = None
    multicast_routing: str = "auto"


def _check_range(name: str, value: float, low: float, high: float | None = None) -> None:
    if value < low or (high is not None and value > high):
        valid = f">= {low}" if high is None else f"between {low} and {high}"
        raise ConfigError(f"{name} {value} is invalid: it must be {valid}")


def validate_timers(timers: Timers, interface: str) -> None:
    """Reject timers RFC 2236/3376 forbid; robustness and startup count log 41050/41051."""
    if not 1 <= timers.robustness <= 7:
        raise ConfigError(
            f"robustness {timers.robustness} is invalid: it must be between 1 and 7",
            (41050, [str(timers.robustness), interface], interface),
        )
    count = timers.startup_count
    if not 1 <= count <= 7:
        raise ConfigError(
            f"startup query count {count} is invalid: it must be between 1 and 7",
            (41051, [str(count), interface], interface),
        )
    _check_range("query interval", timers.query_interval, 0.05)
    _check_range("query response interval", timers.query_response_interval, 0.01)
    if timers.query_response_interval >= timers.query_interval:
        raise ConfigError(
            f"query response interval {timers.query_response_interval} is invalid: "
            f"it must be less than the query interval {timers.query_interval}"
        )
    _check_range("startup query interval", timers.startup_interval, 0.01)
    _check_range("last member query interval", timers.last_member_query_interval, 0.01)
    _check_range("last member query count", timers.last_member_count, 1, 7)
    _check_range("retry interval", timers.retry_interval, 0.01)


def validate_interface(interface: InterfaceConfig) -> None:
    """Reject a bad mode, version or static group (41047) on one interface."""
    if not interface.name or len(interface.name) > 15 or "/" in interface.name:
        raise ConfigError(f"interface name {interface.name!r} is invalid (1-15 characters)")
    if interface.mode not in MODES:
        raise ConfigError(
            f"interface {interface.name}: mode {interface.mode!r} is invalid "
            f"(valid: {', '.join(MODES)})"
        )
    if interface.version not in VERSIONS:
        raise ConfigError(
            f"interface {interface.name}: version {interface.version!r} is invalid (valid: 1, 2, 3)"
        )
    for group in interface.static_groups:
        if not is_multicast(group):
            raise ConfigError(
                f"static group {group} on interface {interface.name} is not a multicast address",
                (41047, [group, interface.name], interface.name),
            )


def validate_limits(limits: Limits) -> None:
    """Reject caps that would make igmpd useless or unbounded."""
    _check_range("max groups", limits.max_groups, 1, 1_000_000)
    _check_range("max sources", limits.max_sources, 1, 65_536)
    _check_range("log burst", limits.log_burst, 1, 10_000)
    _check_range("log rate", limits.log_rate, 0.001, 10_000)


def validate(config: Config) -> None:
    """Validate a whole configuration; raises ConfigError on the first problem."""
    if not config.interfaces:
        raise ConfigError("no interface configured (use --interface NAME)")
    names = [interface.name for interface in config.interfaces]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(f"interface {duplicates[0]} is configured twice")
    if len(names) > 32:
        raise ConfigError("at most 32 interfaces (the kernel's VIF limit)")
    validate_timers(config.timers, config.interfaces[0].name)
    for interface in config.interfaces:
        validate_interface(interface)
    validate_limits(config.limits)
    if config.multicast_routing not in MULTICAST_ROUTING:
        raise ConfigError(
            f"multicast routing {config.multicast_routing!r} is invalid "
            f"(valid: {', '.join(MULTICAST_ROUTING)})"
        )


def is_multicast(text: str) -> bool:
    """True when text is an IPv4 multicast address (224.0.0.0/4)."""
    try:
        return ipaddress.IPv4Address(text).is_multicast
    except ValueError:
        return False
