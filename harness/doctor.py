"""``faultlab doctor``: prints what this host lets faultlab do, and what that costs a suite.

The checks themselves live one floor down, in :mod:`harness.features` (the runner, the pytest
plugin and explore read them there); this command runs them, works out which scenarios of a
suite each short feature costs (:class:`SuiteCost`), prints one line per check and a verdict,
and hands ``--kernel`` to the kernel lab.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import ExitCode
from harness.features import SYSCTL_PREFIX, Check, Status, exit_code, run_checks, sysctl_check


@dataclass(frozen=True)
class SuiteCost:
    """What the short features cost a suite: how many of its scenarios can run here, and for
    each feature that is not ``ok``, the scenarios that need it (they will be skipped)."""

    where: str
    total: int
    runnable: int
    by_feature: dict[str, list[str]]


def suite_cost(results: list[Check], scenarios: list, where: str) -> SuiteCost:  # type: ignore[type-arg]
    """Which scenarios each short feature costs (the same features the runner skips by)."""
    from harness import requirements

    by_name = {check.name: check for check in results}
    by_feature: dict[str, list[str]] = {}
    runnable = 0
    for scenario in scenarios:
        short = sorted(
            name for name in requirements.features(scenario) if not _ok_here(name, by_name)
        )
        runnable += not short
        for name in short:
            by_feature.setdefault(name, []).append(_scenario_label(scenario))
    return SuiteCost(where, len(scenarios), runnable, by_feature)


def _ok_here(name: str, by_name: dict[str, Check]) -> bool:
    check = by_name.get(name)
    if check is None and name.startswith(SYSCTL_PREFIX):
        check = by_name[name] = sysctl_check(name.removeprefix(SYSCTL_PREFIX))
    return check is not None and check.status is Status.OK


def _scenario_label(scenario: object) -> str:
    path = Path(str(getattr(scenario, "path", "")))
    return f"{path.parent.name}/{path.stem}" if path.name else str(getattr(scenario, "name", "?"))


def cost_lines(cost: SuiteCost, feature: str, limit: int = 6) -> str | None:
    """``costs 7 of 57 scenarios: a, b, c, ... (+4 more)`` for a short feature, or None."""
    names = cost.by_feature.get(feature)
    if not names:
        return None
    shown = ", ".join(names[:limit]) + (
        f" (+{len(names) - limit} more)" if len(names) > limit else ""
    )
    return f"costs {len(names)} of {cost.total} scenarios: {shown}"


def verdict(results: list[Check], cost: SuiteCost | None = None) -> str:
    """The closing line: can scenarios run here (how many of the suite), and what is short.

    "faultlab can run scenarios" is never said when none of the suite's scenarios could run.
    """
    short = [c.name for c in results if c.status is not Status.OK]
    if any(c.essential and c.status is Status.MISSING for c in results):
        essential = [c.name for c in results if c.essential and c.status is Status.MISSING]
        return f"faultlab cannot run scenarios here: missing {', '.join(essential)}"
    if cost is not None and cost.total and cost.runnable == 0:
        needed = ", ".join(f"{name} ({len(names)})" for name, names in cost.by_feature.items())
        return (
            f"faultlab cannot run any of the {cost.total} scenarios in {cost.where} here: "
            f"they need {needed}"
        )
    if cost is not None and cost.total:
        head = (
            f"faultlab can run {cost.runnable} of the {cost.total} scenarios in {cost.where} here"
        )
        if cost.runnable == cost.total:
            return head.replace(f"{cost.runnable} of the", "all") + (
                f"; not here: {', '.join(short)}" if short else ""
            )
        skipped = ", ".join(f"{name} ({len(names)})" for name, names in cost.by_feature.items())
        return f"{head}; skipped where they need: {skipped}"
    if short:
        return f"faultlab can run scenarios; skipped where they need: {', '.join(short)}"
    return "faultlab can run every scenario here"


def suite_exit_code(results: list[Check], cost: SuiteCost | None) -> ExitCode:
    """exit_code(), and ENVIRONMENT (3) as well when none of the suite's scenarios can run."""
    if cost is not None and cost.total and cost.runnable == 0:
        return ExitCode.ENVIRONMENT
    return exit_code(results)


# --- Output and command line --------------------------------------------------------------

_STYLES = {Status.OK: "green", Status.DEGRADED: "yellow", Status.MISSING: "red"}


def print_report(results: list[Check], stream=None, cost: SuiteCost | None = None) -> None:  # type: ignore[no-untyped-def]
    """One line per check, coloured when the stream is a terminal (with the scenarios a short
    feature costs under it), then the verdict."""
    from rich.console import Console
    from rich.text import Text

    console = Console(file=stream or sys.stdout, soft_wrap=True, highlight=False)
    for check in results:
        console.print(Text(check.line(), style=_STYLES[check.status]))
        extra = cost_lines(cost, check.name) if cost is not None else None
        if extra:
            console.print(Text(" " * 9 + extra, style=_STYLES[check.status]))
    console.print(Text(verdict(results, cost), style="bold"))


def _suite(paths: list[str]) -> tuple[list, str] | None:  # type: ignore[type-arg]
    """The scenarios to count costs for: the paths given, else ./scenarios when it exists."""
    from harness.errors import InputError
    from harness.scenario_loader import load_many

    chosen = paths or (["scenarios"] if Path("scenarios").is_dir() else [])
    if not chosen:
        return None
    missing_paths = [path for path in chosen if not Path(path).exists()]
    if missing_paths:
        raise InputError(f"no such file or directory: {', '.join(missing_paths)}")
    return load_many(chosen), ", ".join(chosen)


def doctor_command(args: argparse.Namespace) -> int:
    """``faultlab doctor [PATH ...]``: probe, print (with what each short feature costs the
    suite), and return the exit code."""
    if getattr(args, "kernels", None):  # --kernel: the same checks in a guest (harness/kernellab)
        from harness.kernellab import commands as kernellab

        return kernellab.cmd_doctor(args)
    started = time.monotonic()
    results = run_checks()
    suite = _suite(list(getattr(args, "paths", None) or []))
    cost = suite_cost(results, *suite) if suite is not None else None
    if getattr(args, "json", False):
        payload: list[dict[str, object]] = []
        for check in results:
            item: dict[str, object] = dict(check.to_json())
            if cost is not None and check.status is not Status.OK:
                item["costs"] = cost.by_feature.get(check.name, [])
            payload.append(item)
        print(json.dumps(payload, indent=2))
    else:
        print_report(results, cost=cost)
        print(f"({time.monotonic() - started:.2f} s)")
    return int(suite_exit_code(results, cost))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the checks as JSON")
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scenario files or directories to say the costs for (default: ./scenarios)",
    )
    from harness.kernellab.commands import add_kernel_option

    add_kernel_option(parser)
    parser.set_defaults(func=doctor_command, handler=doctor_command)


def register(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:  # type: ignore[type-arg]
    """Add the ``doctor`` subcommand to the faultlab CLI; its handler returns the exit code."""
    parser = subparsers.add_parser(
        "doctor",
        help="check what this host lets faultlab do",
        description="Probe every feature faultlab needs; exit 3 when no scenario can run.",
    )
    add_arguments(parser)
    return parser


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.doctor``."""
    parser = argparse.ArgumentParser(prog="faultlab doctor", description=__doc__.split("\n")[0])
    add_arguments(parser)
    return doctor_command(parser.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
