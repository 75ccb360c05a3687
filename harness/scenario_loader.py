"""From a YAML file to a checked ``Scenario``: parse, validate against the schema, resolve, check.

Three passes, each collecting every problem before giving up:

1. YAML with positions (harness.yamlsource): syntax errors at their line:column.
2. The JSON Schema (harness.schema): types, unknown keys with a did-you-mean, enums.
3. What a schema cannot say: the topology as netns.topology.check judges it (nodes that must
   exist, interface names, addresses that clash, routes, sysctls; worded here), the names the
   router, traffic and expectations use, errno names and numbers, deadlines that are zero or
   longer than the scenario, faults the fault engine refuses (each resolved once into the recipe the runner
   instantiates: nothing is applied), settings that would touch the host.

``load()`` and ``load_many()`` return the typed model of harness.scenario (which never imports
this module), or raise a ScenarioError listing ``file:line:column: message`` for every problem.
Nothing is built while loading. Each section has its reader in harness.reading (topology,
router, events, faults, traffic); ``expect:``'s keys are read by their kinds (harness.expectations).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from harness.errors import InputError, Location, ScenarioError
from harness.reading.base import parse_duration
from harness.reading.faults import FaultReading
from harness.reading.router import RouterReading
from harness.reading.topology import TopologyReader as _TopologyReader
from harness.reading.traffic import TrafficReading
from harness.scenario import (
    DEFAULT_TIMEOUT,
    Expectations,
    FaultSpec,
    Scenario,
)
from harness.schema import validate
from harness.yamlsource import PathKey, Source, parse

__all__ = [
    "DEFAULT_SUITE",
    "load",
    "load_file",
    "load_many",
    "load_named",
    "load_suite",
    "parse_duration",
    "scenario_files",
    "suite_paths",
]


def load(path: str | Path) -> Scenario:
    """Read, validate and resolve one scenario file. Raises ScenarioError with every problem."""
    return load_file(Path(path))


def scenario_files(paths: Iterable[str | Path]) -> list[Path]:
    """The scenario files named by ``paths``: files as given, directories recursed, sorted."""
    found: list[Path] = []
    for entry in paths:
        path = Path(entry)
        if path.is_dir():
            found.extend(
                sorted(p for p in path.rglob("*") if p.suffix in {".yaml", ".yml"} and p.is_file())
            )
        else:
            found.append(path)
    return found


def load_many(paths: Iterable[str | Path]) -> list[Scenario]:
    """Load every scenario under ``paths``; raises one ScenarioError with all files' problems."""
    return load_suite(scenario_files(paths))


def load_file(path: Path) -> Scenario:
    """Load one scenario file; ScenarioError with every problem when it is wrong."""
    source = parse(path)
    if not isinstance(source.data, Mapping):
        raise ScenarioError([(source.locate(), "a scenario is a mapping (name:, topology:, ...)")])
    problems = validate(source, _profile_kinds(source))
    if problems:
        raise ScenarioError(problems)
    builder = _Builder(source)
    scenario = builder.scenario()
    if builder.problems:
        raise ScenarioError(sorted(builder.problems, key=_order))
    return scenario


def _profile_kinds(source: Source) -> tuple[str, ...]:
    """The kinds of the router profiles on this file's profile path (not registered kinds):
    valid for its schema check, and offered by its did-you-mean."""
    router = source.data.get("router")
    kind = router.get("kind") if isinstance(router, Mapping) else None
    if not isinstance(kind, str):
        return ()
    from harness.routers.profile import known_profiles
    from harness.schema import router_kinds

    if kind in router_kinds():
        return ()
    return tuple(name for name in known_profiles(source.file) if name not in router_kinds())


def load_suite(paths: list[Path]) -> list[Scenario]:
    """Load every file; one ScenarioError with all files' problems, and duplicate names."""
    scenarios: list[Scenario] = []
    problems: list[tuple[Location, str]] = []
    for path in paths:
        try:
            scenarios.append(load_file(path))
        except ScenarioError as exc:
            problems.extend(exc.problems)
    problems.extend(_duplicate_names(scenarios))
    if problems:
        raise ScenarioError(problems)
    return scenarios


def _duplicate_names(scenarios: list[Scenario]) -> list[tuple[Location, str]]:
    first: dict[str, Scenario] = {}
    problems = []
    for scenario in scenarios:
        if scenario.name in first:
            other = first[scenario.name].path
            problems.append(
                (Location(scenario.path, 1), f"name {scenario.name!r} is also used by {other}")
            )
        else:
            first[scenario.name] = scenario
    return problems


def _order(problem: tuple[Location, str]) -> tuple[int, int]:
    return (problem[0].line or 0, problem[0].column or 0)


class _Builder(TrafficReading, FaultReading, RouterReading):
    """Resolves validated data into the model, collecting every semantic problem on the way
    (each section by its reader of harness.reading; ``expect:`` by its kinds)."""

    def scenario(self) -> Scenario:
        data = self.data
        if "timeout" in data:
            self.timeout = self.deadline(("timeout",), data["timeout"]) or DEFAULT_TIMEOUT
        self.topology = _TopologyReader(self).read(data["topology"])
        self.router = self.router_spec(data["router"])
        faults = tuple(self.fault(i, item) for i, item in enumerate(data.get("faults") or ()))
        traffic = self.traffic_items(data.get("traffic") or ())
        self.traffic_ids = [item.id for item in traffic if item.id]
        expect = self.expectations(data["expect"], faults)
        self.fault_problems()
        return Scenario(
            name=data["name"],
            path=self.source.file,
            topology=self.topology,
            router=self.router,
            expect=expect,
            description=str(data.get("description", "")).strip(),
            tags=tuple(data.get("tags") or ()),
            faults=faults,
            traffic=traffic,
            timeout=self.timeout,
            data=data,
        )

    def expectations(self, data: Mapping[str, Any], faults: tuple[FaultSpec, ...]) -> Expectations:
        """``expect:``: each key read by its kind (harness.expectations)."""
        from harness.expectations import KINDS

        base: PathKey = ("expect",)
        self.faults = faults
        fields: dict[str, Any] = {}
        others: dict[str, Any] = {}
        names = Expectations.__dataclass_fields__
        for kind in KINDS.values():
            if kind.key in data:
                for key, value in kind.read(self, base + (kind.key,), data[kind.key]).items():
                    (fields if key in names else others)[key] = value
        expect = Expectations(**fields, others=others)
        observing = [kind.key for kind in KINDS.values() if kind.observes]
        if not any(kind.value(expect) for kind in KINDS.values() if kind.observes):
            self.problem(
                base,
                f"expect: say what must be observed ({', '.join(observing[:-1])} "
                f"or {observing[-1]})",
            )
        return expect


DEFAULT_SUITE = "scenarios"  # what a command runs when it is given no path


def suite_paths(paths: Sequence[str]) -> list[str]:
    """The paths given, or the default suite; InputError when one does not exist."""
    chosen = list(paths) or [DEFAULT_SUITE]
    missing = [path for path in chosen if not Path(path).exists()]
    if missing:
        raise InputError(f"no such file or directory: {', '.join(missing)}")
    return chosen


def load_named(paths: Sequence[str]) -> list[Scenario]:
    """Every scenario under the paths a command was given, or the default suite (InputError
    when a path does not exist or holds no scenario file; ScenarioError with all problems)."""
    chosen = suite_paths(paths)
    scenarios = load_many(chosen)
    if not scenarios:
        raise InputError(f"no scenario files (*.yaml, *.yml) under {', '.join(chosen)}")
    return scenarios
