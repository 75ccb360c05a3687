"""igmpd's command line and config file, turned into a validated igmpd.config.Config.

The config file (TOML, or JSON when its name ends in .json) uses the command line's long option
names with underscores (query_interval, startup_query_count ...); the command line wins over
the file. Interfaces are strings "NAME[:MODE]" or tables {name, mode, version, static_groups}.
"""

from __future__ import annotations

import argparse
import json
import tomllib
from dataclasses import fields
from pathlib import Path
from typing import Any

from igmpd.config import (
    MODES,
    MULTICAST_ROUTING,
    Config,
    ConfigError,
    InterfaceConfig,
    Limits,
    Timers,
    default_response_interval,
    validate,
)

TIMER_OPTIONS: dict[str, type] = {f.name: float for f in fields(Timers)}
TIMER_OPTIONS.update(robustness=int, startup_query_count=int, last_member_query_count=int)
LIMIT_OPTIONS: dict[str, type] = {
    "max_groups": int,
    "max_sources": int,
    "log_burst": int,
    "log_rate": float,
}
TOP_LEVEL_KEYS = {
    "interfaces",
    "version",
    "event_log",
    "state",
    "static_groups",
    "multicast_routing",
}

_HELP = {
    "query_interval": "seconds between general queries (default 125; fractions allowed)",
    "query_response_interval": "max response time advertised in general queries (default 10)",
    "robustness": "robustness variable, 1-7 (default 2)",
    "startup_query_interval": "seconds between startup queries (default query interval / 4)",
    "startup_query_count": "number of startup queries, 1-7 (default robustness)",
    "last_member_query_interval": "seconds between group-specific queries after a leave (default 1)",
    "last_member_query_count": "group-specific queries after a leave, 1-7 (default robustness)",
    "retry_interval": "seconds between re-activation attempts of an inactive interface (default 5)",
    "max_groups": "cap on groups per interface (default 16384)",
    "max_sources": "cap on IGMPv3 sources per group (default 256)",
    "log_burst": "malformed-packet/runtime events logged at once per interface and id (default 10)",
    "log_rate": "... then at most this many per second, the rest counted (default 1)",
}


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser; `igmpd --help` documents every option."""
    parser = argparse.ArgumentParser(
        prog="igmpd",
        description="IGMPv1/v2/v3 querier router that logs the RRAS IGMPv2 socket-operation "
        "events as JSON lines (see docs/igmpd.md and docs/events.md).",
    )
    parser.add_argument(
        "--interface",
        "-i",
        action="append",
        default=[],
        metavar="NAME[:router|:internal]",
        help="an interface to run on (repeat for several); mode router (default) or internal",
    )
    parser.add_argument(
        "--version", type=int, choices=(1, 2, 3), help="IGMP version of every interface (default 3)"
    )
    for name, kind in TIMER_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, help=_HELP[name])
    for name, kind in LIMIT_OPTIONS.items():
        parser.add_argument("--" + name.replace("_", "-"), type=kind, help=_HELP[name])
    parser.add_argument(
        "--static-group",
        action="append",
        default=[],
        metavar="IFACE:GROUP",
        help="a group always reported present on IFACE (repeatable)",
    )
    parser.add_argument(
        "--multicast-routing",
        choices=MULTICAST_ROUTING,
        help="on: receive IGMP through the kernel's multicast routing (MRT_INIT, a VIF per "
        "interface); off: through a packet socket per interface; auto (default): on where the "
        "kernel has multicast routing, else off",
    )
    parser.add_argument("--config", type=Path, help="a TOML (or .json) config file")
    parser.add_argument(
        "--event-log", metavar="PATH", help="JSON-lines event log, '-' for stdout (default -)"
    )
    parser.add_argument("--state", metavar="PATH", help="state file, JSON, rewritten atomically")
    return parser


def load_file(path: Path) -> dict[str, Any]:
    """Read a TOML or JSON config file into a mapping; errors name the file."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    try:
        if path.suffix == ".json":
            data = json.loads(text)
        else:
            data = tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path}: expected a table at the top level")
    known = TOP_LEVEL_KEYS | set(TIMER_OPTIONS) | set(LIMIT_OPTIONS)
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(
            f"config file {path}: unknown key {unknown[0]!r} (valid: {', '.join(sorted(known))})"
        )
    return data


def parse_interface(item: Any, version: int, statics: dict[str, list[str]]) -> InterfaceConfig:
    """An interface from "NAME[:MODE]" or a table {name, mode, version, static_groups}."""
    if isinstance(item, str):
        name, _, mode = item.partition(":")
        item = {"name": name, "mode": mode or "router"}
    if not isinstance(item, dict) or "name" not in item:
        raise ConfigError(f"interface {item!r} is invalid: expected NAME[:MODE] or a table")
    unknown = sorted(set(item) - {"name", "mode", "version", "static_groups"})
    if unknown:
        raise ConfigError(f"interface {item['name']}: unknown key {unknown[0]!r}")
    if item.get("mode", "router") not in MODES:
        raise ConfigError(
            f"interface {item['name']}: mode {item.get('mode')!r} is invalid "
            f"(valid: {', '.join(MODES)})"
        )
    groups = list(item.get("static_groups", [])) + statics.get(str(item["name"]), [])
    return InterfaceConfig(
        name=str(item["name"]),
        mode=str(item.get("mode", "router")),
        version=_as_int("version", item.get("version", version)),
        static_groups=tuple(str(group) for group in groups),
    )


def _as_int(name: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or int(value) != value:
        raise ConfigError(f"{name} {value!r} is invalid: expected an integer")
    return int(value)


def _as_number(name: str, value: Any, kind: type) -> int | float:
    if kind is int:
        return _as_int(name.replace("_", " "), value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ConfigError(f"{name.replace('_', ' ')} {value!r} is invalid: expected a number")
    return float(value)


def _static_groups(items: list[str]) -> dict[str, list[str]]:
    statics: dict[str, list[str]] = {}
    for item in items:
        name, sep, group = item.partition(":")
        if not sep:
            raise ConfigError(f"static group {item!r} is invalid: expected IFACE:GROUP")
        statics.setdefault(name, []).append(group)
    return statics


def _multicast_routing(cli: dict[str, Any], data: dict[str, Any]) -> str:
    """The --multicast-routing value; a config file must give it as a string (an unquoted
    YAML/TOML on or off would be a boolean, which says nothing about which one was meant)."""
    value = cli.get("multicast_routing", data.get("multicast_routing", "auto"))
    if not isinstance(value, str):
        raise ConfigError(
            f"multicast_routing {value!r} is invalid: expected one of the strings "
            f"{', '.join(MULTICAST_ROUTING)} (quoted)"
        )
    return value


def config_from(args: argparse.Namespace) -> Config:
    """Merge the config file (if any) with the command line and validate the result."""
    data = load_file(args.config) if args.config else {}
    cli = {key: value for key, value in vars(args).items() if value is not None}
    merged = {**data, **{k: v for k, v in cli.items() if k in TIMER_OPTIONS or k in LIMIT_OPTIONS}}
    version = _as_int("version", cli.get("version", data.get("version", 3)))
    statics = _static_groups(list(data.get("static_groups", [])) + args.static_group)
    items = list(args.interface) or list(data.get("interfaces", []))
    interfaces = tuple(parse_interface(item, version, statics) for item in items)
    configured = {interface.name for interface in interfaces}
    for name in statics:
        if name not in configured:
            raise ConfigError(f"static group on interface {name}, which is not configured")
    values = {k: _as_number(k, merged[k], t) for k, t in TIMER_OPTIONS.items() if k in merged}
    if "query_interval" in values and "query_response_interval" not in values:
        values["query_response_interval"] = default_response_interval(values["query_interval"])
    timers = Timers(**values)
    limits = Limits(
        **{k: _as_number(k, merged[k], t) for k, t in LIMIT_OPTIONS.items() if k in merged}
    )
    config = Config(
        interfaces=interfaces,
        timers=timers,
        limits=limits,
        event_log=str(cli.get("event_log", data.get("event_log", "-"))),
        state=cli.get("state", data.get("state")),
        multicast_routing=_multicast_routing(cli, data),
    )
    validate(config)
    return config
