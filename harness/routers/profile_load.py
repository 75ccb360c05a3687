"""Reading and checking a router profile file: ``load_profile`` (cached by path and mtime).

The file is parsed with positions (yamlsource), validated against the profile schema (unless
trusted: the bundled ones), and built into a ``Profile`` by ``_ProfileBuilder``, which collects
every problem at file:line:column (a ScenarioError) and maps the profile's ``examples:``.
"""

from __future__ import annotations

import importlib
import re
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import caches, catalog
from harness.errors import Location, ScenarioError
from harness.routers.base import LogPattern
from harness.routers.external import AddressLine
from harness.routers.profile_model import (
    DEFAULT_FEATURES,
    PLACEHOLDER,
    PLACEHOLDERS,
    TEMPLATE_WHITESPACE,
    Example,
    Identify,
    OwnEvent,
    Profile,
    ProfilePattern,
    QueryPeriod,
    Ready,
    example_mismatch,
    seconds,
)
from harness.yamlsource import PathKey, Source, parse

if TYPE_CHECKING:
    pass

# -- loading ------------------------------------------------------------------------------------

#: (resolved path, trusted) -> (mtime_ns, Profile): a profile read once while its file is unchanged.
PROFILES: caches.Cache[tuple[Path, bool], tuple[int, Profile]] = caches.cache(
    "routers.profile_load.PROFILES", "test", "profiles by path and mtime (tests write their own)"
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
                for name in PLACEHOLDER.findall(text):
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


def _dotted(path: PathKey) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def hook_class(text: str) -> type:
    """The hook class ``module:Class`` names."""
    module, _, name = text.partition(":")
    return getattr(importlib.import_module(module), name)
