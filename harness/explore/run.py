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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.errors import FaultlabError, MissingCapability
from harness.explore.classify import Observation, classify, is_error
from harness.explore.discover import CallSite
from harness.explore.faults import latest_hits
from harness.explore.plan import PlannedFault
from harness.explore.timers import Timing
from harness.scenario import FaultSpec, Scenario

# Part of every result's fingerprint: a new judge re-runs everything (2: the routers' timers,
# 3: joins judged only where the router learns them, 4: never ready without a hit is an error).
VERSION = "4"
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


@dataclass
class Peers:
    """The router's interfaces, their addresses and the host endpoint on each link."""

    peer: dict[str, tuple[str, str]] = field(default_factory=dict)  # iface -> (node, ifname)
    address: dict[str, set[str]] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario) -> Peers:
        found = cls()
        router = scenario.router
        for link in scenario.topology.build().links:
            for near, far in ((link.a, link.b), (link.b, link.a)):
                if near.node == router.node and near.ifname in router.interface_names:
                    found.peer[near.ifname] = (far.node, far.ifname)
                    found.address[near.ifname] = {str(a.ip) for a in near.addresses}
        return found


class Judge:
    """Watches one live session (module docstring, steps 1-4)."""

    def __init__(self, live: Any, fault: PlannedFault, timing: Timing) -> None:
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
            record = {
                "id": event.id,
                "symbol": event.symbol,
                "level": event.level,
                "interface": event.interface,
                "errno": event.errno,
                "call": event.call,
                "line": (event.raw or event.message).strip()[:300],
            }
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
        if state is not None and interface in state.interfaces:
            if not state.interfaces[interface].active:
                return f"{interface} inactive"
        return None

    def query_seen(self, interface: str, since: float, deadline: float) -> bool:
        """A general query (or a non-querier's mrdisc advert) from the router on ``interface``;
        not judged where the router does not query regularly (its adapter says)."""
        peer = self.peers.peer.get(interface)
        capture = self.live.captures.get(f"{peer[0]}:{peer[1]}") if peer else None
        if capture is None or self.timing.query is None or interface not in self.queriers:
            return True  # nothing to watch there: not judged
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
            return True  # a router without a state report: joins are not judged
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


def judge(live: Any, fault: PlannedFault, obs: Observation, timing: Timing) -> None:
    """Steps 1-4 of the module docstring, filling ``obs``."""
    judge = Judge(live, fault, timing)
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
    obs.events = judge.error_events(hit)
    obs.exit_status = live.process.poll()
    cleared = _clear(live)
    obs.failed_positions = list(judge.explore.failed_calls())
    if obs.exit_status is not None:
        obs.recovered, obs.recovery = False, "the router exited"
        return
    if not obs.broken and not obs.collateral:
        obs.recovered, obs.recovery = True, "nothing broke"
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


def observe(base: Scenario, fault: PlannedFault, runs: Path, slow: float = 1.0) -> Observation:
    """Run one planned fault and classify the router's reaction."""
    from harness import runner
    from harness.errors import RouterError

    scenario = fault_scenario(base, fault)
    site = fault.site
    obs = Observation(
        fault.id,
        site.key,
        fault.errno,
        site.interface if site.by_interface else None,
        base.router.kind,
    )
    options = runner.RunOptions(artifacts_dir=runs, slow=slow, capture=True, keep=True)
    begun = time.monotonic()
    try:
        with runner.session(scenario, options) as live:
            judge(live, fault, obs, Timing.of(base, slow))
    except RouterError as exc:  # never ready: start-up broke without the events readiness needs
        why = str(exc).splitlines()[0]
        obs.hits = latest_hits()
        if obs.hits:
            obs.hit, obs.broken = True, [f"never ready: {why}"]
        else:  # the fault never fired: the router would not start healthy either (not a finding)
            obs.error = f"never ready, and the fault never fired: {why}"
    except MissingCapability as exc:
        obs.error = f"skipped: {exc}"
    except (FaultlabError, OSError) as exc:
        obs.error = f"{type(exc).__name__}: {exc}"
    except ExceptionGroup as group:
        if not obs.outcome:
            obs.error = "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions)
    obs.duration = round(time.monotonic() - begun, 3)
    obs.folder = str(Path(runs.name) / options.folder(scenario).name)
    obs.outcome, obs.line = classify(obs)
    return obs


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


_BASES: dict[tuple[str, str], Scenario] = {}


def load_base(path: str, router: str | None) -> Scenario:
    """The scenario (re-targeted at ``router`` when given), loaded once per process."""
    key = (path, router or "")
    if key not in _BASES:
        from harness.scenario_loader import load

        scenario = load(path)
        if router and router != scenario.router.kind:
            from harness.compare import retarget

            scenario = retarget(scenario, router)
        _BASES[key] = scenario
    return _BASES[key]


def run_task(task: dict[str, Any]) -> dict[str, Any]:
    """One fault in a worker process (a plain-data task: picklable under spawn)."""
    import harness.explore  # noqa: F401 - registers the explore fault kinds in this process

    base = load_base(task["scenario"], task["router"])
    fault = PlannedFault(CallSite.from_json(task["site"]), task["errno"])
    return observe(base, fault, Path(task["runs"]), task["slow"]).to_json()


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
