"""Router profiles: a router described once, in a YAML file, instead of in Python.

A profile (docs/your-router.md; its JSON Schema is harness/profile.schema.json) says how to
start the router (argv with placeholders, an optional jinja2 config template rendered per
scenario), where its log comes from, which lines mean which events (catalog ids, or events of
its own vocabulary), what "ready" means, its query period, the kernel features it needs, its
exit codes and stop signal. It is checked like a scenario (``file:line:column: message``), and
its ``examples:`` are mapped on load: an example that no longer maps as declared is a load error.

This module is the adapter: ``profile_class`` turns a profile into a ``RouterAdapter`` class
(``ProfileAdapter``), so the
runner, ``faultlab explore``, ``compare`` and ``reproduce`` run it like a bundled kind. What data
cannot say is a hook the profile names (``hooks: module:Class``): a class whose methods override
the adapter's (FRR's two daemons, pimd's fixed pid file, state queries).

Profiles are found by ``router: {profile: PATH}`` (relative to the scenario file), or by
``router: {kind: NAME}`` on the profile path (``search_dirs``): a ``routers/`` folder beside the
scenario file and its parents, the ``--routers-dir`` folders (``FAULTLAB_ROUTERS_DIR``), and the
bundled profiles (harness/routers/profiles/).

The rest lives beside it: the model (``profile_model``), reading and checking a file
(``profile_load``), the profile path (``profile_path``); the names other modules use are
re-exported here (``__all__``), so ``harness.routers.profile`` stays the one import for them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness import caches
from harness.errors import InputError
from harness.event import Event, EventSource
from harness.routers.base import RouterAdapter, find_program
from harness.routers.external import ExternalAdapter, LineMapper
from harness.routers.profile_load import hook_class, load_profile
from harness.routers.profile_model import PLACEHOLDER, TEMPLATE_WHITESPACE, Profile, Ready
from harness.routers.profile_path import (
    BUNDLED_DIR,
    ROUTERS_DIR_ENV,
    find_profile,
    known_profiles,
    routers_dirs,
    search_dirs,
)

if TYPE_CHECKING:
    from harness.scenario import RouterSpec

__all__ = [
    "BUNDLED_DIR",
    "CLASSES",
    "ROUTERS_DIR_ENV",
    "Profile",
    "ProfileAdapter",
    "adapter_class",
    "bundled",
    "error_event_names",
    "find_profile",
    "known_profiles",
    "load_profile",
    "loaded",
    "profile_class",
    "render_argv",
    "routers_dirs",
    "search_dirs",
]


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

    return PLACEHOLDER.sub(value, text)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def profile_class(profile: Profile) -> type[ProfileAdapter]:
    """A RouterAdapter class for ``profile``: its facts as class attributes, its hooks mixed in
    first (so a hook's method overrides the adapter's, and a hook's attribute the profile's:
    pimd's program folder follows $FAULTLAB_PIMD_DIR)."""
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
        hooks = hook_class(profile.hooks)
        bases = (hooks, ProfileAdapter)
        attributes = {k: v for k, v in attributes.items() if k == "__doc__" or k not in vars(hooks)}
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
