"""``faultlab merge DIR... --out DIR``: the shards' outputs joined into one run's.

Every sharded command (``faultlab explore``, ``compare``, ``run``, ``run --kernel``) leaves a
``shard.json`` (harness.shard.Manifest) in its output before it runs anything: what it was (the
shard, the versions, the scenario and router it ran), the whole plan of cells and its own ones.
The merge reads every ``shard.json`` under the folders it is given and:

1. refuses (exit 2) to join shards of different scenarios, routers, judge versions or faultlab
   versions, or of different shard counts, naming what differs and where (``identity.check``);
2. joins each kind's cells (``explore.py``, ``compare.py``, ``run.py``): a cell seen twice keeps
   the run without a harness error, else the one from the folder named last (a rerun's);
3. writes one explore.json / robustness.json / results.json, one ``junit.xml``, one
   ``report.html`` (each kind a section), one ``summary.md`` (the Markdown a CI's step summary
   takes: ``$GITHUB_STEP_SUMMARY``) and ``merge.json`` (the cells missing or errored);
4. lists the cells that errored or whose shard is missing (planned by the plan every shard
   recorded, run by none), and with ``--rerun`` prints the command that runs just those.

Exit status: 0 every planned cell ran (and no scenario failed); 1 cells are missing or errored,
or a scenario failed; 2 refused, or bad input.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path
from typing import Any

from harness.errors import ExitCode, InputError
from harness.merge.model import Joined, ShardOutput, find_outputs

DEFAULT_OUT = Path("artifacts/merged")
KINDS = ("explore", "compare", "run")


def register(subparsers: Any) -> None:
    """Add ``faultlab merge`` to the CLI (harness.cli EXTENSIONS)."""
    parser = subparsers.add_parser(
        "merge",
        help="join sharded explore/compare/run outputs into one report",
        description=(__doc__ or "").split("\n")[0],
    )
    parser.add_argument("dirs", nargs="+", type=Path, metavar="DIR", help="shard output folders")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the merged run's folder")
    parser.add_argument(
        "--rerun",
        action="store_true",
        help="print the command that runs just the missing and errored cells",
    )
    parser.set_defaults(handler=cmd_merge)


def join(dirs: list[Path], out: Path) -> list[Joined]:
    """Every kind found under ``dirs``, checked and joined (nothing written yet)."""
    from harness.merge import compare, explore, identity, run

    outputs = find_outputs(dirs, out)
    identity.check(outputs)
    joiners = {"explore": explore.join, "compare": compare.join, "run": run.join}
    joined: list[Joined] = []
    for kind in KINDS:
        mine = [output for output in outputs if output.kind == kind]
        if mine:
            joined += joiners[kind](mine, out)
    return joined


def cmd_merge(args: argparse.Namespace) -> int:
    from harness.merge import outputs

    missing_dirs = [str(d) for d in args.dirs if not d.is_dir()]
    if missing_dirs:
        raise InputError(f"no such folder: {', '.join(missing_dirs)}")
    joined = join(list(args.dirs), args.out)
    written = outputs.write(joined, args.out)
    for item in joined:
        print(item.summary_line())
        if item.warning():
            print(f"warning: {item.warning()}")
    for item in joined:
        for cell in item.missing:
            print(f"missing: {item.label}: {cell} (shard {item.owner(cell)})")
        for cell in item.errored:
            print(f"errored: {item.label}: {cell}: {item.errors[cell]}")
    if args.rerun:
        commands = rerun_commands(joined, args.out)
        for argv in commands:
            print(shlex.join(argv))
        if not commands:
            print("# nothing to rerun: every planned cell ran")
    print("wrote " + ", ".join(str(path) for path in written))
    incomplete = any(item.missing or item.errored for item in joined)
    failed = any(item.failed for item in joined)
    return ExitCode.FAILED if incomplete or failed else ExitCode.OK


def rerun_commands(joined: list[Joined], out: Path) -> list[list[str]]:
    """One command per joined group with cells to run again (``--only`` their cells; a list
    of cells that could hold commas goes in a file beside the merged report)."""
    commands = []
    several = sum(bool(item.missing or item.errored) for item in joined) > 1
    for item in joined:
        cells = sorted({*item.missing, *item.errored})
        if not cells:
            continue
        target = Path(f"{out}-rerun") / item.slug if several else Path(f"{out}-rerun")
        commands.append(item.rerun(cells, out, target))
    return commands


__all__ = ["Joined", "ShardOutput", "cmd_merge", "join", "register", "rerun_commands"]
