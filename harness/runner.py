"""Runs one scenario end to end and judges it: the orchestration, nothing else.

    verdict = run(scenario, RunOptions(artifacts_dir=Path("artifacts")))

Order of a run: write the resolved scenario; build the lab; prepare every fault (and apply the
``before-start`` ones); start captures and the event stream; start the router through its adapter;
wait until it is ready; apply the scheduled faults (a scheduler thread woken by the clock and by
events, no polling); judge the expectations as events and packets arrive; clear the faults and
judge recovery; stop the router; tear everything down (every step runs, errors are raised
together); write ``verdict.json``. Each scenario gets its own artifacts folder:
``<artifacts_dir>/<scenario slug>/`` holding ``scenario.json``, ``events.jsonl`` (igmpd) or the
router's log, ``router.stdout``, ``router.stderr``, ``<node>-<ifname>.pcap`` and ``verdict.json``.

``session()`` stops after "router started and faults applied" and hands the live lab over (the
``faultlab shell`` command uses it); ``run()`` is a session plus judging (harness/judging.py:
the scheduled faults and traffic, the marks, the expectations in their phases).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.artifacts import PCAP_SUFFIX, SCENARIO_NAME, VERDICT_NAME
from harness.capture import Capture, preload_scapy
from harness.errors import (
    FaultlabError,
    MissingCapability,
    RouterError,
    lab_boundary,
)
from harness.event import LogLine, Mark
from harness.events import EventStream
from harness.expect import Observed, latency
from harness.judging import judge, schedule
from harness.routers import STDERR_NAME, STDOUT_NAME, RouterAdapter, adapter_for
from harness.routers.base import RouterState
from harness.routers.unmapped import unmapped_error_lines
from harness.scenario import FaultSpec, Scenario, TrafficSpec
from harness.schedule import Action, Scheduler
from harness.timing import SLOW_ENV, slow_factor  # noqa: F401 - runner.slow_factor is used
from harness.traffic import Traffic
from harness.verdict import ExpectationResult, TimelineEntry, TimelineKind, Verdict
from netns.undo import UndoStack

if TYPE_CHECKING:  # the fault engine is imported when a scenario is run, not with the runner
    from harness.faults import Fault, FaultContext, Launch

STOP_TIMEOUT = 2.0  # seconds between the router's stop signal and SIGKILL
#: The runner's teardown stack: its label, the note on each failure, the group's message.
TEARDOWN_WORDS = ("scenario", "while tearing down", "teardown failed")


@dataclass(frozen=True)
class RunOptions:
    """How to run: where artifacts go, how much to stretch deadlines, what to keep.

    ``artifacts_dir`` is the parent folder; each scenario writes into ``artifacts_dir/<slug>``.
    ``capture`` adds a capture on the peer side of every router link (packet expectations get
    their captures regardless). ``keep=False`` removes the folder of a scenario that passed.
    """

    artifacts_dir: Path = Path("artifacts")
    slow: float = field(default_factory=lambda: slow_factor())
    capture: bool = True
    keep: bool = True

    def folder(self, scenario: Scenario) -> Path:
        return Path(self.artifacts_dir) / scenario.slug


# -- a live session ------------------------------------------------------------------------


@dataclass
class PlannedFault:
    """A fault of the scenario with its spec and its scheduled apply and clear actions."""

    spec: FaultSpec
    fault: Fault
    apply: Action | None = None
    clear: Action | None = None
    applied_before_start: Mark | None = None


@dataclass
class Session:
    """A scenario's live lab: router running, faults applied or scheduled, streams recording."""

    scenario: Scenario
    options: RunOptions
    folder: Path
    adapter: RouterAdapter
    stack: UndoStack = field(default_factory=lambda: UndoStack(*TEARDOWN_WORDS))
    lab: Any = None
    stream: EventStream | None = None
    captures: dict[str, Capture] = field(default_factory=dict)
    faults: list[PlannedFault] = field(default_factory=list)
    traffic: Traffic | None = None
    traffic_actions: list[tuple[TrafficSpec, Action]] = field(default_factory=list)
    process: Any = None
    started_at: float | None = None
    scheduler: Scheduler | None = None
    entries: list[TimelineEntry] = field(default_factory=list)
    problems: list[ExpectationResult] = field(default_factory=list)
    artifacts: dict[str, str] = field(default_factory=dict)
    exit_recorded: bool = False  # the timeline has the router's exit (it is said once)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def router_node(self) -> Any:
        return self.lab.node(self.scenario.router.node)

    def record(self, at: float, kind: TimelineKind, text: str) -> None:
        with self._lock:
            self.entries.append(TimelineEntry(at, kind, text))

    def fault_context(self) -> FaultContext:
        from harness.faults import FaultContext

        return FaultContext(
            node=self.router_node,
            pid=None if self.process is None else self.process.pid,
            interfaces=self.scenario.router.interface_names,
            lab=self.lab,
            workdir=self.folder,
        )

    def context_for(self, spec: FaultSpec) -> FaultContext:
        ctx = self.fault_context()
        if spec.node and spec.node != self.scenario.router.node:
            ctx.node = self.lab.node(spec.node)
        return ctx

    def observed(self) -> Observed:
        assert self.stream is not None
        return Observed(
            stream=self.stream,
            captures=self.captures,
            slow=self.options.slow,
            process=self.process,
            read_state=self.read_state,
            stderr_path=self.folder / STDERR_NAME,
        )

    def read_state(self, deadline: float) -> RouterState | None:
        """Ask the router for a fresh state report and read it (None if it cannot answer)."""
        assert self.stream is not None
        if self.process is None or self.process.poll() is not None:
            return self.adapter.state(self.router_node, self.folder)
        before: dict[Path, int] = {}
        path = None
        try:
            path = self.adapter.state_request(self.process.pid, self.folder)
            if path is not None:
                before[path] = self.stream.changes(path)
        except ProcessLookupError:
            return self.adapter.state(self.router_node, self.folder)
        if path is not None:
            self.stream.wait_until(lambda: self.stream.changes(path) > before[path], deadline)
        return self.adapter.state(self.router_node, self.folder)


def _prepare_folder(folder: Path) -> None:
    """A clean folder for this run; an old one is replaced only if it holds faultlab's marker."""
    if folder.exists():
        if not (folder / SCENARIO_NAME).exists() and any(folder.iterdir()):
            raise FaultlabError(
                f"artifacts folder {folder} exists and is not faultlab's (no {SCENARIO_NAME}); "
                "choose another --artifacts folder"
            )
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _missing(
    scenario: Scenario, adapter: RouterAdapter, faults: list[PlannedFault]
) -> tuple[list[str], tuple[str, ...]]:
    """Skip reasons: the host's checks (harness.features) for what this scenario needs, then
    each part's own; and the features that are missing (empty when any reason is not one of
    them, so that ``--allow-skip`` never forgives a reason it does not name)."""
    from harness import features, requirements

    needed = requirements.features(scenario, adapter, [planned.fault for planned in faults])
    short = features.unmet(needed)
    reasons = [reason] if (reason := features.describe(short)) else []
    own = list(adapter.requires(scenario.router))
    for planned in faults:
        own += planned.fault.requires()
    return reasons + own, () if own else tuple(name for name, _check in short)


def _make_faults(scenario: Scenario) -> list[PlannedFault]:
    from harness.faults import instantiate

    return [PlannedFault(spec, instantiate(spec)) for spec in scenario.faults]


def _capture_endpoints(scenario: Scenario, options: RunOptions) -> list[str]:
    """``node:ifname`` endpoints to capture: those packet expectations name, plus peers."""
    wanted: list[str] = [p.on for p in scenario.expect.packets]
    if scenario.expect.recovery is not None:
        wanted += [p.on for p in scenario.expect.recovery.packets]
    if options.capture:
        topology = scenario.topology.build()
        router = scenario.router
        for link in topology.links:
            for near, far in ((link.a, link.b), (link.b, link.a)):
                if near.node == router.node and near.ifname in router.interface_names:
                    wanted.append(f"{far.node}:{far.ifname}")
    return list(dict.fromkeys(wanted))


@contextlib.contextmanager
def session(scenario: Scenario, options: RunOptions) -> Iterator[Session]:
    """Build the lab, start the router, apply (or schedule) the faults; tear down on exit.

    Raises MissingCapability (before building anything) when this host lacks what the router
    or a fault needs; RouterError when the router does not become ready in time.
    """
    folder = options.folder(scenario)
    _prepare_folder(folder)
    (folder / SCENARIO_NAME).write_text(json.dumps(scenario.resolved(), indent=1, default=str))
    adapter = adapter_for(scenario.router)
    live = Session(scenario, options, folder, adapter)
    live.artifacts["scenario"] = SCENARIO_NAME
    live.faults = _make_faults(scenario)
    try:
        reasons, features = _missing(scenario, adapter, live.faults)
        if reasons:
            raise MissingCapability("; ".join(reasons), features)
        _build(live)
        yield live
    finally:
        _teardown(live.stack)


def _teardown(stack: UndoStack) -> None:
    """Every step runs, whatever fails (netns's undo stack); the failures are raised together.

    A Ctrl-C (or the lab's SIGTERM, a KeyboardInterrupt too) in one step is raised again after
    every step ran, as the same kind of interrupt with the group as its cause: callers that stop
    on an interrupt (the CLI exits 130) still see one.
    """
    try:
        stack.unwind()
    except BaseExceptionGroup as group:
        interrupted, _ = group.split(KeyboardInterrupt)
        if interrupted is None:
            raise
        first = _first_leaf(interrupted)
        raise type(first)(*first.args) from group


def _first_leaf(group: BaseExceptionGroup[Any]) -> BaseException:
    inner = group.exceptions[0]
    return _first_leaf(inner) if isinstance(inner, BaseExceptionGroup) else inner


def _build(live: Session) -> None:
    """Every step of bringing the scenario up, each undone by the teardown stack."""
    from netns import Lab

    scenario, stack = live.scenario, live.stack
    for planned in live.faults:
        stack.push(f"close fault {planned.spec.kind}", planned.fault.close)
    lab = Lab(scenario.topology.build(), workdir=live.folder)
    with lab_boundary():
        lab.__enter__()
    live.lab = lab
    stack.push("tear down the lab", lambda: lab.__exit__(None, None, None))
    stream = EventStream(live.adapter.events(live.folder), watch_dirs=(live.folder,))
    live.stream = stream.start()
    stack.push("stop following events", stream.stop)
    _start_captures(live)
    live.traffic = Traffic(lab)
    stack.push("drop host memberships", live.traffic.close)
    live.traffic.prepare(scenario.traffic)
    launch = _launch(live)
    _apply_before_start(live)
    _start_router(live, launch)
    _wait_ready(live)
    schedule(live)


def _start_captures(live: Session) -> None:
    assert live.stream is not None
    if _judges_packets(live.scenario):
        # scapy's first import takes 0.5 s or more and holds the GIL: paid here, before the
        # router starts, it cannot delay the capture threads' time stamps inside a deadline.
        preload_scapy()
    for on in _capture_endpoints(live.scenario, live.options):
        node_name, _, ifname = on.partition(":")
        capture = Capture(live.lab.node(node_name), ifname, on=on, condition=live.stream.condition)
        capture.start()
        live.captures[on] = capture
        live.stack.push(f"stop capture {on}", lambda c=capture: _stop_capture(live, c))


def _judges_packets(scenario: Scenario) -> bool:
    recovery = scenario.expect.recovery
    return bool(scenario.expect.packets or (recovery is not None and recovery.packets))


def _stop_capture(live: Session, capture: Capture) -> None:
    capture.stop()
    name = f"{capture.on.replace(':', '-')}{PCAP_SUFFIX}"
    capture.write_pcap(live.folder / name)
    live.artifacts[f"pcap {capture.on}"] = name


def _launch(live: Session) -> Launch:
    from harness.faults import Launch

    spec = live.scenario.router
    launch = Launch(
        argv=live.adapter.command(spec, live.folder),
        env=live.adapter.environment(spec, live.folder),
    )
    for planned in live.faults:
        planned.fault.prepare(launch)
    return launch


def _apply_before_start(live: Session) -> None:
    assert live.stream is not None
    for planned in live.faults:
        if planned.spec.when.kind == "before-start":
            mark = live.stream.mark(f"fault {planned.spec.kind} applied")
            planned.fault.apply(live.context_for(planned.spec))
            planned.applied_before_start = mark
            live.record(mark.time, "fault", f"applied {planned.spec.describe()}")


def _start_router(live: Session, launch: Launch) -> None:
    assert live.stream is not None
    node = live.router_node
    with (
        open(live.folder / STDOUT_NAME, "wb") as stdout,
        open(live.folder / STDERR_NAME, "wb") as stderr,
    ):
        live.started_at = live.stream.clock()
        live.process = node.popen(
            launch.argv,
            stdout=stdout,
            stderr=stderr,
            env=launch.env,
            preexec=launch.preexec_fn(),
            pass_fds=tuple(launch.pass_fds),
        )
    live.artifacts.update(stdout=STDOUT_NAME, stderr=STDERR_NAME)
    live.stream.watch_process(live.process.pid)
    label = live.scenario.router.label
    live.record(live.started_at, "router", f"started {label} pid {live.process.pid}")
    for planned in live.faults:
        if planned.spec.when.kind != "before-start" and planned.fault.in_force_at_launch():
            live.record(
                live.started_at,
                "fault",
                f"{planned.spec.kind} in force from the router's start (armed: launch), "
                f"not {planned.spec.when.describe()}",
            )
    live.stack.push("stop the router", lambda: _stop_router(live))


def _stop_router(live: Session) -> None:
    """Stop signal, a bounded wait (woken by the pidfd), SIGKILL, reap."""
    assert live.stream is not None
    process = live.process
    if process.poll() is None:
        process.send_signal(live.adapter.stop_signal)
        exited = live.stream.wait_exit(process.pid, live.stream.clock() + STOP_TIMEOUT)
        if not exited:
            process.send_signal(signal.SIGKILL)
            live.record(
                live.stream.clock(), "router", f"pid {process.pid} ignored the stop signal: SIGKILL"
            )
    code = process.wait(timeout=STOP_TIMEOUT)
    _record_exit(live, code)


def _record_exit(live: Session, code: int) -> None:
    """The router's exit in the timeline, once, at the moment it was seen."""
    assert live.stream is not None
    if live.exit_recorded:
        return
    live.exit_recorded = True
    seen = (
        live.stream.exits[live.process.pid].seen if live.process.pid in live.stream.exits else None
    )
    live.record(seen or live.stream.clock(), "router", _exit_text(live.adapter, code))


def _exit_text(adapter: RouterAdapter, code: int | None) -> str:
    """ "exited with status 1 (IP_MULTICAST_IF failed)": the meaning from the router's profile."""
    meaning = adapter.exit_meaning(code)
    return f"exited with status {code}" + (f" ({meaning})" if meaning else "")


def _wait_ready(live: Session) -> None:
    """Until the adapter says the router is ready, or it exited; RouterError at the deadline."""
    assert live.stream is not None and live.started_at is not None
    stream, spec, process = live.stream, live.scenario.router, live.process
    deadline = live.started_at + live.adapter.start_timeout * live.options.slow

    def ready() -> bool:
        return (
            live.adapter.is_ready(stream.events, spec) or stream.exits[process.pid].seen is not None
        )

    if not stream.wait_until(ready, deadline):
        lines = "\n  ".join(stream.last_lines()[-5:]) or "(no log line)"
        raise RouterError(
            f"{live.scenario.router.label} did not become ready within "
            f"{live.adapter.start_timeout * live.options.slow:g}s; last lines:\n  {lines}",
            faults=[planned.fault for planned in live.faults],
        )
    code = process.poll()
    if code is None:
        live.record(stream.clock(), "router", "ready")
    else:
        _record_exit(live, code)


# -- the verdict ------------------------------------------------------------------------------


def run(scenario: Scenario, options: RunOptions | None = None) -> Verdict:
    """Run one scenario and judge it; always returns a Verdict (and writes verdict.json)."""
    options = options or RunOptions()
    begun = time.monotonic()
    verdict = Verdict(scenario=scenario.name, path=str(scenario.path), passed=False)
    verdict.faults = [spec.describe() for spec in scenario.faults]
    live: Session | None = None
    try:
        with session(scenario, options) as live:
            results, mark = judge(live)
            verdict.results = results
            verdict.fault_applied_at = mark.time
            verdict.fault_latency = latency(scenario.expect, live.observed(), mark)
            verdict.passed = all(result.passed for result in results)
    except MissingCapability as exc:
        verdict.skipped_reason = str(exc)
        verdict.skipped_features = exc.features
    except (FaultlabError, OSError) as exc:
        verdict.error = f"{type(exc).__name__}: {exc}"
        verdict.passed = False
    except ExceptionGroup as group:
        verdict.error = _describe_group(group)
        verdict.passed = False
    verdict.duration = time.monotonic() - begun
    if live is not None:
        _fill(verdict, live)
    _write(verdict, options, scenario)
    return verdict


def _describe_group(group: BaseExceptionGroup[Any]) -> str:
    parts = []
    for exc in group.exceptions:
        notes = "; ".join(getattr(exc, "__notes__", []))
        parts.append(f"{type(exc).__name__}: {exc}" + (f" ({notes})" if notes else ""))
    return f"{group.message}: " + " | ".join(parts)


def _fill(verdict: Verdict, live: Session) -> None:
    """Timeline (events, packets, faults, traffic) and artifacts from the finished session."""
    verdict.started_at = live.started_at
    verdict.run_id = getattr(live.lab, "run_id", None)
    verdict.entries = list(live.entries)
    if live.stream is not None:
        verdict.entries += [TimelineEntry(e.seen, "event", e.brief()) for e in live.stream.events]
        unmapped = _unmapped(live)
        verdict.unmapped = [line.text.strip() for line in unmapped]
        verdict.entries += [TimelineEntry(x.seen, "unmapped", x.text.strip()) for x in unmapped]
    if not verdict.passed or live.scenario.expect.packets:
        for capture in live.captures.values():
            verdict.entries += [
                TimelineEntry(
                    p.seen, "packet", f"{p.on} {'sent ' if p.outgoing else ''}{p.brief()}"
                )
                for p in capture.packets()
            ]
    if live.process is not None:
        verdict.router_exit = live.process.poll()
    paths = [name for name in live.adapter.events(live.folder).paths if name.exists()]
    written = [name for name in paths if name.stat().st_size] or paths  # not an empty stdout
    if written:
        verdict.artifacts.setdefault("events", written[0].name)
    verdict.artifacts.update(live.artifacts)


def _unmapped(live: Session) -> list[LogLine]:
    """The router's error-looking log lines that no pattern mapped (its ``ignore`` left out)."""
    assert live.stream is not None
    ignore = getattr(live.adapter, "ignore", None)
    lines = [line for line in live.stream.log_lines() if not line.mapped]
    chosen = set(unmapped_error_lines((line.text for line in lines), lambda _: False, ignore))
    return [line for line in lines if line.text.strip() in chosen]


def _write(verdict: Verdict, options: RunOptions, scenario: Scenario) -> None:
    folder = options.folder(scenario)
    if not folder.exists():
        return
    if verdict.passed and not options.keep:
        shutil.rmtree(folder)
        return
    verdict.artifacts["verdict"] = VERDICT_NAME
    verdict.write(folder / VERDICT_NAME)
