"""Naming the kernel release in a run's outputs: verdicts, JUnit, fault matrix, summary.

A verdict without its kernel is ambiguous once the same suite runs on several kernels, so every
file a run leaves in its artifacts folder says which release it ran on: ``results.json`` rows
get a ``kernel`` key, the fault matrix and the Markdown summary a ``kernel:`` line, and each
JUnit ``testsuite`` a ``kernel`` property (what CI dashboards show per suite). Stamping twice
changes nothing.
"""

from __future__ import annotations

import html
import json
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from harness.artifacts import MATRIX_NAME, RESULTS_NAME, SUMMARY_NAME

KERNEL_KEY = "kernel"


def stamp_results(path: Path, release: str) -> None:
    """``kernel: release`` on every row of results.json."""
    if not path.is_file():
        return
    rows = json.loads(path.read_text(encoding="utf-8"))
    for row in rows:
        row[KERNEL_KEY] = release
    path.write_text(json.dumps(rows, indent=2) + "\n", encoding="utf-8")


def stamp_matrix(path: Path, release: str) -> None:
    """A ``kernel: release`` line under the fault matrix's heading, and in its title."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    line = f"<p class='kernel'>kernel: {html.escape(release)}</p>"
    if line in text:
        return
    text = text.replace("</h1>\n", f"</h1>\n{line}\n", 1)
    text = text.replace("</title>", f" (kernel {html.escape(release)})</title>", 1)
    path.write_text(text, encoding="utf-8")


def stamp_summary(path: Path, release: str) -> None:
    """A ``kernel: release`` line at the top of the Markdown summary."""
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    line = f"kernel: `{release}`\n\n"
    if not text.startswith(line):
        path.write_text(line + text, encoding="utf-8")


def stamp_junit(path: Path, release: str) -> None:
    """A ``kernel`` property on every testsuite of a JUnit XML report."""
    if not path.is_file():
        return
    tree = ElementTree.parse(path)
    root = tree.getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    for suite in suites:
        properties = suite.find("properties")
        if properties is None:
            properties = ElementTree.Element("properties")
            suite.insert(0, properties)
        if not any(p.get("name") == KERNEL_KEY for p in properties.findall("property")):
            ElementTree.SubElement(properties, "property", name=KERNEL_KEY, value=release)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def stamp_run(folder: Path, release: str, junit: Path | None = None) -> None:
    """Stamp every output of one run in ``folder`` (and its JUnit file, wherever it is)."""
    stamp_results(folder / RESULTS_NAME, release)
    stamp_matrix(folder / MATRIX_NAME, release)
    stamp_summary(folder / SUMMARY_NAME, release)
    if junit is not None:
        stamp_junit(junit, release)


def statuses(folder: Path) -> dict[str, str]:
    """Scenario name -> status, from a run's results.json (empty when it has none)."""
    path = folder / RESULTS_NAME
    if not path.is_file():
        return {}
    return {row["name"]: row.get("status") or "-" for row in json.loads(path.read_text())}
