"""``faultlab compare``: the same faults against several IGMP routers, and a robustness table.

A QA team tests its own router, not ours: this runs each comparison scenario once per router
kind (the scenario's ``router:`` section re-targeted through that router's adapter), watches
what the router *did*, not only what it logged, and writes ``robustness.md`` and
``robustness.html``: per router and fault, the catalog events its log lines map to (and the
raw lines), the errno it reported, whether the other (healthy) interface kept querying and
learned a host's join, whether queries left through the wrong interface, whether the faulty
interface recovered after the fault was cleared, and the exit status. A router whose behaviour
broke while it logged nothing is marked *silent*.

Conventions of a comparison scenario (scenarios/compare/): the faulty interface is the fault's
``interface`` parameter, else the router's first interface; the other router interfaces are the
healthy ones; the hosts behind them join groups through the scenario's ``traffic``.
"""

from __future__ import annotations

import argparse
import dataclasses
import html
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.artifacts import OBSERVATION_NAME
from harness.catalog import FAILURE_IDS, errno_name
from harness.errors import FaultlabError, InputError, MissingCapability
from harness.routers import ADAPTERS, RouterAdapter, comparable_kinds
from harness.timing import timer_window

DEFAULT_SCENARIOS = Path("scenarios/compare")
DEFAULT_OUT = Path("artifacts/compare")
ERROR_IDS = FAILURE_IDS  # the catalog's: socket steps' events and 41055
# The routers compared by default, how long to watch each after the fault (and again after
# clearing it), and which are not IGMP queriers (they ignore host joins) are facts of each
# adapter class: harness.routers.comparable_kinds(), RouterAdapter.compare_window, .querier.
DEFAULT_WINDOW = RouterAdapter.compare_window


def window_for(kind: str, slow: float = 1.0) -> float:
    """Seconds to watch router ``kind`` after the fault, and again after clearing it: the
    adapter's window (set by the router's own timers) with only the work in it stretched by
    ``slow`` (harness.timing.timer_window)."""
    adapter = ADAPTERS.get(kind)
    return timer_window(adapter.compare_window if adapter is not None else DEFAULT_WINDOW, slow)


@dataclass
class Observation:
    """What one router did under one scenario's fault."""

    router: str
    scenario: str
    faults: list[str]
    skipped: str | None = None
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    notable: list[str] = field(default_factory=list)
    errno: int | None = None
    healthy_querying: bool | None = None
    join_learned: bool | None = None
    wrong_interface_queries: int = 0
    recovered: bool | None = None
    exit_status: int | None = None

    @property
    def logged(self) -> bool:
        return bool(self.events or self.notable)

    @property
    def broken(self) -> bool:
        return (
            self.exit_status is not None
            or self.healthy_querying is False
            or self.join_learned is False
            or self.wrong_interface_queries > 0
        )

    @property
    def silent(self) -> bool:
        """Behaviour broken, nothing in the log about it."""
        return self.skipped is None and self.error is None and self.broken and not self.logged

    def outcome(self) -> str:
        """One word for the matrix: skipped, error, crash, exit N, silent, degraded, ok."""
        if self.skipped is not None:
            return "skipped"
        if self.error is not None:
            return "error"
        if self.exit_status is not None and self.exit_status < 0:
            return "crash"
        if self.exit_status not in (None, 0):
            return f"exit {self.exit_status}"
        if self.silent:
            return "silent"
        if self.broken:
            return "degraded"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.update(outcome=self.outcome(), silent=self.silent)
        return data


# -- running ------------------------------------------------------------------------------


def retarget(scenario: Any, kind: str) -> Any:
    """The scenario with its router section run by adapter ``kind`` (own name, own folder)."""
    router = dataclasses.replace(scenario.router, kind=kind)
    return dataclasses.replace(scenario, router=router, name=f"{scenario.name} [{kind}]")


@dataclass(frozen=True)
class Sides:
    """The router's faulty and healthy interfaces and the host endpoints facing them."""

    faulty: str
    healthy: tuple[str, ...]
    peers: dict[str, str]  # router interface -> "node:ifname" of the host on that link
    addresses: dict[str, tuple[str, ...]]  # router interface -> its addresses
    joins: dict[str, tuple[str, ...]]  # router interface -> groups its host joins


def sides_of(scenario: Any) -> Sides:
    """Which interface the fault hits and which stay healthy (see the module docstring)."""
    router = scenario.router
    names = router.interface_names
    named = [spec.params.get("interface") for spec in scenario.faults]
    faulty = next((name for name in named if name), names[0] if names else "")
    peers: dict[str, str] = {}
    addresses: dict[str, tuple[str, ...]] = {}
    for link in scenario.topology.build().links:
        for near, far in ((link.a, link.b), (link.b, link.a)):
            if near.node == router.node and near.ifname in names:
                peers[near.ifname] = f"{far.node}:{far.ifname}"
                addresses[near.ifname] = tuple(str(a.ip) for a in near.addresses)
    joins: dict[str, set[str]] = {}
    for item in scenario.traffic:
        if item.action == "join" and item.group:
            for interface, peer in peers.items():
                if peer == f"{item.node}:{item.ifname}":
                    joins.setdefault(interface, set()).add(item.group)
    return Sides(
        faulty,
        tuple(name for name in names if name != faulty),
        peers,
        addresses,
        {name: tuple(sorted(groups)) for name, groups in joins.items()},
    )


def observe(scenario: Any, kind: str, artifacts: Path, slow: float = 1.0) -> Observation:
    """Run ``scenario`` with router ``kind`` and record what the router did."""
    from harness import runner

    target = retarget(scenario, kind)
    result = Observation(kind, scenario.name, [spec.describe() for spec in scenario.faults])
    options = runner.RunOptions(artifacts_dir=artifacts / kind, slow=slow, capture=True)
    try:
        with runner.session(target, options) as live:
            _watch(live, result, sides_of(scenario), window_for(kind, slow))
    except MissingCapability as exc:
        result.skipped = str(exc)
    except (FaultlabError, OSError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    except ExceptionGroup as group:
        result.error = "; ".join(f"{type(e).__name__}: {e}" for e in group.exceptions)
    observation = options.folder(target) / OBSERVATION_NAME
    observation.parent.mkdir(parents=True, exist_ok=True)
    observation.write_text(json.dumps(result.to_json(), indent=1))
    return result


def _watch(live: Any, result: Observation, sides: Sides, window: float) -> None:
    """Fault applied -> watch a window -> clear -> watch again; fill ``result``."""
    stream, process = live.stream, live.process
    scheduled = [p.apply for p in live.faults if p.apply is not None]
    deadline = live.started_at + live.scenario.timeout * live.options.slow
    if scheduled:
        live.scheduler.wait(scheduled, deadline)
    marks = [a.mark.time for a in scheduled if a.mark is not None]
    fault_at = max(marks, default=live.started_at)
    until = fault_at + window
    healthy = [live.captures[sides.peers[i]] for i in sides.healthy if i in sides.peers]
    for capture in healthy:
        capture.wait_for_packets(
            lambda ps: any(_from_router(p, sides) for p in ps), fault_at, until
        )
    stream.wait_until(lambda: process.poll() is not None, until)
    _judge_fault(live, result, sides, healthy, fault_at)
    if result.exit_status is None:
        _judge_recovery(live, result, sides, window)


def _from_router(packet: Any, sides: Sides, interfaces: Sequence[str] | None = None) -> bool:
    """A query (or mrdisc advert) sent by the router, from one of ``interfaces``' addresses."""
    if packet.outgoing or not packet.is_router_presence:
        return False
    names = interfaces if interfaces is not None else tuple(sides.addresses)
    return any(packet.src in sides.addresses.get(name, ()) for name in names)


def _judge_fault(
    live: Any, result: Observation, sides: Sides, healthy: list[Any], fault_at: float
) -> None:
    stream, adapter = live.stream, live.adapter
    result.exit_status = live.process.poll()
    errors = [e for e in stream.events if e.id in ERROR_IDS or e.errno is not None]
    result.events = [
        {
            "id": e.id,
            "symbol": e.symbol,
            "interface": e.interface,
            "errno": e.errno,
            "call": e.call,
            "line": (e.message or e.raw)[:200],
        }
        for e in errors
    ]
    result.errno = next((e.errno for e in errors if e.errno is not None), None)
    if hasattr(adapter, "notable_lines"):
        result.notable = adapter.notable_lines(live.folder)[:40]
    if result.exit_status is not None:
        result.healthy_querying = False
        return
    since = max(fault_at, live.started_at)
    seen = [p for capture in healthy for p in capture.packets(since)]
    result.healthy_querying = any(_from_router(p, sides, sides.healthy) for p in seen)
    wrong = [
        p for p in seen if _from_router(p, sides) and not _from_router(p, sides, sides.healthy)
    ]
    result.wrong_interface_queries = len(wrong)
    wanted = {name: groups for name, groups in sides.joins.items() if name in sides.healthy}
    if not live.adapter.querier or not wanted:
        return
    state = live.read_state(live.stream.clock() + 2.0)
    if state is None:
        return
    result.join_learned = all(
        set(groups) <= set(state.interfaces[name].groups if name in state.interfaces else ())
        for name, groups in wanted.items()
    )


def _judge_recovery(live: Any, result: Observation, sides: Sides, window: float) -> None:
    """Clear every fault not cleared yet; then a query on the faulty side within the window."""
    cleared_at = live.stream.clock()
    for planned in live.faults:
        if planned.clear is None or not planned.clear.done:
            planned.fault.clear(live.context_for(planned.spec))
    peer = sides.peers.get(sides.faulty)
    queries_on = getattr(live.adapter, "queries_on", None)
    if queries_on is not None and sides.faulty not in queries_on(live.scenario.router):
        return  # it never queries there (igmpproxy's upstream): recovery is not visible
    if peer is None or peer not in live.captures:
        return
    packets = live.captures[peer].wait_for_packets(
        lambda ps: any(_from_router(p, sides, (sides.faulty,)) for p in ps),
        cleared_at,
        cleared_at + window,
    )
    result.recovered = live.process.poll() is None and any(
        _from_router(p, sides, (sides.faulty,)) for p in packets
    )
    if live.process.poll() is not None:
        result.exit_status = live.process.poll()


def cell(router: str, scenario: Any) -> str:
    """A router x scenario cell's id: what ``--shard`` deals and ``--only`` names."""
    return f"{router}:{scenario.name}"


def expected_cost(router: str, slow: float = 1.0) -> float:
    """Seconds one cell is expected to take: a lab, the router's window twice (after the
    fault and after the clear)."""
    return 2.0 + 2 * window_for(router, slow)


def compare(
    scenarios: Sequence[Any],
    routers: Sequence[str],
    artifacts: Path,
    slow: float = 1.0,
    cells: set[str] | None = None,
) -> list[Observation]:
    """Every scenario against every router (only ``cells`` when given), in order; skipped
    routers say why."""
    unknown = [name for name in routers if name not in ADAPTERS]
    if unknown:
        raise InputError(
            f"unknown router kind(s) {', '.join(unknown)} (known: {', '.join(sorted(ADAPTERS))})"
        )
    pairs = [(scenario, router) for scenario in scenarios for router in routers]
    if cells is not None:
        pairs = [(s, r) for s, r in pairs if cell(r, s) in cells]
    observations = []
    for index, (scenario, router) in enumerate(pairs, 1):
        begun = time.monotonic()
        observations.append(observe(scenario, router, artifacts, slow))
        print(
            f"[{index}/{len(pairs)}] {router}: {scenario.name}: "
            f"{observations[-1].outcome()} ({time.monotonic() - begun:.0f} s)",
            flush=True,
        )
    return observations


# -- the report ---------------------------------------------------------------------------


def _errno_text(number: int | None) -> str:
    return "-" if number is None else f"{errno_name(number)} ({number})"


def _yes(value: bool | None) -> str:
    return "n/a" if value is None else ("yes" if value else "NO")


def _exit_text(item: Observation) -> str:
    if item.exit_status is None:
        return "running"
    if item.exit_status < 0:
        return f"killed by signal {-item.exit_status} (status {128 - item.exit_status})"
    return str(item.exit_status)


def _logged_text(item: Observation) -> str:
    if item.skipped is not None:
        return f"skipped: {item.skipped}"
    if item.error is not None:
        return f"error: {item.error}"
    ids = sorted({str(e["id"]) for e in item.events})
    first = item.events[0]["line"] if item.events else (item.notable[0] if item.notable else "")
    if not ids and not first:
        return "nothing"
    prefix = ", ".join(ids) + ": " if ids else "(no catalog event) "
    return prefix + first


ROW_FIELDS = (
    "router",
    "fault",
    "outcome",
    "what it logged",
    "errno reported",
    "other interfaces querying",
    "join learned there",
    "queries via wrong interface",
    "recovered after clear",
    "exit status",
)


def rows(observations: Sequence[Observation]) -> list[list[str]]:
    """The robustness table, one row per router and fault, as text cells."""
    return [
        [
            item.router,
            item.scenario,
            item.outcome(),
            _logged_text(item),
            _errno_text(item.errno),
            _yes(item.healthy_querying),
            _yes(item.join_learned),
            str(item.wrong_interface_queries),
            _yes(item.recovered),
            _exit_text(item),
        ]
        for item in observations
    ]


def render_markdown(observations: Sequence[Observation]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [
        "# Robustness: other IGMP routers under the same faults",
        "",
        "*silent*: the router's behaviour broke and its log said nothing about it.",
        "",
        "| " + " | ".join(ROW_FIELDS) + " |",
        "|" + "---|" * len(ROW_FIELDS),
    ]
    lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in rows(observations)]
    return "\n".join(lines) + "\n"


_STYLE = (
    "body{font-family:sans-serif}table{border-collapse:collapse}"
    "td,th{border:1px solid #999;padding:4px;vertical-align:top;font-size:13px}"
    ".ok{background:#dfd}.degraded{background:#ffd}.silent,.crash{background:#fbb}"
    ".skipped{background:#eee}.error{background:#fdb}.exit{background:#fcc}"
)


def render_html(observations: Sequence[Observation]) -> str:
    """The same table as HTML, plus a router x fault matrix of outcomes."""
    routers = list(dict.fromkeys(item.router for item in observations))
    faults = list(dict.fromkeys(item.scenario for item in observations))
    by_key = {(item.router, item.scenario): item for item in observations}
    esc = html.escape
    matrix = ["<tr><th>fault</th>" + "".join(f"<th>{esc(r)}</th>" for r in routers) + "</tr>"]
    for fault in faults:
        cells = []
        for router in routers:
            item = by_key.get((router, fault))
            word = item.outcome() if item else ""
            cls = word.split()[0] if word else ""
            cells.append(f'<td class="{cls}">{esc(word)}</td>')
        matrix.append(f"<tr><th>{esc(fault)}</th>{''.join(cells)}</tr>")
    table = ["<tr>" + "".join(f"<th>{esc(h)}</th>" for h in ROW_FIELDS) + "</tr>"]
    for item, row in zip(observations, rows(observations), strict=True):
        cls = item.outcome().split()[0]
        table.append(f'<tr class="{cls}">' + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>")
    return (
        "<!doctype html><html><head><meta charset='utf-8'><title>faultlab robustness</title>"
        f"<style>{_STYLE}</style></head><body>"
        "<h1>Robustness: other IGMP routers under the same faults</h1>"
        f"<table>{''.join(matrix)}</table><h2>Details</h2><table>{''.join(table)}</table>"
        "</body></html>\n"
    )


def write_report(observations: Sequence[Observation], out: Path) -> tuple[Path, Path]:
    """robustness.md, robustness.html (and robustness.json) in ``out``."""
    out.mkdir(parents=True, exist_ok=True)
    markdown, page = out / "robustness.md", out / "robustness.html"
    markdown.write_text(render_markdown(observations))
    page.write_text(render_html(observations))
    (out / "robustness.json").write_text(
        json.dumps([item.to_json() for item in observations], indent=1)
    )
    return markdown, page


# -- the command --------------------------------------------------------------------------


def register(subparsers: Any) -> None:
    """Add ``faultlab compare`` to the CLI."""
    parser = subparsers.add_parser(
        "compare",
        help="run the fault matrix against several routers; write a robustness table",
        description=__doc__.split("\n")[0],
    )
    parser.add_argument("scenarios", nargs="*", type=Path, help="files or folders")
    routers = ",".join(comparable_kinds())
    parser.add_argument(
        "--routers",
        default=routers,
        help=f"comma list (default, or when empty: the registry's {routers})",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="report and artifacts")
    parser.add_argument("--slow", type=float, default=1.0, help="stretch every window")
    from harness.kernellab.commands import add_kernel_option

    add_kernel_option(parser)
    parser.add_argument(
        "--only", help="only these ROUTER:SCENARIO cells (comma list, or @FILE one a line)"
    )
    from harness.shard import add_shard_options

    add_shard_options(parser, "the router x scenario cells")
    parser.set_defaults(handler=cmd_compare)


def cmd_compare(args: argparse.Namespace) -> int:
    from harness.scenario_loader import load_many
    from harness.shard import shard_of

    shard_of(args)  # a bad --shard is said before anything runs (and forwarded as I/N)
    if not args.routers.strip():  # tox's --routers={env:FAULTLAB_ROUTERS:}: the registry's
        args.routers = ",".join(comparable_kinds())
    if getattr(args, "kernels", None):  # --kernel: inside a guest per kernel (harness/kernellab)
        from harness.kernellab import commands as kernellab

        return kernellab.cmd_compare(args)

    routers = [name.strip() for name in args.routers.split(",") if name.strip()]
    scenarios = load_many(args.scenarios or [DEFAULT_SCENARIOS])
    if not scenarios:
        raise InputError(f"no scenario found in {args.scenarios or [DEFAULT_SCENARIOS]}")
    observations = compare(
        scenarios, routers, args.out, args.slow, _cells(args, scenarios, routers)
    )
    markdown, page = write_report(observations, args.out)
    from harness import htmlreport  # the run's report.html: the robustness tables as a section

    body = render_html(observations).split("<body>", 1)[1].rsplit("</body>", 1)[0]
    section = htmlreport.Section("Robustness", f"<style>{_STYLE}</style>{body}", "robustness")
    htmlreport.write(args.out / htmlreport.REPORT_NAME, [], [section], title="faultlab compare")
    print(markdown.read_text())
    print(f"wrote {markdown} and {page}")
    return 0


def _cells(args: argparse.Namespace, scenarios: Sequence[Any], routers: list[str]) -> set[str]:
    """The cells this run takes (``--only``, then ``--shard``'s deal by cost), recorded with
    the whole plan in ``shard.json`` (harness.shard.Manifest) for ``faultlab merge``."""
    import hashlib
    import os

    from harness.shard import Manifest, only_cells, shard_of

    planned = {cell(r, s): r for s in scenarios for r in routers}
    chosen = sorted(planned)
    wanted = only_cells(args.only)
    if wanted is not None:
        unknown = sorted(wanted - set(planned))
        if unknown:
            raise InputError(f"--only: no such router:scenario cell(s): {'; '.join(unknown)}")
        chosen = [name for name in chosen if name in wanted]
    shard = shard_of(args)
    owners: dict[str, str] = {}
    if shard is not None:
        # unstretched: a guest's --slow is its measured stretch, not the same on every shard
        owners = shard.owners(chosen, key=str, cost=lambda c: expected_cost(planned[c]))
        chosen = [name for name in chosen if owners[name] == str(shard)]
    texts = sorted(Path(s.path).read_text() if Path(s.path).exists() else s.name for s in scenarios)
    identity = {
        "scenario_digest": hashlib.sha256("\n".join(texts).encode()).hexdigest()[:16],
        "routers": sorted(routers),
        "kernel": os.uname().release,
    }
    rerun = ["faultlab", "compare", *(str(p) for p in args.scenarios or [])]
    rerun += ["--routers", ",".join(routers), "--only", "{cells}"]
    if args.slow not in (None, 1.0):
        rerun += ["--slow", str(args.slow)]
    Manifest("compare", None if shard is None else str(shard), identity, list(planned), chosen,
             rerun, extra={"owners": owners}).write(args.out)  # fmt: skip
    return set(chosen)
