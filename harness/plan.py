"""``faultlab plan``: the CI job matrix of an exploration, a comparison or a kernel run.

    faultlab plan explore SCENARIO --routers igmpd,pimd --kernel host --target 20m
    faultlab plan compare scenarios/compare --kernel 6.1.0-57-amd64 --format gitlab
    faultlab plan run scenarios --kernel host --kernel 6.1.0-57-amd64 --target 10m

The jobs are routers x kernels x shards (compare and run: kernels x shards). Each group's
shard count is its expected cost over the target wall time per job, rounded up (the costs are
the ones ``--shard`` balances by: for explore the router's own timers, from the plan that a
discovery run makes here, or from an earlier ``explore.json`` with ``--from``); the whole
matrix is kept within ``--max-jobs`` (GitHub: 256 jobs a run; GitLab: 200).

``--sites-out FILE`` writes the call sites an explore plan was made from and gives every job
(of the host's kernel, or all with ``--from``) ``--sites FILE``: every shard then plans the same
faults, where shards that each discovered for themselves could number the sites otherwise.

``--format github`` (default) prints ``{"include": [...]}`` for ``fromJSON`` in a job's
``strategy.matrix``; each entry has the job's ``name``, the ``args`` of its faultlab command
(its ``--out`` included), its ``out`` folder and a unique ``artifact`` name. ``--format gitlab``
prints a child pipeline: one job per entry and a ``merge`` job that joins them
(``faultlab merge``), for a parent's ``trigger: include: artifact:``.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import InputError

GUEST_SLOW = 20.0  # a scenario under emulation: about this much slower (docs/kernels.md)
SCENARIO_COST = 3.0  # seconds: one scenario of `faultlab run`, natively
SHARDS_ROOT = "artifacts/shards"
MERGED = "artifacts/merged"


@dataclass(frozen=True)
class Group:
    """Cells that share a command: one router on one kernel (explore), one kernel."""

    command: str
    kernel: str
    router: str | None
    cost: float  # expected seconds of the whole group on one job
    cells: int
    args: tuple[str, ...]  # the command's arguments without --shard and --out

    def name(self) -> str:
        parts = [self.command, self.router or "", _kernel_word(self.kernel)]
        return " ".join(p for p in parts if p)


def _kernel_word(kernel: str) -> str:
    return Path(kernel).name if "/" in kernel else kernel


def parse_duration(text: str, flag: str) -> float:
    found = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h)?\s*", text or "")
    if not found:
        raise InputError(f"{flag} {text!r}: expected a time such as 900s, 20m or 1h")
    return float(found.group(1)) * {"s": 1, "m": 60, "h": 3600, None: 1}[found.group(2)]


def register(subparsers: Any) -> None:
    """Add ``faultlab plan`` to the CLI (harness.cli EXTENSIONS)."""
    parser = subparsers.add_parser(
        "plan",
        help="print the CI job matrix (routers x kernels x shards) for a target time per job",
        description=(__doc__ or "").split("\n")[0],
    )
    parser.add_argument("command_name", choices=("explore", "compare", "run"), metavar="COMMAND",
                        help="explore, compare or run")  # fmt: skip
    parser.add_argument("paths", nargs="*", metavar="PATH", help="the scenario(s), as the command")
    parser.add_argument("--router", help="explore: the router (default: the scenario's)")
    parser.add_argument("--routers", help="comma list of router kinds")
    parser.add_argument("--kernel", action="append", dest="kernels", metavar="KERNEL",
                        help="a kernel (repeatable; default: host)")  # fmt: skip
    parser.add_argument("--target", default="20m", help="wall time per job (default 20m)")
    parser.add_argument("--max-jobs", type=int, default=256, help="at most this many jobs")
    parser.add_argument("-n", "--workers", type=int, default=2, help="explore's workers per job")
    parser.add_argument("--from", dest="source", type=Path,
                        help="explore: an earlier explore.json instead of a discovery run")  # fmt: skip
    parser.add_argument("--sites-out", type=Path,
                        help="explore: write the call sites the plan used to this file, and "
                        "give every job `--sites FILE` (ship the file to the jobs)")  # fmt: skip
    parser.add_argument("--format", choices=("github", "gitlab"), default="github")
    parser.set_defaults(handler=cmd_plan)


def cmd_plan(args: argparse.Namespace) -> int:
    target = parse_duration(args.target, "--target")
    if args.max_jobs < 1:
        raise InputError(f"--max-jobs {args.max_jobs}: at least 1")
    groups = {"explore": explore_groups, "compare": compare_groups, "run": run_groups}[
        args.command_name
    ](args)
    if args.sites_out is not None and args.command_name != "explore":  # CI ships it anyway
        args.sites_out.parent.mkdir(parents=True, exist_ok=True)
        args.sites_out.write_text(json.dumps({"version": 1, "routers": []}) + "\n")
    counts = shard_counts(groups, target, args.max_jobs)
    jobs = matrix(groups, counts)
    if args.format == "gitlab":
        print(gitlab_pipeline(jobs), end="")
    else:
        print(json.dumps({"include": jobs}))
    return 0


def shard_counts(groups: Sequence[Group], target: float, max_jobs: int) -> list[int]:
    """Per group: ceil(cost / target), at least 1, at most its cells; then the largest counts
    lowered until the matrix fits ``max_jobs`` (InputError when even one job a group is too
    many)."""
    if len(groups) > max_jobs:
        raise InputError(f"{len(groups)} groups need more jobs than --max-jobs {max_jobs}")
    counts = [max(1, min(g.cells, math.ceil(g.cost / target))) for g in groups]
    while sum(counts) > max_jobs:
        worst = max(range(len(groups)), key=lambda i: (groups[i].cost / counts[i], -i))
        largest = max(range(len(groups)), key=lambda i: (counts[i], groups[i].cost))
        chosen = largest if counts[worst] == 1 else worst
        counts[chosen] -= 1
    return counts


def matrix(groups: Sequence[Group], counts: Sequence[int]) -> list[dict[str, Any]]:
    """The jobs: one per group and shard, each with its command line and artifact name."""
    jobs = []
    for group, count in zip(groups, counts, strict=True):
        for index in range(1, count + 1):
            slug = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{group.name()}-{index}-of-{count}")
            out = f"{SHARDS_ROOT}/{slug}"
            flag = "--artifacts" if group.command == "run" else "--out"
            argv = [group.command, *group.args]
            if count > 1:
                argv += ["--shard", f"{index}/{count}"]
            argv += [flag, out]
            jobs.append(
                {
                    "name": f"{group.name()} {index}/{count}",
                    "command": group.command,
                    "router": group.router or "",
                    "kernel": group.kernel,
                    "shard": f"{index}/{count}",
                    "args": shlex.join(argv).replace("{out}", out),
                    "out": out,
                    "artifact": f"faultlab-{slug}",
                    "expected_s": round(group.cost / count),
                }
            )
    return jobs


def _kernel_args(kernel: str) -> list[str]:
    """``host`` runs natively without the kernel lab; any other kernel in its guest."""
    return [] if kernel == "host" else ["--kernel", kernel]


def _slow(kernel: str) -> float:
    return 1.0 if kernel == "host" else GUEST_SLOW


def _routers(args: argparse.Namespace, default: list[str]) -> list[str]:
    if args.routers:
        return [name.strip() for name in args.routers.split(",") if name.strip()]
    return [args.router] if args.router else default


def explore_groups(args: argparse.Namespace) -> list[Group]:
    """One group per router and kernel; the cost is the plan's, over explore's workers."""
    from harness.explore.shards import plan_cost
    from harness.explore.timers import Timing

    if len(args.paths) != 1:
        raise InputError("faultlab plan explore: give one scenario file")
    scenario = Path(args.paths[0])
    if not scenario.is_file():
        raise InputError(f"{scenario}: no such scenario file")
    from harness.explore.run import load_base

    routers = _routers(args, [load_base(str(scenario), None).router.kind])
    groups = []
    found: list[dict[str, Any]] = []
    for router in routers:
        sites, faults, baseline = _planned(scenario, router, args.source)
        base = load_base(str(scenario), router)
        entry = {"router": router, "sites": [site.to_json() for site in sites]}
        found.append({**entry, "baseline": baseline} if baseline is not None else entry)
        for kernel in args.kernels or ["host"]:
            slow = _slow(kernel)
            cost = plan_cost(faults, Timing.of(base, slow), slow) / max(1, args.workers)
            argv = [str(scenario), "--router", router, "-n", str(args.workers)]
            if args.sites_out is not None and (args.source is not None or kernel == "host"):
                argv += ["--sites", str(args.sites_out)]  # a guest's kernel may call otherwise
            groups.append(
                Group("explore", kernel, router, cost, len(faults), (*argv, *_kernel_args(kernel)))
            )
    if args.sites_out is not None:
        args.sites_out.parent.mkdir(parents=True, exist_ok=True)
        args.sites_out.write_text(json.dumps({"version": 1, "routers": found}, indent=1) + "\n")
    return groups


def _planned(
    scenario: Path, router: str, source: Path | None
) -> tuple[list[Any], list[Any], dict[str, Any] | None]:
    """The router's call sites, planned faults and healthy-run baseline (what the shards judge
    against; None when the file has none): from ``--from``'s file (an explore.json, a
    shard.json, a ``--sites-out`` file), else a discovery here."""
    from harness.explore.plan import plan

    if source is not None:
        from harness.explore.shards import read_sites

        given = read_sites(source, router)
        if given is None:
            raise InputError(f"--from {source}: no call sites of router {router} in it")
        return given[0], plan(given[0]), given[2]
    import tempfile

    from harness.explore.discover import discover
    from harness.explore.run import load_base

    with tempfile.TemporaryDirectory(prefix="faultlab-plan-") as folder:
        found = discover(load_base(str(scenario), router), Path(folder))
    return found.sites, plan(found.sites), found.baseline.to_json()


def compare_groups(args: argparse.Namespace) -> list[Group]:
    from harness.compare import DEFAULT_SCENARIOS, expected_cost
    from harness.routers import comparable_kinds
    from harness.scenario_loader import load_many

    paths = args.paths or [str(DEFAULT_SCENARIOS)]
    scenarios = load_many(paths)
    if not scenarios:
        raise InputError(f"no scenario found in {', '.join(paths)}")
    routers = _routers(args, list(comparable_kinds()))
    groups = []
    for kernel in args.kernels or ["host"]:
        cost = sum(expected_cost(r, _slow(kernel)) for r in routers) * len(scenarios)
        argv = [*paths, "--routers", ",".join(routers), *_kernel_args(kernel)]
        groups.append(
            Group("compare", kernel, None, cost, len(scenarios) * len(routers), tuple(argv))
        )
    return groups


def run_groups(args: argparse.Namespace) -> list[Group]:
    """One group over every kernel (``run --kernel A --kernel B --shard`` deals their cells)."""
    from harness.scenario_loader import load_named

    scenarios = load_named(args.paths)
    kernels = args.kernels or ["host"]
    cost = sum(SCENARIO_COST * _slow(k) for k in kernels) * len(scenarios)
    kernel_args = [] if kernels == ["host"] else [w for k in kernels for w in ("--kernel", k)]
    argv = [*args.paths, *kernel_args]
    argv += ["--junit-xml", "{out}/junit.xml", "--no-progress"]
    name = "all" if len(kernels) > 1 else kernels[0]
    return [Group("run", name, None, cost, len(scenarios) * len(kernels), tuple(argv))]


# -- GitLab: a child pipeline ------------------------------------------------------------------

GITLAB_HEADER = """\
# A child pipeline written by `faultlab plan --format gitlab` (docs/ci.md): one job per shard,
# then `merge`. Its jobs inherit nothing from the parent: the runner tag, the image and the
# tox environment are set here again; a job given `--sites` takes the file from the parent's
# plan job (the trigger passes PARENT_PIPELINE_ID).
"""


def gitlab_pipeline(jobs: Sequence[dict[str, Any]]) -> str:
    """The child pipeline's YAML text (module docstring)."""
    import yaml

    before = [
        'if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo -n"; fi',
        "python3 -m pip install --quiet --upgrade tox",
        "tox run -e py --notest",
    ]
    pipeline: dict[str, Any] = {
        "stages": ["shards", "merge"],
        "variables": {"FAULTLAB": ".tox/py/bin/faultlab"},
        "default": {
            "image": "python:3.11-bookworm",
            "tags": ["faultlab-privileged"],
            "before_script": before,
        },
    }
    for job in jobs:
        pipeline[job["name"]] = {
            "stage": "shards",
            "script": [f'$SUDO "$FAULTLAB" {job["args"]}'],
            "after_script": [_CHOWN],
            "artifacts": {"when": "always", "name": job["artifact"], "paths": [job["out"]]},
        }
        if " --sites " in f" {job['args']} ":  # the parent's plan job has the sites file
            pipeline[job["name"]]["needs"] = [{"pipeline": "$PARENT_PIPELINE_ID", "job": "plan"}]
    pipeline["merge"] = {
        "stage": "merge",
        "when": "always",
        "script": [f'"$FAULTLAB" merge {SHARDS_ROOT}/* --out {MERGED} --rerun'],
        "artifacts": {
            "when": "always",
            "paths": [MERGED],
            "reports": {"junit": f"{MERGED}/junit.xml"},
        },
    }
    return GITLAB_HEADER + yaml.safe_dump(pipeline, sort_keys=False, width=100)


_CHOWN = 'if [ "$(id -u)" != 0 ]; then sudo -n chown -R "$(id -u):$(id -g)" artifacts || true; fi'
