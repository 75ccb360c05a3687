"""``faultlab run/doctor/compare --kernel KERNEL``: what the CLI hands off to the kernel lab.

For each kernel, in the order given: ``host`` runs natively in this process (the normal
``faultlab run``), any other kernel in a guest (launcher.py) that runs the same command with the
same options; the outputs land in ``<artifacts>/<release>/`` and are stamped with the release
(stamp.py). With several kernels, the kernel x scenario table (table.py) is written in the
artifacts root, and a line per kernel says how it ran (KVM or emulation, boot time, stretch).

``--junit-xml FILE`` with one kernel writes FILE; with several, FILE-<release>.xml per kernel
(each also in ``<artifacts>/<release>/junit.xml``). The exit code is the worst one: 2 (bad
input) over 3 (a kernel could not run: no guest, nothing runnable) over 1 (a scenario failed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from harness.errors import EnvironmentProblem, ExitCode
from harness.kernellab import launcher, stamp, stretch, table
from harness.kernellab.guest import RESULT_NAME
from harness.kernellab.kernels import Kernel, resolve_all

KERNELS_NAME = "kernels.json"  # per kernel: release, accel, boot time, stretch, exit code
_SEVERITY = [ExitCode.USAGE, ExitCode.ENVIRONMENT, ExitCode.FAILED, ExitCode.OK]
_PYTHON_CLI = [sys.executable, "-m", "harness.cli"]


def add_kernel_option(parser: argparse.ArgumentParser) -> None:
    """``--kernel KERNEL`` (repeatable) on a faultlab subcommand."""
    parser.add_argument(
        "--kernel",
        action="append",
        dest="kernels",
        metavar="KERNEL",
        help="run on this kernel, in a virtme-ng guest: an image path, a release under /boot, "
        "or 'host' (natively); repeat for a kernel x scenario table (docs/kernels.md)",
    )


def worst(codes: list[int]) -> int:
    """The exit code of several kernels' runs: the most severe one (130 when interrupted)."""
    if 130 in codes:
        return 130
    for code in _SEVERITY:
        if code in codes:
            return int(code)
    return int(ExitCode.FAILED) if codes else int(ExitCode.OK)


def _echo_for(release: str):  # type: ignore[no-untyped-def]
    def echo(line: str) -> None:
        print(f"[{release}] {line}", flush=True)

    return echo


def _guest(
    kernel: Kernel,
    argv: list[str],
    dest: Path | None,
    slow: float | None,
    rwdirs: tuple[Path, ...],
    host: stretch.Timing,
) -> tuple[int, dict[str, Any]]:
    """Run ``argv`` (guest.py placeholders allowed) on ``kernel``; its code and its facts."""
    job: dict[str, Any] = {"argv": argv, "slow": slow, "host_timing": host.to_json()}
    if dest is not None:
        dest.mkdir(parents=True, exist_ok=True)
        job["dest"] = str(dest)
    outcome = launcher.run(
        launcher.GuestSpec(kernel, job, rwdirs=(launcher.PROJECT_ROOT, *rwdirs)),
        echo=_echo_for(kernel.release),
    )
    facts: dict[str, Any] = {
        "release": kernel.release,
        "accel": outcome.accel,
        "boot_seconds": round(outcome.boot_seconds, 1),
        "total_seconds": round(outcome.total_seconds, 1),
        "notes": outcome.notes,
    }
    if dest is not None and (dest / RESULT_NAME).is_file():
        facts.update(json.loads((dest / RESULT_NAME).read_text()))
    code = outcome.returncode
    if code not in (0, 1, 2, 3, 130):
        print(
            f"faultlab: the guest on {kernel.release} ended with status {code} (a kernel "
            "panic or a crash); its console's last lines:\n" + "\n".join(outcome.console),
            file=sys.stderr,
        )
        code = int(ExitCode.ENVIRONMENT)
    facts["returncode"] = code
    return code, facts


def _say_facts(facts: dict[str, Any]) -> None:
    how = (
        "natively"
        if facts.get("accel") == "native"
        else (
            f"in a guest under {'KVM' if facts.get('accel') == 'kvm' else 'emulation (TCG)'}, "
            f"booted in {facts.get('boot_seconds')} s, stretch factor {facts.get('stretch', '?')}"
        )
    )
    print(
        f"faultlab: kernel {facts['release']}: exit {facts['returncode']}, {how}, "
        f"{facts.get('seconds', facts.get('total_seconds', 0)):.0f} s",
        flush=True,
    )


# -- faultlab run --kernel ----------------------------------------------------------------------


def forward(
    args: argparse.Namespace,
    values: tuple[tuple[str, str], ...] = (),
    switches: tuple[tuple[str, str], ...] = (),
    paths: tuple[tuple[str, str], ...] = (),
) -> list[str]:
    """The command-line options ``args`` holds, written back for the same command in a guest:
    ``(flag, attribute)`` pairs with a value, on/off switches, and paths (made absolute)."""
    argv: list[str] = []
    for flag, name in values:
        value = getattr(args, name, None)
        if value not in (None, ""):
            argv += [flag, str(value)]
    for flag, name in paths:
        value = getattr(args, name, None)
        if value is not None:
            argv += [flag, str(Path(value).resolve())]
    argv += [flag for flag, name in switches if getattr(args, name, False)]
    for folder in getattr(args, "routers_dir", None) or ():  # router profiles (any command)
        argv += ["--routers-dir", str(Path(folder).resolve())]
    return argv


def _run_options(args: argparse.Namespace) -> list[str]:
    """The options of ``faultlab run`` forwarded to the guest's run (all but the host's paths)."""
    argv = forward(
        args,
        values=(("-n", "workers"), ("-k", "keyword"), ("-m", "markexpr"), ("--only", "only")),
        switches=(
            ("-x", "exitfirst"),
            ("--keep-artifacts", "keep_artifacts"),
            ("--strict", "strict"),
        ),
    )
    for feature in getattr(args, "allow_skip", None) or ():
        argv += ["--allow-skip", feature]
    return argv


def _junit_for(args: argparse.Namespace, release: str, several: bool) -> Path | None:
    if not getattr(args, "junit_xml", None):
        return None
    path = Path(args.junit_xml)
    return path.with_name(f"{path.stem}-{release}{path.suffix}") if several else path


def _run_native(
    args: argparse.Namespace, kernel: Kernel, dest: Path, junit: Path | None
) -> tuple[int, dict[str, Any]]:
    from harness.scenario_loader import suite_paths

    argv = [*_PYTHON_CLI, "run", *suite_paths(args.paths), *_run_options(args)]
    argv += ["--artifacts", str(dest)]
    if junit is not None:
        argv += ["--junit-xml", str(junit)]
    if getattr(args, "slow", None):
        argv += ["--slow", str(args.slow)]
    if getattr(args, "no_progress", False):
        argv.append("--no-progress")
    started = time.monotonic()
    # The same command natively, as in a guest: a process of its own (no call back into the
    # CLI that called us, so the kernel lab and the CLI import each other in one direction).
    code = subprocess.call(argv)
    facts = {
        "release": kernel.release,
        "accel": "native",
        "returncode": code,
        "stretch": 1.0,
        "seconds": time.monotonic() - started,
    }
    return code, facts


def _run_guest(
    args: argparse.Namespace,
    kernel: Kernel,
    dest: Path,
    junit: Path | None,
    host: stretch.Timing,
    root: Path,
) -> tuple[int, dict[str, Any]]:
    from harness.scenario_loader import suite_paths

    paths = [str(Path(path).resolve()) for path in suite_paths(args.paths)]
    argv = [
        *_PYTHON_CLI,
        "run",
        *paths,
        *_run_options(args),
        "--no-progress",
        "--slow",
        "@SLOW@",
        "--artifacts",
        "@OUT@",
    ]
    if junit is not None:
        argv += ["--junit-xml", "@OUT@/junit.xml"]
    code, facts = _guest(kernel, argv, dest, args.slow, (root,), host)
    if junit is not None and (dest / "junit.xml").is_file():
        junit.parent.mkdir(parents=True, exist_ok=True)
        if junit.resolve() != (dest / "junit.xml").resolve():
            shutil.copyfile(dest / "junit.xml", junit)
    return code, facts


def cmd_run(args: argparse.Namespace) -> int:
    """``faultlab run --kernel K [--kernel K ...] [PATH ...]``."""
    from harness.scenario_loader import load_named
    from netns.naming import new_run_id

    scenarios = load_named(args.paths)  # every scenario file checked before anything boots
    kernels = resolve_all(args.kernels)
    root = Path(args.artifacts or Path("artifacts") / new_run_id()).resolve()
    args.only = _deal_cells(args, kernels, scenarios, root)
    several = len(kernels) > 1
    host = stretch.measure() if any(not k.native for k in kernels) else None
    codes, facts, verdicts = [], [], {}
    for kernel in kernels:
        if args.only and not _has_cells(args.only, kernel.release):
            print(f"faultlab: kernel {kernel.release}: no cell in this shard", flush=True)
            continue
        dest, junit = root / kernel.release, _junit_for(args, kernel.release, several)
        try:
            if kernel.native:
                code, fact = _run_native(args, kernel, dest, junit)
            else:
                assert host is not None
                code, fact = _run_guest(args, kernel, dest, junit, host, root)
        except EnvironmentProblem as exc:
            print(f"faultlab: kernel {kernel.release}: {exc}", file=sys.stderr)
            code, fact = int(exc.exit_code), {"release": kernel.release, "error": str(exc)}
            fact["returncode"] = code
        stamp.stamp_run(dest, kernel.release, junit)
        if junit is not None:
            stamp.stamp_junit(dest / "junit.xml", kernel.release)
        codes.append(code)
        facts.append(fact)
        verdicts[kernel.release] = stamp.statuses(dest)
        if "error" not in fact:
            _say_facts(fact)
    (root / KERNELS_NAME).write_text(json.dumps(facts, indent=1, default=str) + "\n")
    if several:
        markdown, page = table.write(verdicts, root)
        print(markdown.read_text(), end="")
        print(f"kernel x scenario table: {page}")
        print(f"report: {table.write_report(verdicts, root)}")
    return worst(codes)


def _has_cells(only: str, release: str) -> bool:
    from harness.shard import only_cells

    cells = only_cells(only) or set()
    return any(c.partition(":")[0] == release or ":" not in c for c in cells)


GUEST_COST = 20.0  # a scenario in an emulated guest costs about this many native ones


def _deal_cells(
    args: argparse.Namespace, kernels: list[Kernel], scenarios: list[Any], root: Path
) -> str | None:
    """The kernel x scenario cells this run takes (``--only``, then ``--shard``'s deal, a
    guest's cell costing GUEST_COST native ones), written as ``<root>/cells.txt`` for each
    kernel's run (``--only @FILE``) and recorded with the whole plan in ``<root>/shard.json``."""
    from harness.shard import only_cells, run_cell, shard_of, write_run_manifest

    cost = {k.release: 1.0 if k.native else GUEST_COST for k in kernels}
    planned = [run_cell(k.release, s.name) for k in kernels for s in scenarios]
    wanted = only_cells(getattr(args, "only", None))
    chosen = planned if wanted is None else [c for c in planned if c in wanted or
                                              c.partition(":")[2] in wanted]  # fmt: skip
    shard = shard_of(args)
    owners: dict[str, str] = {}
    if shard is not None:
        owners = shard.owners(chosen, key=str, cost=lambda c: cost[c.partition(":")[0]])
        chosen = [c for c in chosen if owners[c] == str(shard)]
    specs = {k.release: k.spec for k in kernels}
    write_run_manifest(root, args, scenarios, kernels=specs, mine=chosen, owners=owners)
    if shard is None and wanted is None:
        return None
    root.mkdir(parents=True, exist_ok=True)
    (root / "cells.txt").write_text("".join(f"{c}\n" for c in chosen), encoding="utf-8")
    return f"@{root / 'cells.txt'}"


# -- faultlab doctor --kernel / faultlab compare --kernel ------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    """``faultlab doctor --kernel K``: the doctor's checks inside that kernel's guest (``host``:
    natively, as a process of its own, like every native run of the kernel lab)."""
    codes = []
    paths = [str(Path(path).resolve()) for path in getattr(args, "paths", None) or []]
    argv = [*_PYTHON_CLI, "doctor", *(["--json"] if getattr(args, "json", False) else []), *paths]
    for kernel in resolve_all(args.kernels):
        if kernel.native:
            codes.append(subprocess.call(argv))
            continue
        code, facts = _guest(kernel, argv, None, 1.0, (), stretch.measure())
        print(f"faultlab: doctor on kernel {kernel.release} ({facts['accel']}): exit {code}")
        codes.append(code)
    return worst(codes)


def cmd_compare(args: argparse.Namespace) -> int:
    """``faultlab compare --kernel K``: the routers compared inside that kernel's guest (the
    guest starts in this folder, so compare's default scenarios are the same there)."""
    out = Path(args.out).resolve()
    paths = [str(Path(p).resolve()) for p in args.scenarios or []]
    codes = []
    for kernel in resolve_all(args.kernels):
        dest = out / kernel.release
        if kernel.native:
            argv = [*_PYTHON_CLI, "compare", "--routers", args.routers, "--out", str(dest)]
            argv += [*(["--slow", str(args.slow)] if args.slow else []), *paths]
            argv += [*forward(args, values=(("--shard", "shard"),)), *_only_option(args)]
            codes.append(subprocess.call(argv))
            continue
        argv = [
            *_PYTHON_CLI,
            "compare",
            "--routers",
            args.routers,
            "--out",
            "@OUT@",
            "--slow",
            "@SLOW@",
            *paths,
            *forward(args, values=(("--shard", "shard"),)),
            *_only_option(args),
        ]
        code, facts = _guest(kernel, argv, dest, args.slow, (out,), stretch.measure())
        _say_facts(facts)
        codes.append(code)
    return worst(codes)


# -- faultlab explore --kernel ----------------------------------------------------------------


def _explore_options(args: argparse.Namespace) -> list[str]:
    """The options of ``faultlab explore`` forwarded as they are (paths made absolute)."""
    return forward(
        args,
        values=(
            ("--router", "router"),
            ("--routers", "routers"),
            ("-n", "workers"),
            ("--budget", "budget"),
            ("--only-phase", "only_phase"),
            ("--errnos", "errnos"),
            ("-k", "keyword"),
            ("--shard", "shard"),
        ),
        switches=(("--list", "list"), ("-v", "verbose")),
        paths=(
            ("--baseline", "baseline"),
            ("--write-scenarios", "write_scenarios"),
            ("--sites", "sites"),
        ),
    ) + _only_option(args)


def _only_option(args: argparse.Namespace) -> list[str]:
    """``--only`` forwarded (an ``@FILE`` made absolute for the guest)."""
    only = getattr(args, "only", None)
    if not only:
        return []
    return ["--only", f"@{Path(only[1:]).resolve()}" if only.startswith("@") else only]


def cmd_explore(args: argparse.Namespace) -> int:
    """``faultlab explore --kernel K SCENARIO``: the exploration inside that kernel's guest, so
    that routers which need multicast routing can be explored on a host without it. The guest's
    results land in ``<out>/<release>/`` (the same layout as a native exploration), and a second
    exploration there reuses every finished result (the guest starts from what is already in
    that folder)."""
    out = Path(args.out).resolve()
    scenario = str(Path(args.scenario).resolve())
    writable = tuple(
        Path(p).resolve() for p in (getattr(args, "write_scenarios", None),) if p is not None
    )
    for folder in writable:
        folder.mkdir(parents=True, exist_ok=True)
    codes = []
    for kernel in resolve_all(args.kernels):
        dest = out / kernel.release
        if kernel.native:
            argv = [*_PYTHON_CLI, "explore", scenario, *_explore_options(args), "--out", str(dest)]
            codes.append(subprocess.call([*argv, "--slow", str(args.slow or 1.0)]))
            continue
        argv = [
            *_PYTHON_CLI,
            "explore",
            scenario,
            *_explore_options(args),
            "--out",
            "@OUT@",
            "--slow",
            "@SLOW@",
        ]
        code, facts = _guest(kernel, argv, dest, args.slow, (out, *writable), stretch.measure())
        _say_facts(facts)
        codes.append(code)
    return worst(codes)
