"""The kernel x scenario table: each scenario's verdict on each kernel, differences marked.

Written as ``kernel-matrix.md`` and ``kernel-matrix.html`` in the artifacts root, beside the
per-kernel fault matrices (``<release>/fault-matrix.html``). A row whose verdicts are not all the
same is marked ``differs``: that is the point of running on several kernels (e.g. optmem-max is
per network namespace on 6.18 and not on 6.1). A kernel that did not run a scenario shows ``-``.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path

MARKDOWN_NAME = "kernel-matrix.md"
HTML_NAME = "kernel-matrix.html"
_COLOURS = {"passed": "#d9f2d9", "failed": "#f8d0d0", "error": "#f8d0d0", "skipped": "#fff3c4"}

Verdicts = Mapping[str, Mapping[str, str]]  # kernel release -> scenario name -> status


def scenarios(verdicts: Verdicts) -> list[str]:
    """Every scenario any kernel ran, sorted."""
    return sorted({name for per_kernel in verdicts.values() for name in per_kernel})


def differs(verdicts: Verdicts, name: str) -> bool:
    """True when the scenario's verdict is not the same on every kernel that ran the suite (a
    kernel that could not run at all, e.g. its guest did not boot, says nothing about any
    scenario: it is shown as ``-`` and the exit code tells)."""
    ran = [per_kernel for per_kernel in verdicts.values() if per_kernel]
    return len({per_kernel.get(name, "-") for per_kernel in ran}) > 1


def render_markdown(verdicts: Verdicts) -> str:
    kernels = list(verdicts)
    names = scenarios(verdicts)
    lines = [
        "# Scenario verdicts per kernel",
        "",
        f"{sum(differs(verdicts, n) for n in names)} of {len(names)} scenarios differ "
        f"between kernels ({', '.join(kernels)}).",
        "",
        "| scenario | " + " | ".join(f"`{k}`" for k in kernels) + " | |",
        "|---|" + "---|" * len(kernels) + "---|",
    ]
    for name in names:
        cells = [verdicts[k].get(name, "-") for k in kernels]
        mark = "**differs**" if differs(verdicts, name) else ""
        lines.append(f"| {name.replace('|', '/')} | " + " | ".join(cells) + f" | {mark} |")
    return "\n".join(lines) + "\n"


def render_html(verdicts: Verdicts) -> str:
    kernels = list(verdicts)
    names = scenarios(verdicts)
    head = "".join(f"<th>{html.escape(k)}</th>" for k in kernels)
    rows = []
    for name in names:
        cells = "".join(_cell(verdicts[k].get(name, "-")) for k in kernels)
        mark = "<td class='differs'>differs</td>" if differs(verdicts, name) else "<td></td>"
        css = " class='differs'" if differs(verdicts, name) else ""
        rows.append(f"<tr{css}><th>{html.escape(name)}</th>{cells}{mark}</tr>")
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        "<title>faultlab: scenario verdicts per kernel</title><style>"
        "body{font-family:sans-serif} table{border-collapse:collapse}"
        "th,td{border:1px solid #bbb;padding:4px 8px;text-align:left}"
        "tr.differs th{background:#f8e0b0} td.differs{font-weight:bold}</style></head><body>\n"
        "<h1>Scenario verdicts per kernel</h1>\n"
        f"<p>{sum(differs(verdicts, n) for n in names)} of {len(names)} scenarios differ "
        "between kernels.</p>\n"
        f"<table><tr><th>scenario</th>{head}<th></th></tr>\n"
        + "\n".join(rows)
        + "\n</table>\n</body></html>\n"
    )


def render_fragment(verdicts: Verdicts) -> str:
    """The table alone (no page around it), for a section of the run's report.html, with a
    link to each kernel's own report."""
    kernels = list(verdicts)
    names = scenarios(verdicts)
    head = "".join(
        f"<th><a href='{html.escape(k)}/report.html'>{html.escape(k)}</a></th>" for k in kernels
    )
    rows = []
    for name in names:
        cells = "".join(_cell(verdicts[k].get(name, "-")) for k in kernels)
        mark = "<td class='differs'>differs</td>" if differs(verdicts, name) else "<td></td>"
        rows.append(f"<tr><th>{html.escape(name)}</th>{cells}{mark}</tr>")
    return (
        f"<p>{sum(differs(verdicts, n) for n in names)} of {len(names)} scenarios differ "
        "between kernels.</p>\n"
        f"<table><tr><th>scenario</th>{head}<th></th></tr>\n" + "\n".join(rows) + "\n</table>\n"
    )


def write_report(verdicts: Verdicts, folder: Path) -> Path:
    """The run's report.html at the root of a several-kernel run: the kernel x scenario table
    as a section (harness.htmlreport), each kernel's own report one folder down."""
    from harness import htmlreport

    section = htmlreport.Section(
        "Scenario verdicts per kernel", render_fragment(verdicts), "kernels"
    )
    return htmlreport.write(
        folder / htmlreport.REPORT_NAME,
        [],
        [section],
        title="faultlab run on several kernels",
        kernel=", ".join(verdicts),
    )


def _cell(status: str) -> str:
    colour = _COLOURS.get(status)
    style = f" style='background:{colour}'" if colour else ""
    return f"<td{style}>{html.escape(status)}</td>"


def write(verdicts: Verdicts, folder: Path) -> tuple[Path, Path]:
    """kernel-matrix.md and kernel-matrix.html in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    markdown, page = folder / MARKDOWN_NAME, folder / HTML_NAME
    markdown.write_text(render_markdown(verdicts), encoding="utf-8")
    page.write_text(render_html(verdicts), encoding="utf-8")
    return markdown, page
