"""Running a written reproduction (``faultlab reproduce --run``): the scenario's verdict, in one
line."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from harness.verdict import Verdict

DEFAULT_ARTIFACTS = Path("artifacts")


def run_reproduction(
    path: Path, artifacts: Path = DEFAULT_ARTIFACTS, slow: float = 1.0
) -> tuple[bool, str]:
    """Run one written scenario: (reproduced?, why, in one line).

    Reproduced means the scenario passed: igmpd on Linux logged the field event with the same
    error at the same step. A skipped scenario (this host lacks a feature) is not reproduced.
    """
    # Imported here: the faultlab command imports this package to build its parser, and only
    # --run needs the runner (and scapy behind it).
    from harness import runner
    from harness import scenario_loader as scenario

    verdict = runner.run(scenario.load(path), runner.RunOptions(artifacts_dir=artifacts, slow=slow))
    return verdict.passed, _verdict_summary(verdict)


def _verdict_summary(verdict: Verdict) -> str:
    if verdict.skipped:
        return f"skipped: {verdict.skipped_reason}"
    if verdict.error:
        return f"error: {verdict.error}"
    if verdict.passed:
        latency = verdict.fault_latency
        return "passed" + (f", event {latency * 1000:.0f} ms after the fault" if latency else "")
    failed = "; ".join(f"{r.expected}, observed {r.observed}" for r in verdict.failures)
    return f"failed: {failed}"
