"""Shared by the router adapter tests: one scenario, re-targeted at a router kind, run for real."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from harness import compare  # noqa: F401 - registers the adapters of the other routers
from harness.routers import ADAPTERS
from harness.runner import RunOptions, run
from harness.scenario_loader import load
from harness.verdict import Verdict

TOPOLOGY = """
topology:
  nodes: [r1, h1, h2]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
    - {a: "r1:e1 10.0.2.1/24", b: "h2:e0 10.0.2.2/24"}
router:
  kind: KIND
  node: r1
  interfaces: [e0, e1]
  version: 3
  query_interval: 2s
  query_response_interval: 1s
"""


def skip_unless_installed(kind: str) -> None:
    """Skip with the adapter's reason when the router is not installed on this machine."""
    adapter = ADAPTERS[kind]()
    reasons = adapter.requires(load_text_spec(kind))
    if reasons:
        pytest.skip("; ".join(reasons))


def load_text_spec(kind: str):  # noqa: ANN201 - a RouterSpec
    from harness.scenario import RouterSpec

    return RouterSpec(kind=kind, node="r1")


def run_scenario(tmp_path: Path, kind: str, body: str, name: str = "adapter test") -> Verdict:
    """Write ``body`` (faults, traffic, expect) under the shared topology and run it."""
    text = f"name: {kind} {name}\n" + TOPOLOGY.replace("KIND", kind) + textwrap.dedent(body)
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    verdict = run(load(path), RunOptions(artifacts_dir=tmp_path / "artifacts", capture=False))
    if verdict.skipped_reason:
        pytest.skip(verdict.skipped_reason)
    return verdict


def explain(verdict: Verdict) -> str:
    """The failed expectations and the error, for assertion messages."""
    failed = [
        f"{r.description}: expected {r.expected}, observed {r.observed}"
        for r in verdict.results
        if not r.passed
    ]
    return "\n".join([verdict.error or "", *failed])
