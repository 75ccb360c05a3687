"""Run and judge: each planned fault as its own scenario, through the ordinary runner.

One run: the base scenario with its faults replaced by the planned ``explore-fault``; the
runner builds the lab, starts the router with the rule armed, and hands the live session over.
The judge then waits, woken by every event, packet and exit (no sleeps):

1. until the fault fired (the rule's first failure) or the call never came;
2. for the router's reaction: an error event after the hit, its exit, or a short grace;
3. health: the site's interface (and each other interface: collateral) is active in the
   router's state, sends a general query within two query intervals, and learns a fresh join
   of its host; a window only as long as the router's own timers demand;
4. the fault is cleared (the rule switched off) and, when something broke, recovery is judged
   the same way within the retry interval plus two query intervals.

Faults run in ``workers`` processes (spawned: the runner's threads are never forked), each
result is written at once to ``results/<fault id>.json``; a second exploration with the same
scenario reuses every finished result (resumable).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import multiprocessing
import socket
import struct
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness import caches
from harness.errors import FaultlabError, MissingCapability
from harness.event import Event
from harness.explore.baseline import Baseline, Peers, log_lines, unmapped_of
from harness.explore.classify import Observation, classify, is_error
from harness.explore.plan import PlannedFault
from harness.explore.sites import CallSite
from harness.explore.timers import Timing
from harness.faults.explore import explore_hits
from harness.scenario import FaultSpec, Scenario

# Part of every result's fingerprint: a new judge re-runs everything (2: the routers' timers,
# 3: joins judged only where the router learns them, 4: never ready without a hit is an error,
# 5: judged against the healthy run's baseline, unjudged, never-ready logs, unmapped lines).
VERSION = "5"
REACTION = 0.3  # seconds the router gets to log its reaction once the call failed
JOIN_WINDOW = 1.0  # a host's unsolicited reports come at once; this bounds the wait
HIT_STARTUP = 3.0  # a start-up call comes before the router is ready (or never)


# -- one fault --------------------------------------------------------------------------------


def fault_scenario(base: Scenario, fault: PlannedFault) -> Scenario:
    """The base scenario with only this fault (armed at launch, cleared by the judge)."""
    spec = FaultSpec("explore-fault", base.router.node, params=fault.fault_spec())
    return dataclasses.replace(
        base,
        faults=(spec,),
        path=Path(f"{fault.id}.yaml"),
        name=f"{base.name} [{fault.site.key} {fault.errno}]",
    )


def event_record(event: Any) -> dict[str, Any]:
    """What an Observation keeps of one event (an ``Event``)."""
    return {
        "id": event.id,
        "symbol": event.symbol,
        "level": event.level,
        "interface": event.interface,
        "errno": event.errno,
        "call": event.call,
        "line": (event.raw or event.message).strip()[:300],
    }


class Judge:
    """Watches one live session (module docstring, steps 1-4), against the healthy run's
    ``baseline`` when there is one: queries are judged only where the router queried then.
    Each check made (``judged``) and each one that could not be (``skipped``, with the reason)
    is kept per interface: a cell where nothing could be judged is ``unjudged``, never
    ``tolerated``."""

    def __init__(
        self, live: Any, fault: PlannedFault, timing: Timing, baseline: Baseline | None = None
    ) -> None:
        self.live = live
        self.fault = fault
        self.timing = timing
        self.peers = Peers.of(live.scenario)
        self.stream = live.stream
        self.explore = live.faults[0].fault
        self.joins: list[socket.socket] = []
        self.group = 0
        queries_on = getattr(live.adapter, "queries_on", None)
        spec = live.scenario.router
        self.queriers = tuple(queries_on(spec) if queries_on else spec.interface_names)
        self.baseline = baseline
        if baseline is not None and baseline.interfaces:
            seen = set(baseline.queried())
            self.queriers = tuple(name for name in self.queriers if name in seen)
        self.judged: dict[str, list[str]] = {}
        self.skipped: dict[str, list[str]] = {}

    def _judged(self, interface: str, what: str) -> None:
        found = self.judged.setdefault(interface, [])
        if what not in found:
            found.append(what)

    def _skip(self, interface: str, why: str) -> None:
        found = self.skipped.setdefault(interface, [])
        if why not in found:
            found.append(why)

    def exited(self) -> bool:
        return self.live.process.poll() is not None

    def wake(self) -> None:
        with self.stream.condition:
            self.stream.condition.notify_all()

    def wait_hit(self) -> float | None:
        """When the fault first fired (monotonic), or None if the call never came."""
        for rule in self.explore.rules:
            rule.on_hit = self.wake
        site = self.fault.site
        slow = self.live.options.slow
        span = HIT_STARTUP * slow if site.phase == "start-up" else self.timing.steady + slow
        deadline = self.live.started_at + span
        self.stream.wait_until(lambda: bool(self.explore.hits) or self.exited(), deadline)
        hits = self.explore.hits
        return hits[0][0] if hits else None

    def error_events(self, since: float) -> list[dict[str, Any]]:
        found = []
        for event in self.stream.events:
            record = event_record(event)
            if event.seen >= since and is_error(record):
                found.append(record)
        return found

    def wait_reaction(self, hit: float) -> None:
        deadline = hit + REACTION * self.live.options.slow
        self.stream.wait_until(lambda: self.exited() or bool(self.error_events(hit)), deadline)

    def health(
        self, interface: str, since: float, deadline: float, recovering: bool = False
    ) -> list[str]:
        """What is wrong with ``interface`` (empty: healthy): its state, a general query since
        ``since``, a fresh join learned. Under the fault the state is asked first (an inactive
        interface is known at once); while recovering, the query is awaited first (the router
        comes back on its own retry timer) and the state after it."""
        if self.exited():
            return ["the router exited"]
        if not recovering and (problem := self.inactive(interface)):
            return [problem]
        if not self.query_seen(interface, since, deadline):
            return [f"no general query on {interface}"]
        if recovering and (problem := self.inactive(interface)):
            return [problem]
        if not self.join_learned(interface):
            return [f"a join on {interface} was not learned"]
        return []

    def inactive(self, interface: str) -> str | None:
        state = self.live.read_state(self.stream.clock() + 1.0)
        if state is None or interface not in state.interfaces:
            self._skip(interface, "no state report")
            return None
        self._judged(interface, "state")
        if not state.interfaces[interface].active:
            return f"{interface} inactive"
        return None

    def query_seen(self, interface: str, since: float, deadline: float) -> bool:
        """A general query (or a non-querier's mrdisc advert) from the router on ``interface``;
        not judged where the router does not query regularly (its adapter says)."""
        peer = self.peers.peer.get(interface)
        capture = self.live.captures.get(f"{peer[0]}:{peer[1]}") if peer else None
        if capture is None:
            self._skip(interface, "no host captures on it")
            return True
        if self.timing.query is None:
            self._skip(interface, "no query period (the adapter names none, none was measured)")
            return True
        if interface not in self.queriers:
            self._skip(interface, "no general query there in the healthy run")
            return True
        self._judged(interface, "queries")
        mine = self.peers.address.get(interface, set())

        def seen(packets: Sequence[Any]) -> bool:
            return any(p.is_router_presence and p.src in mine and not p.outgoing for p in packets)

        return seen(capture.wait_for_packets(seen, since, deadline))

    def join_learned(self, interface: str) -> bool:
        """A fresh group joined by the host on that link shows up in the router's state; judged
        only where the router learns joins (a querier, on an interface it queries: not on
        igmpproxy's upstream, not for smcroute, which ignores joins)."""
        peer = self.peers.peer.get(interface)
        if peer is None or not self.live.adapter.querier or interface not in self.queriers:
            self._skip(interface, "joins are not learned there")
            return True
        self.group += 1
        group = f"239.77.{self.group // 250}.{self.group % 250 + 1}"
        node = self.live.lab.node(peer[0])
        sock = node.socket(socket.AF_INET, socket.SOCK_DGRAM, 0)
        self.joins.append(sock)
        mreq = struct.pack("4s4si", socket.inet_aton(group), bytes(4), node.ifindex(peer[1]))
        sock.setsockopt(socket.IPPROTO_IP, socket.IP_ADD_MEMBERSHIP, mreq)
        deadline = self.stream.clock() + JOIN_WINDOW * self.live.options.slow
        if self.live.read_state(deadline) is None:
            self._skip(interface, "no state report")
            return True  # a router without a state report: joins are not judged
        self._judged(interface, "joins")
        while self.stream.clock() < deadline and not self.exited():
            state = self.live.read_state(deadline)
            if state is None:
                return True
            item = state.interfaces.get(interface)
            if item is not None and group in item.groups:
                return True
            self.stream.wait_until(self.exited, min(deadline, self.stream.clock() + 0.05))
        return False

    def close(self) -> None:
        for sock in self.joins:
            sock.close()


def judge(
    live: Any,
    fault: PlannedFault,
    obs: Observation,
    timing: Timing,
    baseline: Baseline | None = None,
) -> None:
    """Steps 1-4 of the module docstring, filling ``obs``."""
    judge = Judge(live, fault, timing, baseline)
    try:
        _judge(judge, fault, obs)
    finally:
        judge.close()


def _judge(judge: Judge, fault: PlannedFault, obs: Observation) -> None:
    live, stream = judge.live, judge.stream
    hit = judge.wait_hit()
    obs.hits = len(judge.explore.hits)
    if hit is None:
        _clear(live)
        return
    obs.hit, obs.hit_ms = True, round((hit - live.started_at) * 1000, 1)
    judge.wait_reaction(hit)
    since = stream.clock()
    target = fault.site.interface if fault.site.by_interface else None
    names = live.scenario.router.interface_names
    deadline = since + judge.timing.query_window
    for name in names:
        problems = judge.health(name, since, deadline)
        if target is None or name == target:
            obs.broken += problems
        elif problems:
            obs.collateral.append(name)
    targets = [target] if target is not None else list(names)
    obs.judged = [f"{n}: {what}" for n in targets for what in judge.judged.get(n, ())]
    if not obs.judged:
        why = dict.fromkeys(f"{n}: {w}" for n in targets for w in judge.skipped.get(n, ()))
        obs.unjudged = "; ".join(why) or "no check applies"
    obs.events = judge.error_events(hit)
    obs.exit_status = live.process.poll()
    cleared = _clear(live)
    obs.failed_positions = list(judge.explore.failed_calls())
    obs.hit_times_ms = [
        round((at - live.started_at) * 1000, 1) for at, _iface, _n in judge.explore.hits
    ]
    if obs.exit_status is not None:
        obs.recovered, obs.recovery = False, "the router exited"
        return
    if not obs.broken and not obs.collateral:
        if obs.judged:
            obs.recovered, obs.recovery = True, "nothing broke"
        else:
            obs.recovery = "not judged: nothing could be"
        return
    _judge_recovery(judge, obs, cleared)


def _judge_recovery(judge: Judge, obs: Observation, cleared: float) -> None:
    deadline = cleared + judge.timing.recovery_window
    problems: list[str] = []
    for name in judge.live.scenario.router.interface_names:
        problems += judge.health(name, cleared, deadline, recovering=True)
    obs.recovered = not problems
    obs.recovery = "; ".join(problems) or "healthy again after the clear"
    obs.exit_status = judge.live.process.poll()
    obs.events = judge.error_events(obs_hit_time(judge))


def obs_hit_time(judge: Judge) -> float:
    hits = judge.explore.hits
    return hits[0][0] if hits else judge.live.started_at


def _clear(live: Any) -> float:
    at = live.stream.clock()
    for planned in live.faults:
        planned.fault.clear(live.context_for(planned.spec))
    return at


def observe(
    base: Scenario,
    fault: PlannedFault,
    runs: Path,
    slow: float = 1.0,
    baseline: Baseline | None = None,
) -> Observation:
    """Run one planned fault and classify the router's reaction, against the healthy run's
    ``baseline`` (harness.explore.baseline) when given."""
    from harness import runner
    from harness.errors import RouterError

    scenario = fault_scenario(base, fault)
    site = fault.site
    obs = Observation(
        fault.id,
        site.key,
        fault.errno,
        site.interface if site.by_interface else None,
        base.router.label,
    )
    options = runner.RunOptions(artifacts_dir=runs, slow=slow, capture=True, keep=True)
    begun = time.monotonic()
    timing = Timing.of(base, slow, baseline.period if baseline else None)
    never_ready: str | None = None
    try:
        with runner.session(scenario, options) as live:
            judge(live, fault, obs, timing, baseline)
    except RouterError as exc:  # never ready: start-up broke without the events readiness needs
        never_ready = str(exc).splitlines()[0].split("; last lines")[0]
        obs.hits = explore_hits(exc.faults)
        if obs.hits:
            obs.hit, obs.broken = True, [f"never ready ({never_ready})"]
        else:  # the fault never fired: the router would not start healthy either (not a finding)
            obs.error = f"never ready, and the fault never fired: {never_ready}"
    except MissingCapability as exc:
        obs.error = f"skipped: {exc}"
    except (FaultlabError, OSError) as exc:
        obs.error = f"{type(exc).__name__}: {exc}"
    except ExceptionGroup as group:
        if not obs.outcome:
            obs.error = "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions)
    obs.duration = round(time.monotonic() - begun, 3)
    obs.folder = str(Path(runs.name) / options.folder(scenario).name)
    _read_log(obs, scenario, options.folder(scenario), baseline, never_ready is not None)
    obs.outcome, obs.line = classify(obs)
    return obs


def _read_log(
    obs: Observation, scenario: Scenario, folder: Path, baseline: Baseline | None, never: bool
) -> None:
    """What the router wrote, read from the run's files once it stopped: the error-looking
    lines no pattern maps (those the healthy run wrote too left out), its last lines; for a
    router that never got ready (the judge never ran), its error events too."""
    from harness.routers import adapter_for

    try:
        adapter = adapter_for(scenario.router)
        lines = log_lines(adapter, folder)
    except (FaultlabError, OSError):
        return
    healthy = set(baseline.unmapped) if baseline is not None else set()
    obs.unmapped = [line[:300] for line in unmapped_of(lines) if line not in healthy][:10]
    obs.log = [line[:300] for line, _ in lines[-5:]]
    if never and not obs.events:
        source = adapter.events(folder)
        for line, is_event in lines:
            record = source.parse(line, folder) if is_event else None
            if record is not None:
                event = event_record(Event.from_record(record, seen=0.0, raw=line))
                if is_error(event):
                    obs.events.append(event)


# -- many faults, in workers, resumable ------------------------------------------------------


def fingerprint(scenario: Scenario, fault: PlannedFault) -> str:
    """What a stored result depends on: the scenario file, the router, the site, the errno."""
    text = scenario.path.read_text() if scenario.path.exists() else scenario.name
    key = f"{VERSION}|{text}|{scenario.router.kind}|{fault.site.key}|{fault.errno}"
    return hashlib.sha1(key.encode()).hexdigest()


@dataclass
class Store:
    """results/<fault id>.json under one router's exploration folder."""

    folder: Path

    def path(self, fault: PlannedFault) -> Path:
        return self.folder / "results" / f"{fault.id}.json"

    def load(self, fault: PlannedFault, print_: str) -> Observation | None:
        path = self.path(fault)
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            return None
        if data.get("fingerprint") != print_:
            return None
        return Observation.from_json(data["observation"])

    def save(self, fault: PlannedFault, print_: str, obs: Observation) -> None:
        path = self.path(fault)
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {"fingerprint": print_, "observation": obs.to_json()}
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1))
        tmp.replace(path)


#: (scenario path, router) -> the loaded (re-targeted) scenario: a worker loads it once.
BASES: caches.Cache[tuple[str, str], Scenario] = caches.cache(
    "explore.run.BASES", "test", "base scenarios, loaded once per worker process"
)


def load_base(path: str, router: str | None) -> Scenario:
    """The scenario (re-targeted at ``router`` when given), loaded once per process."""
    key = (path, router or "")
    if key not in BASES:
        from harness.scenario_loader import load

        scenario = load(path)
        if router and router != scenario.router.kind:
            from harness.compare import retarget

            scenario = retarget(scenario, router)
        BASES[key] = scenario
    return BASES[key]


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """One fault in a worker process (a plain-data task: picklable under spawn)."""
    base = load_base(task["scenario"], task["router"])
    fault = PlannedFault(CallSite.from_json(task["site"]), task["errno"])
    baseline = Baseline.from_json(task.get("baseline"))
    return observe(base, fault, Path(task["runs"]), task["slow"], baseline).to_json()


@dataclass
class Batch:
    """What an exploration of one router asks to run, and how."""

    scenario: Scenario
    router: str | None
    faults: Sequence[PlannedFault]
    folder: Path
    workers: int = 2
    slow: float = 1.0
    time_budget: float | None = None  # seconds; faults not started by then are left out
    baseline: Baseline | None = None  # the healthy discovery run's measurements


def run_all(
    batch: Batch, progress: Callable[[Observation, bool], None] | None = None
) -> list[Observation]:
    """Every fault of the batch (finished ones reused), in plan order."""
    store = Store(batch.folder)
    results: dict[str, Observation] = {}
    todo: list[tuple[PlannedFault, str]] = []
    for fault in batch.faults:
        print_ = fingerprint(batch.scenario, fault)
        stored = store.load(fault, print_)
        if stored is not None:
            results[fault.id] = stored
            if progress:
                progress(stored, True)
        else:
            todo.append((fault, print_))
    for fault, print_, obs in _execute(batch, todo):
        if obs.error is None:  # a harness error is tried again by the next exploration
            store.save(fault, print_, obs)
        results[fault.id] = obs
        if progress:
            progress(obs, False)
    return [results[f.id] for f in batch.faults if f.id in results]


def _task(batch: Batch, fault: PlannedFault) -> dict[str, Any]:
    return {
        "scenario": str(batch.scenario.path),
        "router": batch.router,
        "site": fault.site.to_json(),
        "errno": fault.errno,
        "runs": str(batch.folder / "runs"),
        "slow": batch.slow,
        "baseline": None if batch.baseline is None else batch.baseline.to_json(),
    }


def _execute(
    batch: Batch, todo: Sequence[tuple[PlannedFault, str]]
) -> Iterator[tuple[PlannedFault, str, Observation]]:
    deadline = None if batch.time_budget is None else time.monotonic() + batch.time_budget
    if batch.workers <= 1:
        for fault, print_ in todo:
            if deadline is not None and time.monotonic() > deadline:
                return
            yield fault, print_, Observation.from_json(run_task(_task(batch, fault)))
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=batch.workers, mp_context=context) as pool:
        pending: dict[Future[dict[str, Any]], tuple[PlannedFault, str]] = {}
        queue = list(todo)
        while queue or pending:
            over = deadline is not None and time.monotonic() > deadline
            while queue and len(pending) < batch.workers and not over:
                fault, print_ = queue.pop(0)
                pending[pool.submit(run_task, _task(batch, fault))] = (fault, print_)
            if not pending:
                return
            done, _ = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                fault, print_ = pending.pop(future)
                yield fault, print_, Observation.from_json(future.result())
