"""HTML for a run: overview, fault matrix, scenario list, one panel per scenario, skips.

Plain strings joined together (no template engine): the page is one file with its CSS and
script inline. Every piece of text from a run passes through ``esc``.
"""

from __future__ import annotations

import html
import os
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import catalog
from harness.htmlreport import assets, svg
from harness.htmlreport.model import EXACT_ERROR_KINDS, RunView, ScenarioView, rerun_command

esc = html.escape
STATUSES = ("passed", "failed", "error", "skipped")
_STATUS_RANK = {"failed": 0, "error": 1, "passed": 2, "skipped": 3, "not run": 4}
_STEP_ORDER = [step.value for step in catalog.Step]
_LINK_NAMES = {
    "verdict": "verdict.json",
    "scenario": "scenario.json (resolved: the timers used)",
    "events": "event log",
    "stdout": "router stdout",
    "stderr": "router stderr",
}


def page(run: RunView, sections: Sequence[Any] = ()) -> str:
    """The whole report: one self-contained HTML document. A page of other commands' sections
    alone (``faultlab explore``: no scenario of its own) shows no scenario counts or tables."""
    runs = bool(run.scenarios) or not sections
    scenario_parts = [_filters(run), _matrix(run), _list(run), _panels(run), _skipped(run)]
    parts = [
        _header(run, scenarios=runs),
        "<main>",
        *(scenario_parts if runs else []),
        *(_section(section) for section in sections),
        "</main>",
    ]
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width'>"
        f"<title>{esc(run.title)}</title><style>{assets.CSS}</style></head><body>"
        + "".join(parts)
        + f"<script>{assets.JS}</script></body></html>\n"
    )


# -- overview ---------------------------------------------------------------------------------


def _header(run: RunView, scenarios: bool = True) -> str:
    """Title, the run's counts and its facts; a page of other commands' sections alone (no
    scenario of its own) shows its facts without the counts of scenarios it did not run."""
    chips = ""
    if scenarios:
        ran = sum(run.count(s) for s in ("passed", "failed", "error"))
        counts = [("ran", ran, ""), *((s, run.count(s), s) for s in STATUSES if s != "error")]
        if run.count("error"):
            counts.append(("error", run.count("error"), "error"))
        chips = "".join(
            f"<span class='count {css}'><b id='count-{name}'>{n}</b>{name}</span>"
            for name, n, css in counts
        )
    duration = f"{run.duration:.1f} s" if run.duration is not None else "-"
    meta = [
        ("kernel", run.kernel),
        ("host", run.host),
        ("duration", duration),
        ("run", run.run_id or "-"),
    ]
    if scenarios:
        meta.append(("scenarios", str(len(run.scenarios))))
    info = "".join(f"<span>{k} <b class='mono' id='meta-{k}'>{esc(v)}</b></span>" for k, v in meta)
    counts_div = f"<div class='counts'>{chips}</div>" if scenarios else ""
    return f"<header><h1>{esc(run.title)}</h1>{counts_div}<div class='meta'>{info}</div></header>"


def _filters(run: RunView) -> str:
    steps = sorted({v.row.step for v in run.scenarios}, key=_step_rank)
    tags = sorted({t for v in run.scenarios for t in v.tags})
    boxes = "".join(
        f"<label><input type='checkbox' name='verdict' value='{s}'> {s}</label>"
        for s in STATUSES
        if run.count(s)
    )
    return (
        "<div class='filters'><b>filter</b>"
        f"{boxes}{_select('f-step', 'every step', steps)}{_select('f-tag', 'every tag', tags)}"
        "<input id='f-text' type='search' placeholder='name, cause, event'>"
        "<span id='cause' class='hidden'>cause <b id='cause-name'></b> "
        "<button class='link' id='cause-clear'>(clear)</button></span>"
        "<span id='shown'></span></div>"
    )


def _select(name: str, everything: str, values: Sequence[str]) -> str:
    options = "".join(f"<option value='{esc(v)}'>{esc(v)}</option>" for v in values)
    return f"<select id='{name}'><option value=''>{everything}</option>{options}</select>"


def _step_rank(step: str) -> tuple[int, str]:
    return (_STEP_ORDER.index(step) if step in _STEP_ORDER else len(_STEP_ORDER), step)


def worst(statuses: Sequence[str]) -> str:
    return min(statuses, key=lambda s: _STATUS_RANK.get(s, 9)) if statuses else "not-run"


# -- the fault matrix -----------------------------------------------------------------------


def _matrix(run: RunView) -> str:
    """Step x cause family; exact-error families grouped at the right with errno chips."""
    views = run.scenarios
    families = sorted({v.family for v in views})
    real = [f for f in families if f not in EXACT_ERROR_KINDS]
    exact = [f for f in families if f in EXACT_ERROR_KINDS]
    cells: dict[tuple[str, str], list[ScenarioView]] = defaultdict(list)
    for view in views:
        cells[(view.row.step, view.family)].append(view)
    head = "<tr><th rowspan='2'>step \\ cause</th>"
    head += f"<th class='group' colspan='{len(real)}'>real causes</th>" if real else ""
    head += f"<th class='group' colspan='{len(exact)}'>exact errors (seccomp)</th>" if exact else ""
    head += "</tr><tr>" + "".join(f"<th>{esc(f)}</th>" for f in real + exact) + "</tr>"
    body = []
    for step in sorted({v.row.step for v in views}, key=_step_rank):
        tds = "".join(_matrix_cell(step, f, cells.get((step, f), [])) for f in real + exact)
        body.append(f"<tr><th class='step'>{esc(step)}</th>{tds}</tr>")
    return (
        "<h2 id='matrix'>Fault matrix</h2><p class='meta'>Rows: the socket step broken; "
        "columns: the cause. A number is how many scenarios, coloured by the worst verdict; "
        "exact errors show one chip per errno. Click a cell to list its scenarios.</p>"
        f"<table class='matrix'>{head}{''.join(body)}</table>"
    )


def _matrix_cell(step: str, family: str, views: list[ScenarioView]) -> str:
    if not views:
        return "<td></td>"
    title = "; ".join(f"{v.status}: {v.row.name}" for v in views)
    attrs = f"data-step='{esc(step)}' data-family='{esc(family)}'"
    if family not in EXACT_ERROR_KINDS:
        css = worst([v.status for v in views]).replace(" ", "-")
        chip = f"<span class='chip {css}'>{len(views)}</span>"
        return f"<td><button class='cell' {attrs} title='{esc(title)}'>{chip}</button></td>"
    by_errno: dict[str, list[ScenarioView]] = defaultdict(list)
    for view in views:
        by_errno[" ".join(view.errnos) or "-"].append(view)
    chips = []
    for errno_name, group in sorted(by_errno.items()):
        css = worst([v.status for v in group]).replace(" ", "-")
        tip = "; ".join(f"{v.status}: {v.row.name}" for v in group)
        count = f" {len(group)}" if len(group) > 1 else ""
        chips.append(
            f"<button class='cell' {attrs} data-errno='{esc(errno_name)}' title='{esc(tip)}'>"
            f"<span class='chip {css}'>{esc(errno_name)}{count}</span></button>"
        )
    return f"<td>{''.join(chips)}</td>"


# -- the scenario list ------------------------------------------------------------------------


def _data(view: ScenarioView) -> str:
    """The attributes the filters read."""
    search = " ".join([view.row.name, view.row.cause, view.row.event, view.row.path]).lower()
    return (
        f"data-verdict='{esc(view.status)}' data-step='{esc(view.row.step)}' "
        f"data-tags='{esc(' '.join(view.tags))}' data-family='{esc(view.family)}' "
        f"data-errnos='{esc(' '.join(view.errnos))}' data-search='{esc(search)}'"
    )


def _list(run: RunView) -> str:
    rows = []
    ordered = sorted(run.scenarios, key=lambda v: (_STATUS_RANK.get(v.status, 9), v.row.name))
    for view in ordered:
        name = esc(view.row.name)
        link = f"<a href='#{view.anchor}'>{name}</a>" if view.verdict else name
        duration = f"{view.row.duration:.2f}s" if view.row.duration is not None else "-"
        rows.append(
            f"<tr {_data(view)}><td><span class='pill {_css(view)}'>{esc(view.status)}</span></td>"
            f"<td class='name'>{link}</td><td>{esc(view.row.step)}</td><td>{esc(view.row.cause)}</td>"
            f"<td>{esc(view.row.event)}</td><td>{duration}</td></tr>"
        )
    return (
        "<h2 id='scenarios'>Scenarios</h2><table class='list'><tr><th>verdict</th><th>scenario</th>"
        "<th>step</th><th>cause</th><th>expected event</th><th>time</th></tr>"
        + "".join(rows)
        + "</table>"
    )


def _css(view: ScenarioView) -> str:
    return view.status.replace(" ", "-")


# -- a panel per scenario ------------------------------------------------------------------


def _panels(run: RunView) -> str:
    views = [v for v in run.scenarios if v.verdict and v.status != "skipped"]
    views.sort(key=lambda v: (_STATUS_RANK.get(v.status, 9), v.row.name))
    if not views:
        return ""
    return "<h2 id='panels'>Scenario details</h2>" + "".join(_panel(v, run.folder) for v in views)


def _panel(view: ScenarioView, base: Path) -> str:
    opened = " open" if view.status in ("failed", "error") else ""
    error = view.verdict.get("error")
    parts = [
        f"<details class='scenario' id='{view.anchor}' {_data(view)}{opened}>",
        f"<summary><span class='pill {_css(view)}'>{esc(view.status)}</span> "
        f"<b>{esc(view.row.name)}</b> <span class='meta mono'>{esc(_short(view.row.path))}</span>"
        "</summary><div class='body'>",
        f"<p class='bad'>error: {esc(error)}</p>" if error else "",
        _expectations(view),
        "<h3>Timeline</h3>",
        svg.timeline(view),
        _events_table(view),
        "<div class='cols'><div>",
        "<h3>Topology</h3>",
        svg.topology(view.spec),
        "</div><div><h3>Evidence</h3>",
        _links(view, base),
        "<h3>Run it again</h3>",
        f"<pre class='cmd'>{esc(rerun_command(view.row))}</pre>",
        "</div></div></div></details>",
    ]
    return "".join(parts)


def _short(path: str) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def _expectations(view: ScenarioView) -> str:
    rows = []
    for window in sorted(view.windows, key=lambda w: w.passed):
        mark = ("ok", "held") if window.passed else ("bad", "FAILED")
        line = f"{_short(view.row.path)}:{window.line}" if window.line else ""
        rows.append(
            f"<tr class='{'' if window.passed else 'bad'}'><td class='{mark[0]}'>{mark[1]}</td>"
            f"<td>{esc(window.description)}<br><span class='meta mono'>{esc(line)}</span></td>"
            f"<td>{esc(window.expected)}</td><td>{esc(window.observed)}</td></tr>"
        )
    faults = "; ".join(view.verdict.get("faults") or []) or "none"
    latency = view.verdict.get("fault_latency_ms")
    extra = f"; first expected event {latency:.1f} ms after the fault" if latency else ""
    return (
        f"<p><b>faults</b>: {esc(faults)}{esc(extra)}</p>"
        "<table class='expect'><tr><th></th><th>expectation</th><th>expected</th>"
        f"<th>observed</th></tr>{''.join(rows)}</table>"
    )


def _events_table(view: ScenarioView) -> str:
    """Everything in time order: the timeline's items and each expectation's window edges."""
    rows: list[tuple[float, int, str]] = []
    for item in view.items:
        css = "fault" if item.lane == "fault" else item.tone
        lane = item.lane
        rows.append(
            (
                item.ms,
                1,
                f"<tr class='{css}' data-lane='{esc(lane)}'>{_ms(item.ms)}"
                f"<td>{esc(lane)}</td><td class='mono'>{esc(item.text)}</td></tr>",
            )
        )
    for window in view.windows:
        if window.start is not None and window.end is not None:
            rows.append(
                (
                    window.start,
                    0,
                    f"<tr class='window' data-lane='expectation'>"
                    f"{_ms(window.start)}<td>expectation</td>"
                    f"<td>window opens: {esc(window.description)}</td></tr>",
                )
            )
            css, word = ("ok", "held") if window.passed else ("bad", "FAILED")
            rows.append(
                (
                    window.end,
                    2,
                    f"<tr class='deadline {css}' data-lane='expectation'>"
                    f"{_ms(window.end)}<td>expectation</td>"
                    f"<td>deadline: {esc(window.description)}: {word}</td></tr>",
                )
            )
    rows.sort(key=lambda r: (r[0], r[1]))
    body = "".join(r[2] for r in rows)
    return (
        "<div class='scroll'><table class='events'><tr><th>ms</th><th>lane</th><th>what</th></tr>"
        f"{body}</table></div>"
    )


def _ms(ms: float) -> str:
    return f"<td class='mono' data-ms='{ms:.3f}'>{ms:+.1f}</td>"


def _links(view: ScenarioView, base: Path) -> str:
    folder = view.folder
    if folder is None:
        return "<p>no artifacts kept</p>"
    names = dict(view.verdict.get("artifacts") or {})
    items = []
    for key, name in sorted(names.items(), key=lambda kv: (kv[0].startswith("pcap"), kv[0])):
        if not (folder / name).exists():
            continue
        label = _LINK_NAMES.get(key, key)
        items.append(f"<li><a href='{esc(_href(folder / name, base))}'>{esc(label)}</a></li>")
    story = folder / "capture.pcapng"
    if story.exists():
        items.append(
            f"<li><a href='{esc(_href(story, base))}'>capture.pcapng</a> (every link, expectations"
            " as packet comments)</li>"
        )
    return f"<ul class='links'>{''.join(items)}</ul>"


def _href(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return path.resolve().as_uri()


# -- skipped ---------------------------------------------------------------------------------


def _skipped(run: RunView) -> str:
    groups: dict[str, list[ScenarioView]] = defaultdict(list)
    for view in run.scenarios:
        if view.status == "skipped":
            groups[skip_reason(view)].append(view)
    if not groups:
        return ""
    parts = [f"<h2 id='skipped'>Skipped ({sum(len(g) for g in groups.values())})</h2>"]
    for reason, views in sorted(groups.items(), key=lambda kv: -len(kv[1])):
        items = "".join(
            f"<li {_data(v)}>{esc(v.row.name)} <span class='meta mono'>{esc(_short(v.row.path))}"
            "</span></li>"
            for v in views
        )
        parts.append(
            f"<div class='skipgroup'><h3>{len(views)} x {esc(reason)}</h3><ul>{items}</ul></div>"
        )
    return "".join(parts)


def skip_reason(view: ScenarioView) -> str:
    """The reason without the scenario's own path (so that equal reasons group together)."""
    text = view.verdict.get("skipped_reason") or view.row.message or "no reason given"
    text = text.removeprefix("Skipped: ")
    prefix = f"{view.row.path}: "
    return text.removeprefix(prefix)


def _section(section: Any) -> str:
    return f"<section id='{esc(section.id)}'><h2>{esc(section.title)}</h2>{section.html}</section>"
