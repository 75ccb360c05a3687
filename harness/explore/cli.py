"""``faultlab explore SCENARIO``: discover a router's socket calls, break each, judge, report.

    faultlab explore tests/explore/data/igmpd.yaml                 # igmpd, every site, 2 workers
    faultlab explore SCENARIO --list                               # the call sites, then stop
    faultlab explore SCENARIO --routers igmpd,pimd --budget 40     # side by side, 40 faults each
    faultlab explore SCENARIO --only-phase steady --errnos EINTR,ENOBUFS -k sendto
    faultlab explore SCENARIO --baseline old/explore.json --write-scenarios pinned/
    faultlab explore SCENARIO --router pimd --kernel /boot/vmlinuz-6.1.0-57-amd64  # in a guest

Exit status: 0 done; 1 ``--baseline`` found a regression; 2 bad input; 3 nothing could run.
"""

from __future__ import annotations

import argparse
import re
import time
from pathlib import Path
from typing import Any

from harness.errors import InputError, MissingCapability

DEFAULT_OUT = Path("artifacts/explore")
PHASES = ("start-up", "steady")


def register(subparsers: Any) -> None:
    """Add ``faultlab explore`` to the CLI (harness.cli EXTENSIONS)."""
    parser = subparsers.add_parser(
        "explore",
        help="find every socket call of a router, fail each with each errno it can get",
        description=(__doc__ or "").split("\n")[0],
    )
    parser.add_argument("scenario", type=Path, help="a healthy scenario file (no fault needed)")
    parser.add_argument("--router", help="router kind to explore (default: the scenario's)")
    parser.add_argument("--routers", help="comma list of router kinds, side by side")
    parser.add_argument("--list", action="store_true", help="list the call sites and stop")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="reports and artifacts")
    parser.add_argument("-n", "--workers", type=int, default=2, help="parallel runs (default 2)")
    parser.add_argument("--budget", help="at most N faults per router, or a time (90s, 10m)")
    parser.add_argument("--only-phase", choices=PHASES, help="only start-up or steady sites")
    parser.add_argument("--errnos", help="comma list of errno names, or 'all' (caller bugs too)")
    parser.add_argument(
        "-k",
        dest="keyword",
        help="call sites whose key contains (or globs) a term of this comma list; 'not TERM' "
        "leaves sites out (-k 'MEMBERSHIP,sendto' or -k 'not AF_UNIX,not AF_NETLINK')",
    )
    parser.add_argument("--baseline", type=Path, help="an earlier explore.json to diff against")
    parser.add_argument("--write-scenarios", type=Path, help="write each finding as a scenario")
    parser.add_argument("--slow", type=float, default=1.0, help="stretch every window")
    parser.add_argument("-v", "--verbose", action="store_true", help="every recorded call too")
    parser.add_argument(
        "--only",
        help="only these fault ids (comma list, or @FILE): what `faultlab merge --rerun` prints",
    )
    parser.add_argument(
        "--sites",
        type=Path,
        help="the call sites of an earlier discovery (`faultlab plan "
        "--sites-out`, a shard.json or an explore.json) instead of discovering them again",
    )
    from harness.shard import add_shard_options

    add_shard_options(parser, "the planned faults")
    from harness.kernellab.commands import add_kernel_option

    add_kernel_option(parser)
    parser.set_defaults(handler=cmd_explore)


def parse_budget(text: str | None) -> tuple[int | None, float | None]:
    """``40`` -> 40 faults; ``90s``, ``10m``, ``1h`` -> a time budget in seconds."""
    if not text:
        return None, None
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text)
    if not found:
        raise InputError(f"--budget {text!r}: give a number of faults (40) or a time (90s, 10m)")
    value, unit = float(found.group(1)), found.group(2)
    if unit is None:
        return int(value), None
    return None, value * {"s": 1, "m": 60, "h": 3600}[unit]


def routers_of(args: argparse.Namespace, scenario: Any) -> list[str]:
    if args.routers:
        return [name.strip() for name in args.routers.split(",") if name.strip()]
    return [args.router or scenario.router.kind]


def cmd_explore(args: argparse.Namespace) -> int:
    from harness.explore import report
    from harness.explore.plan import Selection
    from harness.scenario_loader import load

    if not args.scenario.is_file():
        raise InputError(f"{args.scenario}: no such scenario file")
    base = load(args.scenario)
    from harness.shard import shard_of

    shard_of(args)  # a bad --shard is said before anything runs (and forwarded as I/N)
    if getattr(args, "kernels", None):  # --kernel: inside a guest per kernel (harness/kernellab)
        from harness.kernellab import commands as kernellab

        parse_budget(args.budget)  # bad input is said before anything boots
        return kernellab.cmd_explore(args)
    count, seconds = parse_budget(args.budget)
    selection = Selection(args.only_phase, args.errnos, args.keyword, count)
    selection.wanted_errnos()  # a misspelt errno is an input error before anything runs
    explorations = [
        explore_router(args, router, selection, seconds) for router in routers_of(args, base)
    ]
    if args.list:
        return 0 if any(not e.skipped for e in explorations) else 3
    paths = report.write(args.out, str(args.scenario), explorations)
    for e in explorations:
        print(report.summary_line(e))
    print("wrote " + ", ".join(str(p) for p in paths))
    if args.write_scenarios:
        _write_findings(args, explorations)
    if all(e.skipped for e in explorations):
        return 3
    return _baseline(args, explorations) if args.baseline else 0


def explore_router(
    args: argparse.Namespace, router: str, selection: Any, seconds: float | None
) -> Any:
    """Discover, plan and (unless --list) run one router's faults."""
    from harness.explore import report, shards
    from harness.explore.discover import describe_call, discover
    from harness.explore.plan import plan
    from harness.explore.run import Batch, load_base, run_all

    begun = time.monotonic()
    base = load_base(str(args.scenario), router)
    label = base.router.label
    result = report.RouterExploration(label, kind=router)
    folder = args.out / label
    try:
        found = shards.given_sites(args, router)
        if found is None or not found.measured:
            discovered = discover(base, folder / "discovery", args.slow)
            found = discovered if found is None else found.with_baseline(discovered.baseline)
    except MissingCapability as exc:
        result.skipped = str(exc)
        print(f"{label}: skipped: {exc}")
        return result
    result.calls, result.sites, result.baseline = len(found.calls), found.sites, found.baseline
    print(f"{label}: healthy run: {found.baseline.describe()}", flush=True)
    planned = plan(found.sites, selection)
    result.faults = shards.select(planned, base, args)  # --only, --shard
    if args.list:
        _print_sites(router, found, result.faults, args.verbose, describe_call)
        return result
    shards.write_manifest(folder, args, base, router, found, planned, result.faults)
    batch = Batch(
        base, router, result.faults, folder, args.workers, args.slow, seconds, found.baseline
    )
    total = len(result.faults)

    def progress(obs: Any, reused: bool) -> None:
        done = len(result.observations) + 1
        result.observations.append(obs)
        how = "reused" if reused else f"{obs.duration:.1f}s"
        print(f"[{done}/{total}] {label} {obs.site} {obs.errno}: {obs.outcome} ({how})", flush=True)

    run_all(batch, progress)
    order = {f.id: i for i, f in enumerate(result.faults)}
    result.observations.sort(key=lambda o: order.get(o.fault, 0))
    result.wall = time.monotonic() - begun
    return result


def _print_sites(router: str, found: Any, faults: list[Any], verbose: bool, line: Any) -> None:
    per_site: dict[str, list[str]] = {}
    for fault in faults:
        per_site.setdefault(fault.site.key, []).append(fault.errno)
    print(f"{router}: {len(found.calls)} calls recorded, {len(found.sites)} call sites")
    for site in found.sites:
        errnos = ", ".join(per_site.get(site.key, [])) or "(not selected)"
        print(f"  {site.key}: {errnos}")
    if verbose:
        for call in found.calls:
            print(f"    {(call.at - found.started_at) * 1000:8.1f} ms  {line(call)}")
    print(f"{router}: {len(faults)} faults planned")


def _write_findings(args: argparse.Namespace, explorations: list[Any]) -> None:
    from harness.explore import report
    from harness.explore.run import Peers, load_base

    for e in explorations:
        if e.skipped:
            continue
        base = load_base(str(args.scenario), e.kind)
        peers = {k: f"{n}:{i}" for k, (n, i) in Peers.of(base).peer.items()}
        written = report.write_scenarios(args.write_scenarios, base, e, peers)
        print(f"{e.router}: {len(written)} finding(s) written to {args.write_scenarios}")


def _baseline(args: argparse.Namespace, explorations: list[Any]) -> int:
    import json

    from harness.explore import report

    try:
        before = json.loads(args.baseline.read_text())
    except (OSError, ValueError) as exc:
        raise InputError(f"--baseline {args.baseline}: {exc}") from exc
    changes = report.diff(before, report.to_json(str(args.scenario), explorations))
    for change in changes:
        print(change.describe())
    regressions = [c for c in changes if c.regression]
    print(f"baseline {args.baseline}: {len(changes)} changed, {len(regressions)} regression(s)")
    return 1 if regressions else 0
