"""Running written reproductions (``faultlab reproduce --run``): where each can run, its verdict
in one line, and the router's own line that reproduced the field one.

A scenario that needs what this host lacks but a kernel-lab guest has (multicast routing, for
every router but igmpd's packet path) runs in the kernel lab (``faultlab run --kernel``) instead
of being skipped: the kernel given with ``--kernel``, else the first kernel-lab kernel under
/boot that is not the host's. All such scenarios share one guest boot.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from harness.verdict import Verdict

DEFAULT_ARTIFACTS = Path("artifacts")
#: The doctor's features a kernel-lab guest has when this host lacks them.
GUEST_FEATURES: frozenset[str] = frozenset({"mrt"})
#: A record's interpretation: (line as the router wrote it, its section-3 record).
Reproduced = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class RunOutcome:
    """One scenario's run: reproduced (passed) or not, why, where, and its artifacts folder."""

    path: Path
    passed: bool
    summary: str
    where: str
    folder: Path | None = None


def run_reproduction(
    path: Path, artifacts: Path = DEFAULT_ARTIFACTS, slow: float = 1.0
) -> tuple[bool, str]:
    """Run one written scenario here: (reproduced?, why, in one line).

    Reproduced means the scenario passed: the router logged the field line's event with the
    same error at the same step. A skipped scenario (this host lacks a feature) is not
    reproduced.
    """
    outcome = _run_native(path, artifacts, slow)
    return outcome.passed, outcome.summary


def run_all(
    paths: Sequence[Path],
    artifacts: Path = DEFAULT_ARTIFACTS,
    slow: float = 1.0,
    kernel: str | None = None,
    echo: Callable[[str], None] = print,
) -> list[RunOutcome]:
    """Run every scenario where it can run: natively, or in one kernel-lab guest for those that
    need a feature only the guest has (or all of them in ``kernel`` when one is given)."""
    root = Path(artifacts) / time.strftime("reproduce-%Y%m%d-%H%M%S")
    native: list[Path] = []
    guest: list[Path] = []
    for path in paths:
        if kernel is not None:
            (native if kernel == "host" else guest).append(path)
        elif guest_needed(path):
            guest.append(path)
        else:
            native.append(path)
    outcomes = {path: _run_native(path, root, slow) for path in native}
    if guest:
        chosen = kernel or lab_kernel()
        if chosen is None:
            for path in guest:
                outcomes[path] = RunOutcome(
                    path,
                    False,
                    "this host lacks multicast routing and no kernel-lab kernel is installed "
                    "(scripts/install-kernel-lab.sh)",
                    "nowhere",
                )
        else:
            echo(
                f"running {len(guest)} scenario(s) in the kernel lab ({chosen}), under "
                "emulation this takes minutes"
            )
            outcomes.update(_run_guest(guest, chosen, root / "guest", slow))
    return [outcomes[path] for path in paths]


def guest_needed(path: Path) -> bool:
    """Whether the scenario needs a feature this host lacks and a kernel-lab guest has."""
    missing = missing_features(path)
    return bool(missing) and set(missing) <= GUEST_FEATURES


def missing_features(path: Path) -> list[str]:
    """The doctor's features the scenario needs that this host lacks (empty when it can run)."""
    from harness import features, requirements
    from harness import scenario_loader as loader
    from harness.errors import MissingCapability
    from harness.faults import instantiate
    from harness.routers import adapter_for

    scenario = loader.load(path)
    try:
        adapter = adapter_for(scenario.router)
    except MissingCapability:
        return []
    faults = [instantiate(spec) for spec in scenario.faults]
    needed = requirements.features(scenario, adapter, faults)
    return [name for name, _check in features.unmet(needed)]


def lab_kernel() -> str | None:
    """The kernel-lab kernel to use: the first image under /boot that is not the host's."""
    from harness.kernellab.kernels import installed

    host = os.uname().release
    for release, image in installed().items():
        if release != host:
            return str(image)
    return None


def _run_native(path: Path, artifacts: Path, slow: float) -> RunOutcome:
    # Imported here: the faultlab command imports this package to build its parser, and only
    # --run needs the runner (and scapy behind it).
    from harness import runner
    from harness import scenario_loader as scenario

    loaded = scenario.load(path)
    options = runner.RunOptions(artifacts_dir=artifacts, slow=slow, keep=True)
    verdict = runner.run(loaded, options)
    folder = options.folder(loaded)
    return RunOutcome(
        path,
        verdict.passed,
        _verdict_summary(verdict),
        "natively",
        folder if folder.exists() else None,
    )


def _run_guest(
    paths: Sequence[Path], kernel: str, root: Path, slow: float
) -> dict[Path, RunOutcome]:
    """Every scenario in one guest (``faultlab run --kernel``), read back from its verdicts."""
    from harness import scenario_loader as scenario

    argv = [sys.executable, "-m", "harness.cli", "run", "--kernel", kernel, "--no-progress"]
    argv += [str(Path(p).resolve()) for p in paths]
    argv += ["--artifacts", str(root.resolve()), "--keep-artifacts"]
    if slow != 1.0:
        argv += ["--slow", str(slow)]
    code = subprocess.call(argv)
    verdicts = _verdicts(root)
    outcomes = {}
    for path in paths:
        name = scenario.load(path).name
        found = verdicts.get(name)
        if found is None:
            why = f"the kernel lab ran nothing for it (faultlab run --kernel exited {code})"
            outcomes[path] = RunOutcome(path, False, why, f"kernel lab {kernel}")
            continue
        data, folder = found
        where = f"in the kernel lab (kernel {data.get('kernel', kernel)})"
        outcomes[path] = RunOutcome(
            path, bool(data.get("passed")), _json_summary(data), where, folder
        )
    return outcomes


def _verdicts(root: Path) -> dict[str, tuple[dict[str, Any], Path]]:
    found: dict[str, tuple[dict[str, Any], Path]] = {}
    for path in sorted(root.rglob("verdict.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        found[str(data.get("scenario"))] = (data, path.parent)
    return found


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


def _json_summary(data: dict[str, Any]) -> str:
    if data.get("skipped_reason"):
        return f"skipped: {data['skipped_reason']}"
    if data.get("error"):
        return f"error: {data['error']}"
    if data.get("passed"):
        return "passed"
    failed = "; ".join(
        f"{r.get('expected')}, observed {r.get('observed')}"
        for r in data.get("results") or []
        if not r.get("passed")
    )
    return f"failed: {failed}"


def router_lines(folder: Path | None, kind: str) -> list[Reproduced]:
    """The run's router lines that map to events, read with the same mapper as the field log
    (igmpd: its event log's records, with their messages)."""
    from harness.artifacts import EVENT_LOG_NAME, STDERR_NAME, STDOUT_NAME
    from harness.reproduce.routerlogs import line_mapper

    if folder is None:
        return []
    mapper = line_mapper(kind)
    names = (EVENT_LOG_NAME,) if kind == "igmpd" else (STDOUT_NAME, STDERR_NAME)
    found: list[Reproduced] = []
    for name in names:
        path = folder / name
        if not path.is_file():
            continue
        for line in path.read_text(errors="replace").splitlines():
            record = mapper(line)
            if record is not None:
                text = str(record.get("message") or line) if kind == "igmpd" else line.strip()
                found.append((text, record))
    return found
