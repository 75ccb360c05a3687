"""The exploration's report: a call site x errno matrix per router, in JSON, Markdown and HTML.

Each cell is one fault: coloured by outcome, with the router's own log line (the HTML cell's
tooltip and the Markdown findings list) and a link to the run's artifacts. A summary score per
router (shares of faults reported, tolerated, vague, silent, fatal; recovered). Several routers
are shown side by side; ``diff`` compares with an earlier exploration's JSON (``--baseline``);
``write_scenarios`` turns each finding into an ordinary scenario file that reproduces it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.catalog import BY_STEP, Step
from harness.explore.baseline import Baseline
from harness.explore.classify import Observation, acceptable, score
from harness.explore.plan import PlannedFault, errno_columns
from harness.explore.sites import CallSite
from harness.faults.stepcalls import STEP_CALLS, step_of_call

JSON_NAME, MARKDOWN_NAME = "explore.json", "explore.md"
SHORT = {"reported": "R", "tolerated": "T", "vague": "V", "silent": "S", "exit": "X",
         "crash": "C", "unjudged": "U", "unreached": "-", "error": "!"}  # fmt: skip
LEGEND = (
    "Cells: R reported, T tolerated, V vague, S silent, X exit, C crash, U unjudged (nothing "
    "could be judged: the reason is in the cell), - unreached; + recovered after the clear, "
    "x not recovered."
)
STYLE = (
    ".xp td,.xp th{border:1px solid #999;padding:2px 4px;font-size:12px;text-align:center}"
    ".xp{border-collapse:collapse}.xp th.site{text-align:left;font-weight:normal}"
    ".xp .reported{background:#cfc}.xp .tolerated{background:#e8f4e8}.xp .vague{background:#ffd}"
    ".xp .silent{background:#fbb}.xp .exit,.xp .crash{background:#f88}.xp .unreached{color:#999}"
    ".xp .error{background:#ddd}.xp .unjudged{background:#eee;color:#555}"
    ".xp a{color:inherit;text-decoration:none}"
)


@dataclass
class RouterExploration:
    """One router's exploration: its sites, its faults' observations, its timings."""

    router: str  # its label (RouterSpec.label: igmpd, pimd, myquerier ...)
    sites: list[CallSite] = field(default_factory=list)
    faults: list[PlannedFault] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)
    calls: int = 0
    wall: float = 0.0
    skipped: str | None = None
    baseline: Baseline | None = None  # the healthy discovery run, measured
    kind: str = ""  # the router kind it was explored as (--router), when not the label

    def median(self) -> float | None:
        durations = sorted(o.duration for o in self.observations if o.duration)
        return durations[len(durations) // 2] if durations else None

    def to_json(self) -> dict[str, Any]:
        return {
            "router": self.router,
            "kind": self.kind or self.router,
            "skipped": self.skipped,
            "baseline": None if self.baseline is None else self.baseline.to_json(),
            "calls": self.calls,
            "sites": [site.to_json() for site in self.sites],
            "faults": [f.to_json() for f in self.faults],
            "observations": [o.to_json() for o in self.observations],
            "score": score(self.observations),
            "wall_s": round(self.wall, 2),
            "median_fault_s": self.median(),
        }


def to_json(scenario: str, explorations: Sequence[RouterExploration]) -> dict[str, Any]:
    return {"version": 1, "scenario": scenario, "routers": [e.to_json() for e in explorations]}


def _cell_text(obs: Observation | None) -> str:
    if obs is None:
        return ""
    mark = SHORT.get(obs.word, "?")
    if obs.word not in ("tolerated", "unjudged", "unreached", "error"):
        mark += "+" if obs.recovered else ("x" if obs.recovered is False else "")
    return mark


def _by_key(e: RouterExploration) -> dict[tuple[str, str], Observation]:
    return {(o.site, o.errno): o for o in e.observations}


def summary_line(e: RouterExploration) -> str:
    if e.skipped:
        return f"{e.router}: skipped: {e.skipped}"
    s = score(e.observations)
    c = s["counts"]
    return (
        f"{e.router}: {len(e.sites)} call sites, {s['faults']} faults: {c['reported']} reported, "
        f"{c['tolerated']} tolerated, {c['vague']} vague, {c['silent']} silent, "
        f"{c['exit'] + c['crash']} fatal, {c['unjudged']} unjudged, {c['unreached']} unreached; "
        f"recovered "
        f"{s['recovered']:.0%}; score {s['score']:.0%} (reported or tolerated); "
        f"wall {e.wall:.1f} s, median {e.median() or 0:.2f} s per fault"
    )


# -- Markdown ---------------------------------------------------------------------------------


def render_markdown(scenario: str, explorations: Sequence[RouterExploration]) -> str:
    lines = [f"# faultlab explore: {scenario}", ""]
    lines += [LEGEND, ""]
    for e in explorations:
        lines += [f"## {e.router}", "", summary_line(e), ""]
        if e.skipped:
            continue
        if e.baseline is not None:
            lines += [f"Healthy run: {e.baseline.describe()}", ""]
        lines += _markdown_matrix(e) + [""] + _markdown_findings(e) + [""]
    if len(explorations) > 1:
        lines += ["## Side by side", ""] + _markdown_side_by_side(explorations) + [""]
    return "\n".join(lines)


def _markdown_matrix(e: RouterExploration) -> list[str]:
    columns = errno_columns(e.faults)
    cells = _by_key(e)
    rows = ["| call site | " + " | ".join(columns) + " |", "|---" * (len(columns) + 1) + "|"]
    for site in e.sites:
        marks = [_cell_text(cells.get((site.key, name))) for name in columns]
        if any(marks):
            rows.append(f"| {site.key} | " + " | ".join(marks) + " |")
    return rows


def _markdown_findings(e: RouterExploration) -> list[str]:
    found = [o for o in e.observations if not acceptable(o)]
    if not found:
        return ["No finding: every fault was reported (with recovery) or tolerated."]
    lines = ["Findings:", ""]
    for o in found:
        line = o.line.replace("|", "\\|")[:200]
        recovered = {True: "recovered", False: "not recovered", None: ""}[o.recovered]
        lines.append(f"- `{o.site}` {o.errno}: **{o.outcome}** {recovered} ({o.folder}): {line}")
        lines += [f"  - unmapped: `{u[:200]}`" for u in o.unmapped]
    return lines


def _markdown_side_by_side(explorations: Sequence[RouterExploration]) -> list[str]:
    routers = [e.router for e in explorations]
    keys = list(dict.fromkeys(k for e in explorations for k in _by_key(e)))
    maps = [_by_key(e) for e in explorations]
    rows = [
        "| call site | errno | " + " | ".join(routers) + " |",
        "|---" * (len(routers) + 2) + "|",
    ]
    for key in keys:
        rows.append(
            f"| {key[0]} | {key[1]} | " + " | ".join(_cell_text(m.get(key)) for m in maps) + " |"
        )
    return rows


# -- HTML (a section of the run's report.html) ------------------------------------------------


def render_html(explorations: Sequence[RouterExploration]) -> str:
    """The HTML fragment: per router its summary and matrix (escaped), then side by side."""
    parts = [f"<style>{STYLE}</style><p>{html.escape(LEGEND)}</p>"]
    for e in explorations:
        parts.append(f"<h3>{html.escape(e.router)}</h3><p>{html.escape(summary_line(e))}</p>")
        if e.baseline is not None:
            parts.append(f"<p>Healthy run: {html.escape(e.baseline.describe())}</p>")
        if not e.skipped:
            parts.append(_html_matrix(e))
    if len(explorations) > 1:
        parts.append("<h3>Side by side</h3>" + _html_side_by_side(explorations))
    return "".join(parts)


def _html_cell(router: str, obs: Observation | None) -> str:
    if obs is None:
        return "<td></td>"
    tip = html.escape(cell_tip(obs), quote=True)
    href = html.escape(f"{router}/{obs.folder}/", quote=True)
    text = html.escape(_cell_text(obs))
    return f'<td class="{obs.word}" title="{tip}"><a href="{href}">{text}</a></td>'


def cell_tip(obs: Observation) -> str:
    """A cell's tooltip: outcome, recovery, the deciding line, what was judged, and every
    error line no pattern maps (so "silent" never hides a line the router wrote)."""
    parts = [obs.outcome, obs.recovery, obs.line]
    if obs.judged:
        parts.append("judged: " + ", ".join(obs.judged))
    parts += [f"unmapped: {line}" for line in obs.unmapped]
    return "; ".join(part for part in parts if part)


def _html_matrix(e: RouterExploration) -> str:
    columns = errno_columns(e.faults)
    cells = _by_key(e)
    head = "<tr><th>call site</th>" + "".join(f"<th>{c}</th>" for c in columns) + "</tr>"
    rows = [head]
    for site in e.sites:
        found = [cells.get((site.key, c)) for c in columns]
        if any(found):
            tds = "".join(_html_cell(e.router, o) for o in found)
            rows.append(f'<tr><th class="site">{html.escape(site.key)}</th>{tds}</tr>')
    return f'<table class="xp" data-router="{html.escape(e.router)}">{"".join(rows)}</table>'


def _html_side_by_side(explorations: Sequence[RouterExploration]) -> str:
    maps = [_by_key(e) for e in explorations]
    keys = list(dict.fromkeys(k for m in maps for k in m))
    head = "<tr><th>call site</th><th>errno</th>"
    head += "".join(f"<th>{html.escape(e.router)}</th>" for e in explorations) + "</tr>"
    rows = [head]
    for key in keys:
        tds = "".join(
            _html_cell(e.router, m.get(key)) for e, m in zip(explorations, maps, strict=True)
        )
        rows.append(f'<tr><th class="site">{html.escape(key[0])}</th><td>{key[1]}</td>{tds}</tr>')
    return f'<table class="xp">{"".join(rows)}</table>'


def write(out: Path, scenario: str, explorations: Sequence[RouterExploration]) -> list[Path]:
    """explore.json, explore.md and report.html (the matrix as a section) in ``out``."""
    from harness import htmlreport

    out.mkdir(parents=True, exist_ok=True)
    data = to_json(scenario, explorations)
    (out / JSON_NAME).write_text(json.dumps(data, indent=1) + "\n")
    (out / MARKDOWN_NAME).write_text(render_markdown(scenario, explorations))
    section = htmlreport.Section("Explore: call site x errno", render_html(explorations), "explore")
    page = htmlreport.write(
        out / htmlreport.REPORT_NAME, [], [section], title=f"faultlab explore {scenario}"
    )
    return [out / JSON_NAME, out / MARKDOWN_NAME, page]


# -- baseline ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    router: str
    site: str
    errno: str
    before: str
    after: str
    regression: bool

    def describe(self) -> str:
        word = "REGRESSION" if self.regression else "changed"
        return f"{word}: {self.router} {self.site} {self.errno}: {self.before} -> {self.after}"


def _verdict(o: dict[str, Any]) -> tuple[str, bool]:
    obs = Observation.from_json(o)
    text = obs.outcome + {True: ", recovered", False: ", not recovered", None: ""}[obs.recovered]
    return text, acceptable(obs)


def diff(baseline: dict[str, Any], current: dict[str, Any]) -> list[Change]:
    """Every (router, site, errno) whose outcome differs; a regression is a fault that was
    reported-with-recovery or tolerated and is not any more."""

    def index(data: dict[str, Any]) -> dict[tuple[str, str, str], dict[str, Any]]:
        return {
            (r["router"], o["site"], o["errno"]): o
            for r in data.get("routers", [])
            for o in r.get("observations", [])
        }

    before, after = index(baseline), index(current)
    changes = []
    for key in sorted(before.keys() & after.keys()):
        (old, old_ok), (new, new_ok) = _verdict(before[key]), _verdict(after[key])
        if old != new:
            changes.append(Change(*key, old, new, old_ok and not new_ok))
    return changes


# -- findings as ordinary scenarios -----------------------------------------------------------

#: The step of a call no row of STEP_CALLS names: a socket option (IP_MULTICAST_TTL,
#: IP_MULTICAST_LOOP ...) counts as requesting multicasting, the old epoll_create as event select.
OTHER_CALL_STEPS: dict[str, Step] = {
    "setsockopt": Step.REQUEST_MULTICAST,
    "epoll_create": Step.EVENT_SELECT,
}


def step_event(site: CallSite) -> int | None:
    """The catalog event a router should log when this call fails (None: no catalog step): the
    step of the call with its arguments (harness.faults.stepcalls), else the one step every row
    of that syscall has, else OTHER_CALL_STEPS."""
    step = step_of_call(site.syscall, dict(site.args)) or _only_step(site.syscall)
    step = step or OTHER_CALL_STEPS.get(site.syscall)
    return BY_STEP[step].id if step is not None else None


def _only_step(syscall: str) -> Step | None:
    steps = {
        step for step, calls in STEP_CALLS.items() for call, _ in calls.values() if call == syscall
    }
    return steps.pop() if len(steps) == 1 else None


def pinned_clear(obs: Observation, period: float | None) -> float:
    """When a pinned finding's fault is cleared, in seconds after the router's start: after the
    last call the exploration failed (its time, else the first hit plus one period per failed
    call), plus half a period (at least 0.5 s). The fault fails exactly those calls (``nth``),
    so a later clear changes nothing but the recovery mark; an earlier one (the old fixed
    ``after: 1s``) could come before the router's call and the fault never fired."""
    step = period or 1.0
    if obs.hit_times_ms:
        last = max(obs.hit_times_ms) / 1000
    elif obs.hit_ms is not None:
        last = obs.hit_ms / 1000 + max(0, len(obs.failed_positions) - 1) * step
    else:
        last = 0.5
    return math.ceil((last + max(0.5, step / 2)) * 10) / 10


def finding_scenario(
    base: Any, site: CallSite, obs: Observation, peer: str | None, period: float | None = None
) -> dict:
    """An ordinary scenario (plain data) that reproduces one finding with ``syscall-error``:
    the same call, occurrence(s), interface and errno, armed from the start and cleared once
    every one of those calls came (``pinned_clear``, from the router's ``period`` measured in
    the healthy run); it expects what a robust router does (the step's event naming the errno,
    still running, querying again after the clear), so it fails while the finding stands and
    passes once it is fixed."""
    data = {
        k: v
        for k, v in dict(base.data).items()
        if k not in ("faults", "expect", "name", "description")
    }
    fault: dict[str, Any] = {"kind": "syscall-error", "syscall": site.syscall, "errno": obs.errno}
    if site.args:
        fault["args"] = dict(site.args)
    if site.by_interface and site.interface:
        fault["interface"] = site.interface
    fault["nth"] = list(obs.failed_positions or [site.occurrence])
    fault["switchable"] = True
    clear = pinned_clear(obs, period)
    fault["clear"] = {"at": f"{clear:g}s"}
    expect: dict[str, Any] = {"router": {"running": True}}
    event = step_event(site)
    if event is not None:
        within = f"{max(3.0, clear + 1.0):g}s"
        item: dict[str, Any] = {"id": event, "errno": obs.errno, "within": within}
        if site.by_interface and site.interface:
            item["interface"] = site.interface
        expect["events"] = [item]
    if peer is not None:
        within = f"{max(5.0, math.ceil(2 * (period or 0) + 1)):g}s"
        packets = [{"on": peer, "query": "general", "at_least": 1, "within": within}]
        expect["recovery"] = {"packets": packets}
    name = f"explore finding: {site.key} {obs.errno} ({obs.outcome})"
    description = (
        f"Found by faultlab explore: {site.call} at {site.key} failing with {obs.errno} was "
        f"{obs.outcome}, recovered={obs.recovered}. The router said: {obs.line[:300] or 'nothing'}"
    )
    return {"name": name, "description": description, **data, "faults": [fault], "expect": expect}


def write_scenarios(
    folder: Path, base: Any, e: RouterExploration, peers: dict[str, str]
) -> list[Path]:
    """One scenario file per finding of router ``e`` (not reported-with-recovery, not
    tolerated, not unreached)."""
    folder.mkdir(parents=True, exist_ok=True)
    sites = {site.key: site for site in e.sites}
    written = []
    for obs in e.observations:
        if acceptable(obs) or obs.word in ("error", "unjudged") or obs.site not in sites:
            continue
        site = sites[obs.site]
        period = e.baseline.period if e.baseline is not None else None
        data = finding_scenario(base, site, obs, peers.get(site.interface or ""), period)
        path = folder / f"{e.router}-{obs.fault}.yaml"
        path.write_text(yaml.safe_dump(data, sort_keys=False, width=100))
        written.append(path)
    return written
