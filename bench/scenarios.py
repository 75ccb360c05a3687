"""Benchmark of the scenario runner: end to end per scenario, fault -> event, the whole matrix.

    sudo /tmp/venv/bin/python bench/scenarios.py [--runs 15] [--matrix scenarios] [--workers 2]

Figures (medians over ``--runs`` runs, after one warm-up run that pays scapy's import):
- single-fault scenario end to end (mrt-held, before-start; on a kernel without multicast
  routing, where mrt-held is skipped, a create_socket ENOBUFS step error instead, and the
  output says so) and, measured in the same run, the bare lab up + down of the same topology
  (the floor the runner builds on);
- event written by the router -> seen by the harness (the event's own timestamp against the
  harness's clock when it read the line): what inotify following costs;
- fault applied -> its event seen, for a fault applied while the router runs (link-down at
  0.3 s with a 0.1 s query interval: includes waiting for igmpd's next query);
- the whole matrix (every scenario file under ``--matrix``) with ``--workers`` processes: its
  wall time, the median single-fault scenario within it, and the median fault -> event latency
  of the scenarios whose fault is applied while the router runs;
- per fault kind applied at run time (``--kind-runs`` serial runs of every such matrix
  scenario, no other load): fault applied -> its event seen, split into the fault's own apply
  time (the same fault applied and cleared on a bare lab, no router) and the rest (the
  router's reaction and the harness's read).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.artifacts import EVENT_LOG_NAME  # noqa: E402
from harness.faults import FaultContext, make_fault  # noqa: E402
from harness.runner import RunOptions, run  # noqa: E402
from harness.scenario import Scenario  # noqa: E402
from harness.scenario_loader import load, scenario_files  # noqa: E402

TOPOLOGY = """\
topology:
  nodes: [r1, h1, h2]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
    - {a: "r1:e1 10.0.2.1/24", b: "h2:e0 10.0.2.2/24"}
"""
SINGLE_FAULT = f"""\
name: bench mrt-held
{TOPOLOGY}router: {{node: r1, interfaces: [e0, e1], query_interval: 0.5, query_response_interval: 0.2}}
faults: [{{kind: mrt-held}}]
expect:
  events:
    - {{id: 41028, errno: EADDRINUSE, interface: e0, within: 2s}}
    - {{id: 41055, interface: e0, within: 2s}}
  order: [41028, 41055]
"""
# The same shape without multicast routing: the single fault where the kernel has no MRT.
SINGLE_FAULT_NO_MRT = f"""\
name: bench create_socket ENOBUFS
{TOPOLOGY}router: {{node: r1, interfaces: [e0, e1], query_interval: 0.5, query_response_interval: 0.2}}
faults: [{{kind: step-error, step: create_socket, errno: ENOBUFS, nth: 1}}]
expect:
  events:
    - {{id: 41024, errno: ENOBUFS, interface: e0, within: 2s}}
    - {{id: 41055, interface: e0, within: 2s}}
  order: [41024, 41055]
"""
RUNTIME_FAULT = f"""\
name: bench link-down while running
{TOPOLOGY}router: {{node: r1, interfaces: [e0, e1], query_interval: 0.1, query_response_interval: 0.05}}
faults: [{{kind: link-down, interface: e0, when: {{at: 0.3s}}}}]
expect:
  events:
    - {{id: 41019, interface: e0, within: 2s}}
"""


def _ms(values: list[float]) -> str:
    if not values:
        return "n/a"
    return f"median {statistics.median(values) * 1000:.1f} ms (min {min(values) * 1000:.1f}, n={len(values)})"


def _scenario(folder: Path, name: str, text: str):  # noqa: ANN202
    path = folder / name
    path.write_text(text)
    return load(path)


def bare_lab(topology_text: str, runs: int) -> list[float]:
    """Lab up + down of the same topology, no router: the floor under every scenario."""
    import yaml

    from netns import Lab, Topology

    topology = Topology.from_dict(yaml.safe_load(topology_text)["topology"])
    times = []
    for _ in range(runs):
        begun = time.monotonic()
        with Lab(topology):
            pass
        times.append(time.monotonic() - begun)
    return times


def end_to_end(scenario, artifacts: Path, runs: int) -> tuple[list[float], list[float], list]:  # noqa: ANN001
    """Durations of ``runs`` runs, event write -> seen latencies, and the verdicts."""
    durations, write_to_seen, verdicts = [], [], []
    offset = time.time() - time.monotonic()  # monotonic -> wall clock
    for _ in range(runs):
        begun = time.monotonic()
        verdict = run(scenario, RunOptions(artifacts_dir=artifacts, capture=True))
        durations.append(time.monotonic() - begun)
        verdicts.append(verdict)
        write_to_seen += _write_to_seen(verdict, artifacts / scenario.slug, offset)
    return durations, write_to_seen, verdicts


def _write_to_seen(verdict, folder: Path, offset: float) -> list[float]:  # noqa: ANN001
    """Per event: harness read time minus the router's own timestamp (same host clock)."""
    import json

    if not (folder / EVENT_LOG_NAME).is_file():  # skipped, or the router never started
        return []

    seen = [e for e in verdict.to_json()["timeline"] if e["kind"] == "event"]
    written = [json.loads(line) for line in (folder / EVENT_LOG_NAME).read_text().splitlines()]
    started = (verdict.started_at or 0) + offset
    latencies = []
    for entry, record in zip(seen, written, strict=False):
        wall_seen = started + entry["ms"] / 1000
        latencies.append(wall_seen - datetime.fromisoformat(record["time"]).timestamp())
    return latencies


def _run_file(
    path: str, artifacts: str
) -> tuple[str, str, float, float | None, int, bool, str | None]:
    """One matrix scenario: status, duration, fault -> event latency, faults, runtime fault?,
    and why it was skipped (None when it ran)."""
    scenario = load(path)
    folder = Path(artifacts) / Path(path).parent.name
    begun = time.monotonic()
    verdict = run(scenario, RunOptions(artifacts_dir=folder, keep=False))
    runtime = any(f.when.kind != "before-start" for f in scenario.faults)
    return (
        path,
        verdict.status,
        time.monotonic() - begun,
        verdict.fault_latency,
        len(scenario.faults),
        runtime,
        verdict.skipped_reason,
    )


def matrix(folder: Path, workers: int, artifacts: Path) -> None:
    files = scenario_files([folder]) if folder.exists() else []
    if not files:
        print(f"matrix: no scenario files under {folder} yet")
        return
    begun = time.monotonic()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        outcomes = list(pool.map(_run_file, map(str, files), [str(artifacts)] * len(files)))
    wall = time.monotonic() - begun
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome[1]] = counts.get(outcome[1], 0) + 1
    print(f"matrix: {len(files)} scenarios with {workers} workers in {wall:.2f} s ({counts})")
    left_out: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome[1] == "skipped":
            reason = (outcome[6] or "no reason given").split(";")[0]
            left_out.setdefault(reason, []).append(Path(outcome[0]).stem)
    for reason, names in sorted(left_out.items()):
        print(f"  left out here ({len(names)}), not timed: {reason}: {', '.join(sorted(names))}")
    single = [o[2] for o in outcomes if o[4] == 1 and o[1] != "skipped"]
    print(f"matrix single-fault scenarios end to end ({workers} in parallel): {_ms(single)}")
    runtime = [o[3] for o in outcomes if o[5] and o[3] is not None]
    print(f"matrix fault applied at run time -> its event seen: {_ms(runtime)}")
    for path, status, seconds, *_ in sorted(outcomes, key=lambda o: -o[2])[:5]:
        print(f"  slowest: {seconds * 1000:7.0f} ms  {status:7} {path}")


def runtime_kinds(scenario: Scenario) -> list[str]:
    """The kinds of the scenario's faults that are applied while the router runs."""
    return [f.kind for f in scenario.faults if f.when.kind != "before-start"]


def per_kind(folder: Path, runs: int, artifacts: Path) -> None:
    """Fault applied at run time -> its event seen, per fault kind, with the apply time apart."""
    files = scenario_files([folder]) if folder.exists() else []
    chosen = [s for s in map(load, files) if len(runtime_kinds(s)) == 1]
    latencies: dict[str, list[float]] = {}
    statuses: dict[str, set[str]] = {}
    specs: dict[str, tuple[Scenario, dict]] = {}
    for scenario in chosen:
        kind = runtime_kinds(scenario)[0]
        for _ in range(runs):
            verdict = run(scenario, RunOptions(artifacts_dir=artifacts / kind, keep=False))
            statuses.setdefault(kind, set()).add(verdict.status)
            if verdict.fault_latency is not None:
                latencies.setdefault(kind, []).append(verdict.fault_latency)
        spec = next(f for f in scenario.faults if f.kind == kind)
        specs.setdefault(kind, (scenario, {"kind": kind, **spec.params}))
    for kind in sorted(set(statuses) - set(latencies)):
        print(f"  {kind:16} not timed here: its scenarios' statuses {sorted(statuses[kind])}")
    for kind in sorted(latencies):
        scenario, params = specs[kind]
        applies = apply_times(scenario, params, max(5, runs))
        total = statistics.median(latencies[kind])
        apply = statistics.median(applies)
        rest = (
            f"router + read {(total - apply) * 1000:.1f} ms"
            if total >= apply
            else "the event is seen before apply returns (the kernel notifies, then finishes)"
        )
        print(
            f"  {kind:16} fault -> event {_ms(latencies[kind])}; apply alone {_ms(applies)}; "
            f"{rest}; statuses {sorted(statuses[kind])}"
        )


def apply_times(scenario: Scenario, params: dict, runs: int) -> list[float]:
    """Seconds each apply of the fault takes on a bare lab of the scenario's topology."""
    from netns import Lab, Topology

    times = []
    with Lab(Topology.from_dict(dict(scenario.topology.data))) as lab:
        router = scenario.router
        ctx = FaultContext(node=lab.node(router.node), interfaces=router.interface_names, lab=lab)
        for _ in range(runs):
            fault = make_fault(params)
            begun = time.perf_counter()
            fault.apply(ctx)
            times.append(time.perf_counter() - begun)
            fault.clear(ctx)
            fault.close()
    return times


def why_not_here(scenario: Scenario) -> str | None:
    """Why this host skips ``scenario`` (the runner's own check), or None when it runs."""
    from harness import features, requirements

    return features.missing(requirements.features(scenario))


def single_fault(root: Path) -> Scenario:
    """mrt-held where the kernel has multicast routing, else the step-error scenario (said)."""
    single = _scenario(root, "mrt-held.yaml", SINGLE_FAULT)
    reason = why_not_here(single)
    if reason is None:
        return single
    print(f"single-fault scenario: mrt-held is skipped here ({reason.split(';')[0]});")
    print("  timing a create_socket ENOBUFS step error (same topology, before start) instead")
    return _scenario(root, "create-socket.yaml", SINGLE_FAULT_NO_MRT)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument(
        "--matrix", type=Path, default=Path(__file__).resolve().parent.parent / "scenarios"
    )
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--kind-runs", type=int, default=5, help="0 skips the per-kind figures")
    parser.add_argument("--only-kinds", action="store_true", help="the per-kind figures alone")
    args = parser.parse_args()
    if args.only_kinds:
        with tempfile.TemporaryDirectory(prefix="faultlab-bench-") as tmp:
            print(f"fault applied at run time -> event seen, per kind ({args.kind_runs} runs):")
            per_kind(args.matrix, args.kind_runs, Path(tmp))
        return 0
    with tempfile.TemporaryDirectory(prefix="faultlab-bench-") as tmp:
        root = Path(tmp)
        single = single_fault(root)
        warm = time.monotonic()
        first = run(single, RunOptions(artifacts_dir=root / "a"))
        print(
            f"first run (imports scapy): {(time.monotonic() - warm) * 1000:.0f} ms, {first.status}"
        )
        durations, latencies, verdicts = end_to_end(single, root / "a", args.runs)
        print(
            f"single-fault scenario end to end: {_ms(durations)}; statuses {sorted({v.status for v in verdicts})}"
        )
        print(f"bare lab up+down, same topology: {_ms(bare_lab(TOPOLOGY, args.runs))}")
        print(f"event written -> seen by the harness: {_ms(latencies)}")
        runtime = _scenario(root, "link-down.yaml", RUNTIME_FAULT)
        verdicts = [
            run(runtime, RunOptions(artifacts_dir=root / "b"))
            for _ in range(max(3, args.runs // 3))
        ]
        fault_to_event = [v.fault_latency for v in verdicts if v.fault_latency is not None]
        print(
            f"fault applied -> event seen (link-down at run time, next query): {_ms(fault_to_event)}; "
            f"statuses {sorted({v.status for v in verdicts})}"
        )
        if verdicts and not verdicts[-1].passed:
            print(verdicts[-1].explain())
        matrix(args.matrix, args.workers, root / "m")
        if args.kind_runs:
            print(f"fault applied at run time -> event seen, per kind ({args.kind_runs} runs):")
            per_kind(args.matrix, args.kind_runs, root / "k")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
