"""pytest plugin: every scenario file is a test (``pytest scenarios/``).

Registered through the ``pytest11`` entry point ``faultlab = "harness.plugin"``. Following
pytest's documented non-Python test example, a ``ScenarioFile`` (a YAML file under a directory
named ``scenarios``, or a file named on the command line) yields one ``ScenarioItem``, whose
``runtest`` runs it with ``harness.runner.run``. A failure is shown as evidence, not a traceback:
each expectation next to what was observed, the faults applied, and a timeline. A bad scenario
file is a collection error showing ``file:line:column: message``. A missing capability skips the
scenario with its reason.

Options: ``--slow FACTOR``, ``--artifacts DIR``, ``--keep-artifacts``, ``--shard I/N``; ``-k``,
``-x``, markers (one per scenario tag), ``--junit-xml`` and pytest-xdist work as usual.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from harness.artifacts import EVENT_LOG_NAME, STDERR_NAME
from harness.errors import FaultlabError, InputError, MissingCapability, ScenarioError
from harness.report import describe, row_property
from harness.scenario import Scenario, slugify
from harness.shard import Shard, parse_shard
from netns.naming import new_run_id

SCENARIO_DIR_NAME = "scenarios"
SUFFIXES = (".yaml", ".yml")
_EVENT_LOG_TAIL = 20
_RUN_ID_KEY = "faultlab_run_id"


@dataclass(frozen=True)
class PluginOptions:
    """The faultlab options of one pytest run (one object, kept in the config's stash)."""

    slow: float
    artifacts: Path
    keep_artifacts: bool
    shard: Shard | None
    run_id: str
    strict: bool = False
    allowed_skips: tuple[str, ...] = ()  # features whose skips stay skips under strict


_OPTIONS = pytest.StashKey[PluginOptions]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("faultlab", "faultlab scenarios")
    group.addoption(
        "--slow",
        type=float,
        default=None,
        metavar="FACTOR",
        help="stretch every deadline of every scenario by FACTOR (slow CI runners)",
    )
    group.addoption(
        "--artifacts",
        default=None,
        metavar="DIR",
        help="artifacts root (default ./artifacts/<run-id>); one folder per scenario",
    )
    group.addoption(
        "--keep-artifacts",
        action="store_true",
        default=False,
        help="keep the artifacts of passed scenarios too (failed ones are always kept)",
    )
    group.addoption(
        "--shard",
        default=None,
        metavar="I/N",
        help="run only shard I of N (1-based): splits a suite across CI machines",
    )
    group.addoption(
        "--scenario-root",
        action="append",
        default=[],
        metavar="DIR",
        help="every YAML file under DIR is a scenario, whatever DIR is called (repeatable; "
        "`faultlab run` passes each path it is given)",
    )
    group.addoption(
        "--faultlab-strict",
        action="store_true",
        default=False,
        help="a skipped scenario fails (CI lanes that must cover everything; "
        "`faultlab run --strict`)",
    )
    group.addoption(
        "--faultlab-only",
        default=None,
        metavar="NAMES",
        help="only the scenarios of these names (comma list, or @FILE one a line; a "
        "RELEASE:NAME cell keeps NAME on that kernel only): `faultlab run --only`",
    )
    group.addoption(
        "--faultlab-allow-skip",
        action="append",
        default=[],
        metavar="FEATURE",
        help="under --faultlab-strict, a skip for only these missing features (the doctor's "
        "names, e.g. sysctl:net.core.optmem_max) stays a skip (`faultlab run --allow-skip`)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "scenario: a faultlab scenario file")
    config.stash[_OPTIONS] = _options(config)
    _prepare_environment(config)
    from harness.htmlreport.plugin import register  # report.html in the artifacts root

    register(config, config.stash[_OPTIONS].artifacts, config.stash[_OPTIONS].run_id)


def _prepare_environment(config: pytest.Config) -> None:
    """On the controller of a scenario run: rootless mode if needed, then the doctor's checks,
    probed once and shared with the workers (the runner skips scenarios by them)."""
    if getattr(config, "workerinput", None) is not None:
        return
    roots = config.getoption("--scenario-root")
    if not roots and not any(_is_scenario_arg(arg) for arg in config.args):
        return
    from harness import features, rootless

    if os.geteuid() != 0:
        rootless.ensure()
    features.share_checks()


def _is_scenario_arg(arg: str) -> bool:
    path = Path(arg.split("::")[0])
    return path.suffix in {".yaml", ".yml"} or "scenarios" in path.parts


def _options(config: pytest.Config) -> PluginOptions:
    slow = config.getoption("--slow") or float(os.environ.get("FAULTLAB_SLOW", "1") or 1)
    if slow <= 0:
        raise pytest.UsageError(f"--slow {slow}: the factor must be more than 0 (e.g. --slow 3)")
    shard_text = config.getoption("--shard")
    try:
        shard = parse_shard(shard_text) if shard_text else None
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    run_id = _run_id(config)
    root = config.getoption("--artifacts") or os.environ.get("FAULTLAB_ARTIFACTS")
    artifacts = Path(root) if root else Path.cwd() / "artifacts" / run_id
    keep = bool(config.getoption("--keep-artifacts"))
    strict = bool(config.getoption("--faultlab-strict"))
    allowed = tuple(config.getoption("--faultlab-allow-skip") or ())
    return PluginOptions(slow, artifacts, keep, shard, run_id, strict, allowed)


def _run_id(config: pytest.Config) -> str:
    """One id for the whole run: the controller's, handed to xdist workers (workerinput)."""
    workerinput = getattr(config, "workerinput", None)
    if workerinput and _RUN_ID_KEY in workerinput:
        return str(workerinput[_RUN_ID_KEY])
    return os.environ.get("FAULTLAB_RUN_ID") or new_run_id()


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node: Any) -> None:
    """xdist: every worker writes under the controller's run id (no collisions, one tree)."""
    node.workerinput[_RUN_ID_KEY] = node.config.stash[_OPTIONS].run_id


def plugin_options(config: pytest.Config) -> PluginOptions:
    return config.stash[_OPTIONS]


# --------------------------------------------------------------------------------------------
# Collection
# --------------------------------------------------------------------------------------------


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> ScenarioFile | None:
    if file_path.suffix in SUFFIXES and is_scenario_file(file_path, parent.config):
        return ScenarioFile.from_parent(parent, path=file_path)
    return None


def is_scenario_file(path: Path, config: pytest.Config) -> bool:
    """A YAML file under a directory named ``scenarios`` or under a ``--scenario-root``, or one
    named on the command line.

    Other YAML files (test data, CI config) are never collected by accident.
    """
    if SCENARIO_DIR_NAME in path.parent.parts:
        return True
    resolved = path.resolve()
    if any(root in resolved.parents for root in scenario_roots(config)):
        return True
    named = {
        Path(config.invocation_params.dir, arg.split("::")[0]).resolve() for arg in config.args
    }
    return resolved in named


def scenario_roots(config: pytest.Config) -> list[Path]:
    """The ``--scenario-root`` directories, resolved against the invocation directory."""
    base = config.invocation_params.dir
    return [Path(base, root).resolve() for root in config.getoption("--scenario-root")]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """--shard I/N: keep this shard's scenarios (deterministic, every scenario exactly once);
    --faultlab-only: keep the scenarios named."""
    shard = plugin_options(config).shard
    only = _only_names(config)
    if shard is None and only is None:
        return
    scenarios = [item for item in items if isinstance(item, ScenarioItem)]
    if only is not None:
        scenarios = [item for item in scenarios if item.scenario.name in only]
    if shard is not None:
        scenarios = shard.select(scenarios, key=lambda item: item.nodeid)
    keep = {id(item) for item in scenarios}
    scenarios = [item for item in items if isinstance(item, ScenarioItem)]
    deselected = {id(item) for item in scenarios} - keep
    if deselected:
        config.hook.pytest_deselected(items=[item for item in items if id(item) in deselected])
        items[:] = [item for item in items if id(item) not in deselected]


def _only_names(config: pytest.Config) -> set[str] | None:
    """The scenario names ``--faultlab-only`` keeps on this kernel (harness.shard.only_cells;
    a ``RELEASE:NAME`` cell counts where RELEASE is the running kernel's)."""
    from harness.shard import only_cells

    try:
        cells = only_cells(config.getoption("--faultlab-only"))
    except InputError as exc:
        raise pytest.UsageError(str(exc)) from None
    if cells is None:
        return None
    release = os.uname().release
    names = set()
    for item in cells:
        kernel, colon, name = item.partition(":")
        if not colon:
            names.add(item)
        elif kernel == release:
            names.add(name)
    return names


class ScenarioFile(pytest.File):
    """One scenario file; a bad one is a collection error as ``file:line:column: message``."""

    def collect(self) -> Iterator[ScenarioItem]:
        from harness.scenario_loader import load  # YAML and the schema: only when there are files

        scenario = load(self.path)
        yield ScenarioItem.from_parent(self, name=slugify(scenario.name), scenario=scenario)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, InputError):
            return str(excinfo.value)
        return super().repr_failure(excinfo)


class ScenarioFailed(Exception):
    """A scenario ran and its expectations were not met; carries the verdict."""

    def __init__(self, verdict: Any) -> None:
        self.verdict = verdict
        super().__init__(verdict.explain())


class ScenarioItem(pytest.Item):
    """One scenario, run as a test."""

    def __init__(self, *, scenario: Scenario, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.scenario = scenario
        self.verdict: Any = None
        self.add_marker("scenario")
        for tag in scenario.tags:
            self.config.addinivalue_line("markers", f"{tag}: scenario family (a tag)")
            self.add_marker(tag)
        row = replace(describe(scenario), artifacts=str(self.artifacts))
        self.user_properties.append(row_property(row))

    @property
    def artifacts_parent(self) -> Path:
        """Where this scenario's folder goes: the run's root, plus its sub-folder in the suite.

        ``scenarios/bind/mrt-held.yaml`` -> ``<root>/bind/`` (the runner adds ``mrt-held``), so
        scenarios with the same file name in different folders never share a folder.
        """
        root = plugin_options(self.config).artifacts
        folder = self.path.resolve().parent
        parts = folder.parts
        below: tuple[str, ...] = ()
        if SCENARIO_DIR_NAME in parts:
            below = parts[len(parts) - parts[::-1].index(SCENARIO_DIR_NAME) :]
        else:
            roots = [r for r in scenario_roots(self.config) if r == folder or r in folder.parents]
            if roots:
                below = folder.relative_to(max(roots, key=lambda r: len(r.parts))).parts
        return root.joinpath(*(slugify(part) for part in below))

    @property
    def artifacts(self) -> Path:
        """This scenario's own folder (event log, router output, pcaps, verdict.json)."""
        return self.artifacts_parent / self.scenario.slug

    def runtest(self) -> None:
        from harness import runner

        options = plugin_options(self.config)
        run_options = runner.RunOptions(
            artifacts_dir=self.artifacts_parent, slow=options.slow, keep=options.keep_artifacts
        )
        try:
            self.verdict = runner.run(self.scenario, run_options)
        except MissingCapability as exc:
            self._skip(str(exc), exc.features)
        self._add_sections()
        if self.verdict.skipped:
            self._skip(str(self.verdict.skipped_reason), self.verdict.skipped_features)
        if not self.verdict.passed:
            raise ScenarioFailed(self.verdict)

    def _skip(self, reason: str, features: tuple[str, ...] = ()) -> None:
        """Skip with the reason; under ``--faultlab-strict`` the skip is a failure instead,
        unless every missing feature behind it is one ``--faultlab-allow-skip`` names."""
        options = plugin_options(self.config)
        allowed = bool(features) and set(features) <= set(options.allowed_skips)
        if options.strict and not allowed:
            pytest.fail(f"{self.scenario.path}: skipped under --strict: {reason}", pytrace=False)
        pytest.skip(f"{self.scenario.path}: {reason}")

    def _add_sections(self) -> None:
        """Router stderr and the last lines of the event log, as pytest report sections."""
        for name, label, tail in (
            (STDERR_NAME, "router stderr", None),
            (EVENT_LOG_NAME, "event log (last lines)", _EVENT_LOG_TAIL),
        ):
            path = self.artifacts / name
            if path.is_file():
                lines = path.read_text(errors="replace").splitlines()
                if lines:
                    self.add_report_section(
                        "call", label, "\n".join(lines[-tail:] if tail else lines)
                    )

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        if isinstance(excinfo.value, ScenarioFailed):
            return excinfo.value.verdict.explain()
        if isinstance(excinfo.value, FaultlabError) and not isinstance(
            excinfo.value, ScenarioError
        ):
            return f"{self.scenario.path}: {type(excinfo.value).__name__}: {excinfo.value}"
        return super().repr_failure(excinfo)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, 0, f"scenario: {self.scenario.name}"
