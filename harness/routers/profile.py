"""Router profiles: a router described once, in a YAML file, instead of in Python.

A profile (docs/your-router.md; its JSON Schema is harness/profile.schema.json) says how to
start the router (argv with placeholders, an optional jinja2 config template rendered per
scenario), where its log comes from, which lines mean which events (catalog ids, or events of
its own vocabulary), what "ready" means, its query period, the kernel features it needs, its
exit codes and stop signal. It is checked like a scenario (``file:line:column: message``), and
its ``examples:`` are mapped on load: an example that no longer maps as declared is a load error.

``profile_class`` turns a profile into a ``RouterAdapter`` class (``ProfileAdapter``), so the
runner, ``faultlab explore``, ``compare`` and ``reproduce`` run it like a bundled kind. What data
cannot say is a hook the profile names (``hooks: module:Class``): a class whose methods override
the adapter's (FRR's two daemons, pimd's fixed pid file, state queries).

Profiles are found by ``router: {profile: PATH}`` (relative to the scenario file), or by
``router: {kind: NAME}`` on the profile path (``search_dirs``): a ``routers/`` folder beside the
scenario file and its parents, the ``--routers-dir`` folders (``FAULTLAB_ROUTERS_DIR``), and the
bundled profiles (harness/routers/profiles/).
"""

from __future__ import annotations

import importlib
import math
import os
import re
import shutil
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness import caches, catalog
from harness.errors import InputError, Location, ScenarioError
from harness.event import Event, EventSource
from harness.routers.base import LogPattern, RouterAdapter, find_program
from harness.routers.external import AddressLine, ExternalAdapter, LineMapper, RouterPattern
from harness.yamlsource import PathKey, Source, parse

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

BUNDLED_DIR = Path(__file__).resolve().parent / "profiles"
ROUTERS_DIR_ENV = "FAULTLAB_ROUTERS_DIR"  # --routers-dir, os.pathsep-separated
ROUTERS_FOLDER = "routers"  # the folder beside a suite that holds its profiles
PROFILE_SUFFIXES = (".yaml", ".yml")
DEFAULT_FEATURES = ("raw-socket",)
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0}
_DURATION = re.compile(r"^\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m)\s*$")
#: Config templates: a block tag's own line leaves no blank line (as Ansible's templates).
TEMPLATE_WHITESPACE = {"trim_blocks": True, "lstrip_blocks": True}
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][\w.]*)\}")
#: Placeholders every argument may use (besides timers and options.NAME).
PLACEHOLDERS = ("program", "interfaces", "workdir", "config", "profile_dir", "version", "node")


# -- the model --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnEvent:
    """An event of the router's own vocabulary: its name, level, and the catalog id it stands
    for, if any (then catalog expectations ``id: N`` match it too)."""

    name: str
    level: str
    id: int | None = None
    description: str = ""

    @property
    def is_error(self) -> bool:
        return self.level == catalog.Level.ERROR.value


@dataclass(frozen=True)
class ProfilePattern(RouterPattern):
    """A profile's pattern: a ``RouterPattern`` whose records also name the own event."""

    own: OwnEvent | None = None
    source: str = ""  # the regex as written, for ``faultlab profile check``
    index: int = 0

    def record(self, line: str, book: Any) -> dict[str, Any] | None:
        record = super().record(line, book)
        if record is not None and self.own is not None:
            record["event"] = self.own.name
            record["level"] = self.own.level
            if self.own.id is None:
                record["symbol"] = self.own.name
        return record


@dataclass(frozen=True)
class Ready:
    """When start-up is over: an event (``per_interface``: one on each interface)."""

    id: int | None = None
    event: str | None = None
    interface: str | None = None
    per_interface: bool = False

    def matches(self, event: Event) -> bool:
        if self.event is not None and event.name != self.event:
            return False
        if self.event is None and event.id != self.id:
            return False
        return self.interface is None or event.interface == self.interface


@dataclass(frozen=True)
class QueryPeriod:
    """Seconds between two general queries: fixed, or a timer of the scenario (else a default),
    clamped and rounded as the router does; ``None`` seconds and timer: not known."""

    seconds: float | None = None
    timer: str | None = None
    default: float | None = None
    minimum: float | None = None
    maximum: float | None = None
    rounding: str | None = None  # "nearest" or "up": to whole seconds, before min and max

    def of(self, timers: Mapping[str, float]) -> float | None:
        value = self.seconds
        if self.timer is not None:
            given = timers.get(self.timer, self.default)
            value = None if given is None else float(given)
        if value is None:
            return None
        if self.rounding == "nearest":
            value = float(round(value))
        elif self.rounding == "up":
            value = float(math.ceil(value))
        if self.minimum is not None:
            value = max(self.minimum, value)
        if self.maximum is not None:
            value = min(self.maximum, value)
        return value


@dataclass(frozen=True)
class Example:
    """A log line and what it must map to (nothing, when it names no event)."""

    line: str
    id: int | None = None
    event: str | None = None
    interface: str | None = None
    errno: int | None = None
    call: str | None = None
    strings: tuple[str, ...] | None = None
    where: Location | None = None


@dataclass(frozen=True)
class Identify:
    """How a pasted log shows it was written by this router (``faultlab reproduce``).

    ``tags``: program names in syslog, journal or docker prefixes (``igmpproxy[812]: ``);
    ``markers``: wording only this router writes; ``version``: a banner whose ``version``
    group is the release.
    """

    tags: re.Pattern[str]
    markers: re.Pattern[str] | None = None
    version: re.Pattern[str] | None = None


@dataclass(frozen=True)
class Profile:
    """A router profile, loaded and checked."""

    name: str
    path: Path
    argv: tuple[str | tuple[str, ...], ...]
    description: str = ""
    version: tuple[str, ...] = ()
    binary: str = ""
    programs: tuple[str, ...] = ()
    program_dirs: tuple[str, ...] = ()
    package: str = ""
    package_note: str = ""
    unpacked: bool = False
    config_name: str | None = None
    config_template: str | None = None
    log: tuple[str, ...] = ("stdout", "stderr")  # stdout, stderr, or file names in the workdir
    events: Mapping[str, OwnEvent] = field(default_factory=dict)
    patterns: tuple[ProfilePattern, ...] = ()
    address_lines: tuple[AddressLine, ...] = ()
    ignore: re.Pattern[str] | None = None
    ready: Ready | None = None
    query_period: QueryPeriod | None = None
    timers: Mapping[str, float] = field(default_factory=dict)
    features: tuple[str, ...] = DEFAULT_FEATURES
    exit_codes: Mapping[int, str] = field(default_factory=dict)
    stop_signal: int = signal.SIGTERM
    start_timeout: float = 5.0
    compare_window: float = 4.0
    querier: bool = True
    comparable: bool = False
    hooks: str | None = None
    examples: tuple[Example, ...] = ()
    identify: Identify | None = None

    @property
    def folder(self) -> Path:
        return self.path.parent

    def mapper(self) -> LineMapper:
        """A fresh LineMapper over this profile's patterns (its own address book)."""
        return LineMapper(self.name, self.patterns, self.address_lines, self.ignore)

    def error_events(self) -> tuple[str, ...]:
        """The names of its own events at level Error (explore classes them as errors)."""
        return tuple(name for name, own in self.events.items() if own.is_error)

    def exit_meaning(self, code: int | None) -> str:
        return self.exit_codes.get(code, "") if code is not None else ""


# -- loading ------------------------------------------------------------------------------------

#: (resolved path, trusted) -> (mtime_ns, Profile): a profile read once while its file is unchanged.
PROFILES: caches.Cache[tuple[Path, bool], tuple[int, Profile]] = caches.cache(
    "routers.profile.PROFILES", "test", "profiles by path and mtime (tests write their own)"
)


def load_profile(path: str | Path, *, trusted: bool = False) -> Profile:
    """Read and check one profile (cached by path and mtime); ScenarioError with every problem.

    ``trusted`` (the bundled profiles, loaded on every ``import harness.routers``) skips the
    schema and the template's syntax check, which tests/routers/test_routers_profiles.py runs
    on them; their patterns and examples are still checked."""
    file = Path(path).resolve()
    try:
        stamp = file.stat().st_mtime_ns
    except OSError as exc:
        raise ScenarioError([(Location(Path(path)), f"cannot read the profile: {exc}")]) from exc
    cached = PROFILES.get((file, trusted))
    if cached is not None and cached[0] == stamp:
        return cached[1]
    profile = _load(file, trusted)
    PROFILES[(file, trusted)] = (stamp, profile)
    return profile


def _load(file: Path, trusted: bool = False) -> Profile:
    source = _fast_parse(file) if trusted else parse(file)
    if not trusted:
        _validate(source)
    builder = _ProfileBuilder(source, trusted)
    profile = builder.profile()
    if not builder.problems:
        builder.check_examples(profile)
    if builder.problems:
        raise ScenarioError(
            sorted(builder.problems, key=lambda p: (p[0].line or 0, p[0].column or 0))
        )
    return profile


def _fast_parse(file: Path) -> Source:
    """A bundled profile through libyaml when it is there (no positions: it is trusted)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return Source(file, yaml.load(file.read_text(encoding="utf-8"), Loader=loader))


def _validate(source: Source) -> None:
    """The profile's shape, by its JSON Schema; ScenarioError with every problem."""
    from harness.routers.profile_schema import validate_profile

    if not isinstance(source.data, Mapping):
        raise ScenarioError(
            [(source.locate(), "a router profile is a mapping (name:, argv:, ...)")]
        )
    problems = validate_profile(source)
    if problems:
        raise ScenarioError(problems)


def seconds(value: Any) -> float:
    """Seconds from 0.5, 2, "500ms", "2s", "1m" (the schema checked the form)."""
    if isinstance(value, int | float):
        return float(value)
    found = _DURATION.match(str(value))
    if not found:
        raise ValueError(f"{value!r} is not a duration")
    return float(found.group(1)) * _UNITS[found.group(2)]


class _ProfileBuilder:
    """Resolves a validated profile into the model, collecting every problem on the way."""

    def __init__(self, source: Source, trusted: bool = False) -> None:
        self.source = source
        self.trusted = trusted
        self.data: Mapping[str, Any] = source.data
        self.problems: list[tuple[Location, str]] = []
        self.events: dict[str, OwnEvent] = {}

    def problem(self, path: PathKey, message: str) -> None:
        self.problems.append((self.source.locate(path), message))

    def profile(self) -> Profile:
        data = self.data
        self.events = {
            name: OwnEvent(name, item["level"], item.get("id"), item.get("description", ""))
            for name, item in (data.get("events") or {}).items()
        }
        argv = tuple(tuple(item) if isinstance(item, list) else item for item in data["argv"])
        if not self.trusted:
            self.placeholders(argv)
        config = data.get("config") or {}
        return Profile(
            name=data["name"],
            path=self.source.file,
            argv=argv,
            description=str(data.get("description", "")).strip(),
            version=tuple(data.get("version") or ()),
            binary=data.get("binary", ""),
            programs=tuple(data.get("programs") or ()),
            program_dirs=tuple(data.get("program_dirs") or ()),
            package=data.get("package", ""),
            package_note=data.get("package_note", ""),
            unpacked=bool(data.get("unpacked", False)),
            config_name=config.get("name") or (f"{data['name']}.conf" if config else None),
            config_template=self.template(config),
            log=self.log(data.get("log")),
            events=self.events,
            patterns=tuple(
                self.pattern(("patterns", i), item)
                for i, item in enumerate(data.get("patterns") or ())
            ),
            address_lines=tuple(
                AddressLine(self.regex(("address_lines", i), text))
                for i, text in enumerate(data.get("address_lines") or ())
            ),
            ignore=self.ignore(data.get("ignore") or ()),
            ready=self.ready(data["ready"]) if "ready" in data else None,
            query_period=self.query_period(data["query_period"])
            if "query_period" in data
            else None,
            timers={key: float(value) for key, value in (data.get("timers") or {}).items()},
            features=tuple(data.get("features") or DEFAULT_FEATURES),
            exit_codes={int(k): str(v) for k, v in (data.get("exit_codes") or {}).items()},
            stop_signal=int(signal.Signals[data.get("stop_signal", "SIGTERM")]),
            start_timeout=seconds(data.get("start_timeout", 5.0)),
            compare_window=seconds(data.get("compare_window", 4.0)),
            querier=bool(data.get("querier", True)),
            comparable=bool(data.get("comparable", False)),
            hooks=self.hooks(data.get("hooks")),
            examples=tuple(
                self.example(("examples", i), item)
                for i, item in enumerate(data.get("examples") or ())
            ),
            identify=self.identify(data["name"], data.get("identify") or {}),
        )

    # -- parts ----------------------------------------------------------------------------------

    def placeholders(self, argv: tuple[str | tuple[str, ...], ...]) -> None:
        from harness.scenario import TIMER_NAMES

        known = (*PLACEHOLDERS, *TIMER_NAMES)
        for index, item in enumerate(argv):
            inner = isinstance(item, tuple)
            for part, text in enumerate(item if inner else (item,)):
                path: PathKey = ("argv", index, part) if inner else ("argv", index)
                if "{{" in text or "{%" in text:
                    continue  # a jinja2 argument (rendered per scenario)
                for name in _PLACEHOLDER.findall(text):
                    if name == "interface" and inner or name.startswith("options."):
                        continue
                    if name == "interface":
                        self.problem(
                            path,
                            "argv: {interface} is for a list repeated per interface "
                            "([-i, '{interface}']); use {interfaces} for all of them",
                        )
                    elif name not in known:
                        from harness.suggest import did_you_mean

                        self.problem(
                            path,
                            f"argv: unknown placeholder {{{name}}}{did_you_mean(name, known)} "
                            f"(valid: {', '.join('{' + k + '}' for k in PLACEHOLDERS)}, "
                            "{interface} in a list, a timer name, {options.NAME})",
                        )

    def template(self, config: Mapping[str, Any]) -> str | None:
        if "template" in config and "file" in config:
            self.problem(("config", "file"), "config: give template: or file:, not both")
        text = config.get("template")
        path: PathKey = ("config", "template")
        if "file" in config:
            path = ("config", "file")
            try:
                text = (self.source.file.parent / config["file"]).read_text(encoding="utf-8")
            except OSError as exc:
                self.problem(path, f"config.file: cannot read {config['file']!r}: {exc}")
                return None
        if text is None:
            if config:
                self.problem(("config",), "config: give the template: text or a template file:")
            return None
        if self.trusted:
            return text
        from jinja2 import Environment, TemplateSyntaxError

        try:
            Environment(**TEMPLATE_WHITESPACE).parse(text)
        except TemplateSyntaxError as exc:
            where = self.source.locate(path)
            line = (where.line or 1) + (exc.lineno or 1) - (0 if "file" in config else 0)
            self.problems.append(
                (
                    Location(where.file, line),
                    f"config template: {exc.message} (template line {exc.lineno})",
                )
            )
        return text

    def log(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ("stdout", "stderr")
        items = value if isinstance(value, list) else [value]
        return tuple(item if isinstance(item, str) else f"file:{item['file']}" for item in items)

    def regex(self, path: PathKey, text: str) -> re.Pattern[str]:
        try:
            return re.compile(text)
        except re.error as exc:
            self.problem(path, f"{_dotted(path)}: not a regular expression: {exc}")
            return re.compile(r"(?!)")

    def ignore(self, items: Sequence[str]) -> re.Pattern[str] | None:
        compiled = [self.regex(("ignore", i), text) for i, text in enumerate(items)]
        if not compiled:
            return None
        return re.compile("|".join(f"(?:{item.pattern})" for item in compiled))

    def own_or_catalog(self, path: PathKey, item: Mapping[str, Any]) -> tuple[int, OwnEvent | None]:
        """The catalog id and own event an item names with id:, symbol: or event: (one of)."""
        named = [key for key in ("id", "symbol", "event") if key in item]
        if len(named) > 1 and named != ["id", "symbol"]:
            self.problem(path, f"{_dotted(path)}: name one event: id:, symbol: or event:")
        if "event" in item:
            own = self.events.get(item["event"])
            if own is None:
                from harness.suggest import did_you_mean

                known = ", ".join(self.events) or "none (declare it under events:)"
                self.problem(
                    path + ("event",),
                    f"{_dotted(path)}.event: {item['event']!r} is not one of the profile's "
                    f"events{did_you_mean(item['event'], self.events)} (its events: {known})",
                )
                return 0, None
            return own.id or 0, own
        if "id" in item or "symbol" in item:
            found = catalog.BY_ID.get(item.get("id")) or catalog.BY_SYMBOL.get(item.get("symbol"))
            if (
                "id" in item
                and "symbol" in item
                and catalog.BY_ID[item["id"]].symbol != item["symbol"]
            ):
                self.problem(
                    path + ("symbol",), f"{_dotted(path)}: id {item['id']} is not {item['symbol']}"
                )
            return (found.id if found else 0), None
        return 0, None

    def pattern(self, path: PathKey, item: Mapping[str, Any]) -> ProfilePattern:
        regex = self.regex(path + ("match",), item["match"])
        if not any(key in item for key in ("id", "symbol", "event")):
            self.problem(
                path, f"{_dotted(path)}: name the event it stands for: id:, symbol: or event:"
            )
        number, own = self.own_or_catalog(path, item)
        fields = {key: item[key] for key in ("interface", "errno") if key in item}
        log_pattern = LogPattern(regex, number, strings=tuple(item.get("strings") or ()), **fields)
        return ProfilePattern(
            log_pattern,
            address=item.get("address"),
            call=item.get("call"),
            own=own,
            source=item["match"],
            index=path[-1] if isinstance(path[-1], int) else 0,
        )

    def identify(self, name: str, item: Mapping[str, Any]) -> Identify:
        """The profile's ``identify:`` (tags default to its name, case-insensitive)."""

        def optional(key: str) -> re.Pattern[str] | None:
            return self.regex(("identify", key), item[key]) if key in item else None

        tags = optional("tags") or re.compile(rf"^{re.escape(name)}$", re.IGNORECASE)
        return Identify(tags, optional("markers"), optional("version"))

    def ready(self, item: Mapping[str, Any]) -> Ready:
        number, own = self.own_or_catalog(("ready",), item)
        if not any(key in item for key in ("id", "symbol", "event")):
            self.problem(("ready",), "ready: name the event that says start-up is over")
        return Ready(
            id=number or None,
            event=own.name if own is not None else None,
            interface=item.get("interface"),
            per_interface=bool(item.get("per_interface", False)),
        )

    def query_period(self, value: Any) -> QueryPeriod:
        if value is None:
            return QueryPeriod()
        if not isinstance(value, Mapping):
            return QueryPeriod(seconds=seconds(value))
        from harness.scenario import TIMER_NAMES

        if value["timer"] not in TIMER_NAMES:
            from harness.suggest import did_you_mean

            self.problem(
                ("query_period", "timer"),
                f"query_period.timer: {value['timer']!r} is not a timer"
                f"{did_you_mean(value['timer'], TIMER_NAMES)} (timers: {', '.join(TIMER_NAMES)})",
            )
        return QueryPeriod(
            timer=value["timer"],
            default=seconds(value["default"]) if "default" in value else None,
            minimum=seconds(value["min"]) if "min" in value else None,
            maximum=seconds(value["max"]) if "max" in value else None,
            rounding=value.get("round"),
        )

    def hooks(self, text: str | None) -> str | None:
        if text is not None:
            try:
                hook_class(text)
            except (ImportError, AttributeError) as exc:
                self.problem(("hooks",), f"hooks: cannot import {text!r}: {exc}")
        return text

    def example(self, path: PathKey, item: Mapping[str, Any]) -> Example:
        number, own = self.own_or_catalog(path, item)
        errno_value = None
        if "errno" in item:
            try:
                errno_value = catalog.errno_number(item["errno"])
            except (ValueError, catalog.UnknownErrno) as exc:
                self.problem(path + ("errno",), f"{_dotted(path)}.errno: {exc}")
        return Example(
            line=item["line"],
            id=number or None if own is None else own.id,
            event=own.name if own is not None else None,
            interface=item.get("interface"),
            errno=errno_value,
            call=item.get("call"),
            strings=tuple(item["strings"]) if "strings" in item else None,
            where=self.source.locate(path),
        )

    def check_examples(self, profile: Profile) -> None:
        """Each example maps as declared (one mapper for all, in order: address lines teach)."""
        mapper = profile.mapper()
        for index, example in enumerate(profile.examples):
            record = mapper(example.line)
            wrong = example_mismatch(example, record)
            if wrong:
                where = example.where or self.source.locate(("examples", index))
                self.problems.append((where, f"examples[{index}]: {wrong}"))


def example_mismatch(example: Example, record: Mapping[str, Any] | None) -> str | None:
    """How ``record`` (what the line mapped to) differs from what the example declares."""
    declared = example.event is not None or example.id is not None
    if record is None:
        return (
            f"{example.line!r} maps to no event, declared {describe_example(example)}"
            if declared
            else None
        )
    got = describe_record(record)
    if not declared:
        return f"{example.line!r} maps to {got}, declared to map to nothing"
    checks = [
        example.event is None or record.get("event") == example.event,
        example.event is not None or record.get("id") == example.id,
        example.interface is None or record.get("interface") == example.interface,
        example.errno is None or record.get("errno") == example.errno,
        example.call is None or record.get("call") == example.call,
        example.strings is None or tuple(record.get("strings") or ()) == example.strings,
    ]
    if all(checks):
        return None
    return f"{example.line!r} maps to {got}, declared {describe_example(example)}"


def describe_example(example: Example) -> str:
    parts = [example.event or str(example.id)]
    if example.interface:
        parts.append(f"on {example.interface}")
    if example.errno is not None:
        parts.append(f"errno {catalog.errno_name(example.errno)}")
    if example.call:
        parts.append(f"call {example.call}")
    if example.strings is not None:
        parts.append(f"strings {list(example.strings)}")
    return " ".join(parts)


def describe_record(record: Mapping[str, Any]) -> str:
    """``cannot-join (41028) on e0 errno ENOBUFS call IP_ADD_MEMBERSHIP``: what a line produced."""
    name = record.get("event")
    number = record.get("id")
    head = f"{name} ({number})" if name and number else (name or f"{number} {_symbol(number)}")
    parts = [head]
    if record.get("interface"):
        parts.append(f"on {record['interface']}")
    if record.get("errno") is not None:
        parts.append(f"errno {catalog.errno_name(record['errno'])}")
    if record.get("call"):
        parts.append(f"call {record['call']}")
    if record.get("strings"):
        parts.append(f"strings {list(record['strings'])}")
    return " ".join(parts)


def _symbol(number: Any) -> str:
    found = catalog.BY_ID.get(number)
    return found.symbol if found else ""


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def hook_class(text: str) -> type:
    """The hook class ``module:Class`` names."""
    module, _, name = text.partition(":")
    return getattr(importlib.import_module(module), name)


# -- finding profiles -----------------------------------------------------------------------------


def routers_dirs() -> list[Path]:
    """The ``--routers-dir`` folders (``FAULTLAB_ROUTERS_DIR``, os.pathsep-separated)."""
    value = os.environ.get(ROUTERS_DIR_ENV, "")
    return [Path(part) for part in value.split(os.pathsep) if part]


def search_dirs(scenario_file: Path | None = None) -> list[Path]:
    """Where ``kind: NAME`` is looked for, in order: the ``--routers-dir`` folders (so a run can
    swap the build under test), then ``routers/`` beside the scenario file and in each parent up
    to the project (the current folder, or a folder holding .git). The bundled profiles are
    registered kinds already."""
    found: list[Path] = routers_dirs()
    if scenario_file is not None:
        folder = Path(scenario_file).resolve().parent
        stop = Path.cwd().resolve()
        while True:
            found.append(folder / ROUTERS_FOLDER)
            if folder == stop or (folder / ".git").exists() or folder.parent == folder:
                break
            folder = folder.parent
    return found


def find_profile(kind: str, scenario_file: Path | None = None) -> Path | None:
    """The profile file for router kind ``kind`` on the profile path, or None."""
    for folder in search_dirs(scenario_file):
        for suffix in PROFILE_SUFFIXES:
            candidate = folder / f"{kind}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def known_profiles(scenario_file: Path | None = None) -> list[str]:
    """The kinds of every profile on the path (for did-you-mean and listings)."""
    names: list[str] = []
    for folder in search_dirs(scenario_file):
        if folder.is_dir():
            names += [p.stem for p in sorted(folder.iterdir()) if p.suffix in PROFILE_SUFFIXES]
    return list(dict.fromkeys(names))


# -- the adapter ----------------------------------------------------------------------------------


class ProfileAdapter(ExternalAdapter):
    """A router run as its profile says. ``profile_class`` makes one class per profile."""

    profile: ClassVar[Profile]

    def requires(self, spec: RouterSpec) -> list[str]:
        """Skip reasons: a bundled router's program missing (with its package and installer),
        or any of a profile's programs (found on PATH or beside the profile)."""
        if self.package:
            return super().requires(spec)
        missing = [
            name
            for name in self.programs
            if find_program(name, *(Path(folder) / name for folder in self.program_dirs)) is None
            and not (self.profile.folder / name).is_file()
        ]
        if not missing:
            return []
        return [f"{self.name}: {missing[0]!r} is not installed (profile {self.profile.path})"]

    def features(self, spec: RouterSpec) -> tuple[str, ...]:
        own = tuple(self.profile.features)
        return (*own, f"router:{self.name}") if self.package else own

    def context(self, spec: RouterSpec, workdir: Path) -> dict[str, Any]:
        """What the config template and argv placeholders see: the scenario's router section."""
        timers = {**self.profile.timers, **spec.timers}
        addresses = dict(getattr(spec, "addresses", {}) or {})
        interfaces = [
            {
                "name": item.name,
                "mode": item.mode,
                "role": dict(spec.extra.get("roles") or {}).get(item.name, item.mode),
                "static_groups": list(item.static_groups),
                "addresses": list(addresses.get(item.name, ())),
            }
            for item in spec.interfaces
        ]
        return {
            "name": self.name,
            "program": self.program() or self.binary,
            "node": spec.node,
            "interfaces": interfaces,
            "names": list(spec.interface_names),
            "version": spec.version,
            "timers": timers,
            "options": dict(spec.extra),
            "workdir": str(workdir),
            "profile_dir": str(self.profile.folder),
            "config": str(workdir / self.profile.config_name) if self.profile.config_name else "",
        }

    def dry_run(self, spec: RouterSpec) -> list[str]:
        """What rendering this router's argv and config for ``spec`` would refuse (a timer or
        option the profile needs and the scenario lacks): the loader's check, nothing written."""
        workdir = Path("/nonexistent/workdir")
        try:
            self.render_config(spec, workdir)
            render_argv(self.profile.argv, self.context(spec, workdir))
        except InputError as exc:
            return [str(exc)]
        return []

    def render_config(self, spec: RouterSpec, workdir: Path) -> str | None:
        """The config template rendered for ``spec`` (StrictUndefined: a missing key is an
        error naming it, never an empty string in the router's config)."""
        if self.profile.config_template is None:
            return None
        from jinja2 import Environment, StrictUndefined, UndefinedError

        environment = Environment(
            undefined=StrictUndefined, keep_trailing_newline=True, **TEMPLATE_WHITESPACE
        )
        try:
            return environment.from_string(self.profile.config_template).render(
                self.context(spec, workdir)
            )
        except UndefinedError as exc:
            raise InputError(
                f"router profile {self.profile.path}: its config template needs {exc.message} "
                "(give it in the scenario's router section)"
            ) from exc

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        rendered = self.render_config(spec, workdir)
        if rendered is not None and self.profile.config_name:
            (workdir / self.profile.config_name).write_text(rendered)
        return render_argv(self.profile.argv, self.context(spec, workdir))

    def log_files(self, workdir: Path) -> tuple[Path, ...]:
        from harness.routers.base import STDERR_NAME, STDOUT_NAME

        names = {"stdout": STDOUT_NAME, "stderr": STDERR_NAME}
        return tuple(
            workdir / (names.get(item) or item.removeprefix("file:")) for item in self.profile.log
        )

    def mapper(self) -> LineMapper:
        return self.profile.mapper()

    def events(self, workdir: Path) -> EventSource:
        mapper = self.mapper()

        def parse_line(line: str, path: Path) -> dict[str, Any] | None:
            return mapper(line, path)

        return EventSource(self.log_files(workdir), parse_line)

    def is_ready(self, events: Sequence[Event], spec: RouterSpec | None = None) -> bool:
        """At the profile's ``ready`` event (one per interface with ``per_interface``), or, as
        for every router, once each interface is decided (one 41052 or 41055 on each)."""
        if RouterAdapter.is_ready(self, events, spec):
            return True
        ready = self.profile.ready
        if ready is None:
            return False
        seen = [event for event in events if ready.matches(event)]
        if not ready.per_interface:
            return bool(seen)
        names = spec.interface_names if spec is not None else self.interface_names
        return bool(names) and {e.interface for e in seen}.issuperset(names)

    def query_period(self, spec: RouterSpec) -> float | None:
        period = self.profile.query_period
        if period is None:
            return super().query_period(spec)
        return period.of({**self.profile.timers, **spec.timers})

    def exit_meaning(self, code: int | None) -> str:
        return self.profile.exit_meaning(code)

    def error_events(self) -> tuple[str, ...]:
        return self.profile.error_events()

    def version_text(self, timeout: float = 5.0) -> str | None:
        """What the profile's version command prints (first line), or None."""
        if not self.profile.version:
            return None
        argv = render_argv(self.profile.version, {"profile_dir": str(self.profile.folder)})
        if shutil.which(argv[0]) is None and not Path(argv[0]).is_file():
            return None
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=timeout, check=False
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        text = (done.stdout or done.stderr).strip()
        return text.splitlines()[0] if text else None


def render_argv(argv: Sequence[str | Sequence[str]], context: Mapping[str, Any]) -> list[str]:
    """argv with its placeholders filled: ``{interfaces}`` alone is one argument per interface
    (joined with ',' inside a longer argument); a list is repeated per interface with
    ``{interface}``; ``{TIMER}`` is the scenario's timer (else the profile's default)."""
    names = list(context.get("names") or ())
    result: list[str] = []
    for item in argv:
        if isinstance(item, str) and ("{{" in item or "{%" in item):
            rendered = _jinja(item, context)
            if rendered:  # an argument that renders to nothing is left out
                result.append(rendered)
        elif isinstance(item, str):
            if item == "{interfaces}":
                result += names
            else:
                result.append(_fill(item, context, None))
        else:
            for name in names:
                result += [_fill(part, context, name) for part in item]
    return result


def _jinja(text: str, context: Mapping[str, Any]) -> str:
    """One argument rendered as a jinja2 template (the config template's context, plus ``env``)."""
    from jinja2 import Environment, StrictUndefined, UndefinedError

    try:
        template = Environment(undefined=StrictUndefined).from_string(text)
        return template.render({**context, "env": dict(os.environ)}).strip()
    except UndefinedError as exc:
        raise InputError(f"argv {text!r}: {exc.message}") from exc


def _fill(text: str, context: Mapping[str, Any], interface: str | None) -> str:
    def value(found: re.Match[str]) -> str:
        key = found.group(1)
        if key == "interface" and interface is not None:
            return interface
        if key == "interfaces":
            return ",".join(context.get("names") or ())
        if key.startswith("options."):
            options = context.get("options") or {}
            option = key.removeprefix("options.")
            if option not in options:
                raise InputError(f"argv: {{{key}}} needs router.options.{option} in the scenario")
            return str(options[option])
        timers = context.get("timers") or {}
        if key in timers:
            return _number(timers[key])
        if key in context:
            return str(context[key])
        raise InputError(f"argv: {{{key}}} needs router.{key} in the scenario")

    return _PLACEHOLDER.sub(value, text)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def profile_class(profile: Profile) -> type[ProfileAdapter]:
    """A RouterAdapter class for ``profile``: its facts as class attributes, its hooks mixed in
    first (so a hook's method overrides the adapter's)."""
    programs = profile.programs or _first_program(profile)
    attributes: dict[str, Any] = {
        "name": profile.name,
        "profile": profile,
        "binary": profile.binary or (programs[0] if programs else ""),
        "programs": programs,
        "program_dirs": profile.program_dirs,
        "package": profile.package,
        "package_note": profile.package_note,
        "unpacked": profile.unpacked,
        "stop_signal": profile.stop_signal,
        "start_timeout": profile.start_timeout,
        "compare_window": profile.compare_window,
        "querier": profile.querier,
        "comparable": profile.comparable,
        "ready_id": _ready_id(profile.ready),
        "router_patterns": profile.patterns,
        "address_lines": profile.address_lines,
        "ignore": profile.ignore,
        "__doc__": profile.description or f"The router profile {profile.path}.",
    }
    bases: tuple[type, ...] = (ProfileAdapter,)
    if profile.hooks:
        bases = (hook_class(profile.hooks), ProfileAdapter)
    class_name = "".join(part.title() for part in re.split(r"[-_]", profile.name)) + "Profile"
    return type(class_name, bases, attributes)


def _ready_id(ready: Ready | None) -> int | None:
    """ExternalAdapter's ``ready_id``, when ``ready`` is a plain catalog event."""
    plain = ready is not None and ready.event is None and ready.interface is None
    return ready.id if plain and ready is not None and not ready.per_interface else None


def _first_program(profile: Profile) -> tuple[str, ...]:
    """argv's first word when it names a program (not a placeholder or a list)."""
    first = profile.argv[0] if profile.argv else ""
    if isinstance(first, str) and "{" not in first:
        return (first,)
    return ()


#: profile path -> (Profile, its adapter class): one class per loaded profile; ``loaded(kind)``
#: looks kinds up here, so a test's profile must not outlive the test (scope "test").
CLASSES: caches.Cache[Path, tuple[Profile, type[ProfileAdapter]]] = caches.cache(
    "routers.profile.CLASSES", "test", "adapter classes of the loaded profiles"
)


def adapter_class(path: str | Path) -> type[ProfileAdapter]:
    """The adapter class of the profile at ``path`` (one class per loaded profile)."""
    profile = load_profile(path)
    cached = CLASSES.get(profile.path)
    if cached is None or cached[0] is not profile:
        cached = (profile, profile_class(profile))
        CLASSES[profile.path] = cached
    return cached[1]


def loaded(kind: str) -> type[ProfileAdapter] | None:
    """The adapter class of a profile of this kind loaded in this process, else the one found
    on the ``--routers-dir`` path (or ./routers); None when there is none."""
    for profile, cls in CLASSES.values():
        if profile.name == kind:
            return cls
    path = find_profile(kind, Path.cwd() / "scenario.yaml")
    return adapter_class(path) if path is not None else None


def bundled(name: str) -> type[ProfileAdapter]:
    """The adapter class of a profile shipped with faultlab (harness/routers/profiles/)."""
    return profile_class(load_profile(BUNDLED_DIR / f"{name}.yaml", trusted=True))


def error_event_names(adapter: RouterAdapter | type[RouterAdapter]) -> tuple[str, ...]:
    """The names of a router's own events at level Error (none for a router without a profile):
    for explore's classes, which treat them as error events."""
    profile = getattr(adapter, "profile", None)
    return profile.error_events() if isinstance(profile, Profile) else ()
