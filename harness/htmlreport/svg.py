"""Inline SVG: a scenario's timeline (one lane per source, one time axis) and its topology.

The timeline follows topotato's report: the fault, the router, its events and every link's
packets share one axis in milliseconds from the router's start; each expectation is a band from
where it began to its deadline, green when it held and red when it failed. Every mark carries a
``<title>`` (the line the table below shows), so hovering tells what it is.
"""

from __future__ import annotations

import html
import math
from typing import Any

from harness.htmlreport.model import ScenarioView

esc = html.escape
WIDTH = 1000
LEFT = 90  # the lane labels
LANE = 18
_FIXED_LANES = ("fault", "traffic", "router", "state", "events", "unmapped")
_MARK_CSS = {"traffic": "tr", "router": "st", "state": "st", "events": "mark", "unmapped": "mark"}


def timeline(view: ScenarioView) -> str:
    """The scenario's timeline as an SVG, or a note when nothing was recorded."""
    if not view.items:
        return "<p class='meta'>nothing recorded</p>"
    links = sorted({i.lane for i in view.items if i.lane not in _FIXED_LANES})
    lanes = [lane for lane in _FIXED_LANES if any(i.lane == lane for i in view.items)]
    lanes += links + [_expect_lane(n, w) for n, w in enumerate(view.windows)]
    span = _span(view)
    height = LANE * (len(lanes) + 1) + 8
    parts = [
        f"<svg class='tl' viewBox='0 0 {WIDTH} {height}' role='img' "
        f"aria-label='timeline of {esc(view.row.name)}'>"
    ]
    parts += _axis(span, height)
    for row, lane in enumerate(lanes):
        y = LANE * (row + 1)
        parts.append(f"<text class='lane' x='4' y='{y + 4}'>{esc(lane)}</text>")
    rows = {lane: LANE * (n + 1) for n, lane in enumerate(lanes)}
    parts += _fault_lines(view, span, height)
    parts += _marks(view, span, rows)
    for n, window in enumerate(view.windows):
        parts += _window(window, span, rows[_expect_lane(n, window)])
    parts.append("</svg>")
    return "".join(parts)


def _span(view: ScenarioView) -> tuple[float, float]:
    """The axis: everything recorded, and the deadlines of failed expectations (a held
    expectation's later deadline would only squeeze what happened into a corner)."""
    times = [i.ms for i in view.items]
    times += [w.start for w in view.windows if w.start is not None]
    times += [w.end for w in view.windows if w.end is not None and not w.passed]
    low, high = min(0.0, *times), max(times)
    return low, high if high > low else low + 1


def x_of(ms: float, span: tuple[float, float]) -> float:
    low, high = span
    return round(LEFT + (ms - low) / (high - low) * (WIDTH - LEFT - 10), 1)


def _axis(span: tuple[float, float], height: int) -> list[str]:
    low, high = span
    step = _nice_step((high - low) / 8)
    parts = []
    tick = math.ceil(low / step) * step
    while tick <= high:
        x = x_of(tick, span)
        parts.append(f"<line class='grid' x1='{x}' x2='{x}' y1='4' y2='{height - 12}'/>")
        parts.append(f"<text x='{x}' y='{height - 2}' text-anchor='middle'>{_label(tick)}</text>")
        tick += step
    return parts


def _nice_step(raw: float) -> float:
    power = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _label(ms: float) -> str:
    return f"{ms / 1000:g} s" if abs(ms) >= 1000 else f"{ms:g} ms"


def _fault_lines(view: ScenarioView, span: tuple[float, float], height: int) -> list[str]:
    parts = []
    for item in view.items:
        if item.lane == "fault":
            css = "clear" if item.text.startswith("cleared") else "fault"
            x = x_of(item.ms, span)
            parts.append(
                f"<line class='{css}' x1='{x}' x2='{x}' y1='4' y2='{height - 12}'>"
                f"<title>{item.ms:+.1f} ms {esc(item.text)}</title></line>"
            )
    return parts


def _marks(view: ScenarioView, span: tuple[float, float], rows: dict[str, int]) -> list[str]:
    parts = []
    for item in view.items:
        y = rows[item.lane]
        x = x_of(item.ms, span)
        title = f"<title>{item.ms:+.1f} ms {esc(item.lane)}: {esc(item.text)}</title>"
        if item.lane == "fault":
            css = "st" if item.text.startswith("cleared") else "mark bad"
            parts.append(f"<path class='{css}' d='M{x} {y - 6}l5 6l-5 6l-5 -6z'>{title}</path>")
            continue
        css = _MARK_CSS.get(item.lane, "pkt") + (" bad" if item.tone == "bad" else "")
        parts.append(
            f"<rect class='{css}' x='{x - 1.5}' y='{y - 6}' width='3' height='12'>{title}</rect>"
        )
    return parts


def _expect_lane(index: int, window: Any) -> str:
    """One lane per expectation, named by its line in the scenario file."""
    return f"line {window.line}" if window.line else f"check {index + 1}"


def _window(window: Any, span: tuple[float, float], y: int) -> list[str]:
    """An expectation's band from its start to its deadline, and the deadline's tick."""
    if window.start is None:
        return []
    css = "ok" if window.passed else "bad"
    x1 = x_of(window.start, span)
    x2 = x_of(min(window.end, span[1]), span) if window.end is not None else x1 + 2
    word = "held" if window.passed else "FAILED"
    title = f"<title>{esc(window.description)}: {word}</title>"
    parts = [
        f"<rect class='win {css}' x='{x1}' y='{y - 5}' width='{max(2.0, x2 - x1):.1f}' "
        f"height='10' opacity='0.6'>{title}</rect>"
    ]
    if window.end is not None:
        parts.append(
            f"<line class='dl {css}' x1='{x2}' x2='{x2}' y1='{y - 8}' y2='{y + 8}'>{title}</line>"
        )
    return parts


# -- topology -------------------------------------------------------------------------------


def endpoint(value: Any) -> tuple[str, str, list[str]]:
    """``"r1:e0 10.0.1.1/24"`` or ``{node, ifname, addresses}`` -> (node, ifname, addresses)."""
    if isinstance(value, dict):
        return str(value.get("node")), str(value.get("ifname")), list(value.get("addresses") or [])
    head, *addresses = str(value).split()
    node, _, ifname = head.partition(":")
    return node, ifname, addresses


def fault_hits(spec: dict[str, Any]) -> set[tuple[str, str]]:
    """(node, ifname) each fault hit; ifname "" when it hit the whole node."""
    router = (spec.get("router") or {}).get("node", "")
    hits = set()
    for fault in spec.get("faults") or []:
        params = fault.get("params") or {}
        hits.add((fault.get("node") or router, str(params.get("interface") or "")))
    return hits


def topology(spec: dict[str, Any]) -> str:
    """Nodes as boxes (the router on the left), links with their interface names and
    addresses; the interface (or node) a fault hit drawn in red."""
    data = (spec.get("topology") or {}).get("data") or {}
    router = (spec.get("router") or {}).get("node", "")
    nodes = list(data.get("nodes") or [])
    links = [(endpoint(link.get("a")), endpoint(link.get("b"))) for link in data.get("links") or []]
    for lan in data.get("lans") or []:
        nodes.append(f"[{lan.get('name')}]")
        for member in lan.get("members") or []:
            links.append((endpoint(member), (f"[{lan.get('name')}]", "", [])))
    if not nodes:
        return "<p class='meta'>no topology recorded</p>"
    others = [n for n in nodes if n != router]
    height = max(90, 60 * len(others) + 20)
    where = {router: (70, height / 2)} if router in nodes else {}
    for n, node in enumerate(others):
        where[node] = (400, 40 + 60 * n)
    hits = fault_hits(spec)
    parts = [f"<svg class='topo' width='480' height='{height}' viewBox='0 0 480 {height}'>"]
    for a, b in links:
        parts += _link(a, b, where, hits)
    for node, (x, y) in where.items():
        css = "node router" if node == router else "node"
        css += " hit" if (node, "") in hits else ""
        parts.append(
            f"<rect class='{css}' x='{x - 40}' y='{y - 14}' width='80' height='28' rx='5'/>"
            f"<text x='{x}' y='{y + 4}' text-anchor='middle'>{esc(node)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _link(a: tuple, b: tuple, where: dict, hits: set) -> list[str]:
    if a[0] not in where or b[0] not in where:
        return []
    (ax, ay), (bx, by) = where[a[0]], where[b[0]]
    hit = any((end[0], end[1]) in hits for end in (a, b) if end[1])
    parts = [f"<line class='{'hit' if hit else ''}' x1='{ax}' y1='{ay}' x2='{bx}' y2='{by}'/>"]
    for (node, ifname, addresses), (x, y), (ox, oy) in (
        (a, (ax, ay), (bx, by)),
        (b, (bx, by), (ax, ay)),
    ):
        if not ifname:
            continue
        lx, ly = x + (ox - x) * 0.3, y + (oy - y) * 0.3 + (12 if oy > y else -5)
        css = "hit" if (node, ifname) in hits else ""
        label = f"{ifname} {' '.join(addresses)}".strip()
        parts.append(
            f"<text class='{css}' x='{lx:.0f}' y='{ly:.0f}' text-anchor='middle'>{esc(label)}</text>"
        )
    return parts
