"""The ``faultlab`` command: run, validate, list, catalog, shell, sweep, schema (and others' commands).

One error boundary (``main``) turns harness.errors into exit codes (harness.errors.ExitCode):
0 every scenario passed; 1 a scenario failed; 2 bad input or usage; 3 this host cannot run
scenarios. Expected errors print one line (a scenario file's problems one line each) on stderr;
unexpected ones keep their traceback. ``faultlab run`` is pytest underneath (the faultlab plugin),
so ``-n`` (pytest-xdist), ``--junit-xml``, ``-k`` and ``-x`` behave as in pytest; it adds a progress
bar, a summary table, and the fault-matrix and Markdown reports in the artifacts folder.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness import catalog
from harness.errors import (
    EnvironmentProblem,
    ExitCode,
    FaultlabError,
    HarnessBug,
    InputError,
    ScenarioError,
)
from netns.naming import new_run_id

# Other engineers' subcommands: each module has register(subparsers), handlers set ``handler``.
EXTENSIONS = (
    "harness.doctor",
    "harness.reproduce.cli",
    "harness.compare",
    "harness.explore.cli",
    "harness.merge",
    "harness.plan",
)


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as InputError (exit 2 through the one boundary)."""

    def error(self, message: str) -> Any:  # type: ignore[override]
        raise InputError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="faultlab", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    _run_parser(commands)
    _validate_parser(commands)
    _list_parser(commands)
    _catalog_parser(commands)
    _shell_parser(commands)
    _sweep_parser(commands)
    _schema_parser(commands)
    _profile_parser(commands)
    for module_name in EXTENSIONS:  # in-tree: one that fails to import fails the command
        importlib.import_module(module_name).register(commands)
    _routers_dir_option(commands)
    return parser


#: The commands that load scenarios, and so may find router profiles in --routers-dir.
ROUTERS_DIR_COMMANDS = ("run", "validate", "explore", "compare", "reproduce")


def _routers_dir_option(commands: Any) -> None:
    """``--routers-dir DIR`` (repeatable) on every command that loads scenarios: folders of
    router profiles a scenario's ``kind:`` is looked up in first (docs/your-router.md)."""
    for name in ROUTERS_DIR_COMMANDS:
        sub = commands.choices.get(name)
        if sub is not None:
            sub.add_argument(
                "--routers-dir",
                action="append",
                default=[],
                metavar="DIR",
                help="a folder of router profiles (NAME.yaml) for router kind: NAME; repeatable",
            )


def _use_routers_dirs(folders: Sequence[str]) -> None:
    """Put --routers-dir on the profile path of this process and its children (pytest-xdist
    workers, the kernel lab's guest)."""
    from harness.routers.profile_path import ROUTERS_DIR_ENV

    missing = [folder for folder in folders if not Path(folder).is_dir()]
    if missing:
        raise InputError(f"--routers-dir: no such folder: {', '.join(missing)}")
    known = [part for part in os.environ.get(ROUTERS_DIR_ENV, "").split(os.pathsep) if part]
    chosen = [str(Path(folder).resolve()) for folder in folders]
    os.environ[ROUTERS_DIR_ENV] = os.pathsep.join(dict.fromkeys([*chosen, *known]))


def _profile_parser(commands: Any) -> None:
    profile = commands.add_parser(
        "profile", help="router profiles: check one against a log (docs/your-router.md)"
    )
    actions = profile.add_subparsers(dest="profile_command", metavar="ACTION", parser_class=_Parser)
    actions.required = True
    check = actions.add_parser(
        "check",
        help="every log line with the pattern that mapped it; error lines nothing maps",
        description="Map every line of LOGFILE (or of the profile's examples:) and list the "
        "error-looking lines no pattern maps; exit 1 when there are some, 2 on a bad profile.",
    )
    check.add_argument("profile", metavar="PROFILE", help="a profile file, or a router kind")
    check.add_argument("logfile", nargs="?", metavar="LOGFILE", help="a log of the router")
    check.set_defaults(handler=cmd_profile_check)


def cmd_profile_check(args: argparse.Namespace) -> int:
    from harness.routers.profile_check import cmd_check

    return cmd_check(args.profile, args.logfile)


def _paths(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="scenario files or directories (default: ./scenarios)",
    )


def _run_parser(commands: Any) -> None:
    run = commands.add_parser(
        "run",
        help="run scenarios",
        description="Run scenarios; exit 0 "
        "when all pass, 1 when one fails, 2 on bad input, 3 when this host "
        "cannot run scenarios.",
    )
    _paths(run)
    run.add_argument(
        "-n",
        "--workers",
        default=None,
        metavar="N",
        help="parallel workers (pytest-xdist), or 'auto'",
    )
    run.add_argument("--junit-xml", metavar="FILE", help="write a JUnit XML report")
    from harness.shard import add_shard_options

    add_shard_options(run, "a suite, or with --kernel its kernel x scenario cells,")
    run.add_argument(
        "--only",
        metavar="NAMES",
        help="only these scenarios (comma list of names, or @FILE one a line; RELEASE:NAME "
        "for one kernel): what `faultlab merge --rerun` prints",
    )
    run.add_argument(
        "--slow", type=float, metavar="FACTOR", help="stretch every deadline by FACTOR"
    )
    run.add_argument(
        "--artifacts", metavar="DIR", help="artifacts root (default ./artifacts/<run-id>)"
    )
    run.add_argument(
        "--keep-artifacts", action="store_true", help="keep the artifacts of passed scenarios too"
    )
    run.add_argument(
        "-k", metavar="EXPRESSION", dest="keyword", help="only scenarios matching (as pytest -k)"
    )
    run.add_argument(
        "-m",
        metavar="MARKEXPR",
        dest="markexpr",
        help="only scenarios with these tags (as pytest -m)",
    )
    run.add_argument("-x", "--exitfirst", action="store_true", help="stop at the first failure")
    run.add_argument(
        "--strict",
        action="store_true",
        help="a skipped scenario is a failure (exit 1): for CI lanes that must cover everything",
    )
    run.add_argument(
        "--allow-skip",
        action="append",
        default=[],
        metavar="FEATURE",
        help="with --strict: a skip for this missing feature only (the doctor's name, e.g. "
        "sysctl:net.core.optmem_max) stays a skip; repeatable",
    )
    run.add_argument("--no-progress", action="store_true", help="no progress bar")
    from harness.kernellab.commands import add_kernel_option

    add_kernel_option(run)
    run.set_defaults(handler=cmd_run)


def _validate_parser(commands: Any) -> None:
    validate = commands.add_parser(
        "validate", help="check scenario files (file:line:column: message; exit 2)"
    )
    _paths(validate)
    validate.set_defaults(handler=cmd_validate)


def _list_parser(commands: Any) -> None:
    listing = commands.add_parser(
        "list", help="scenarios with their step, cause and expected event"
    )
    _paths(listing)
    listing.add_argument("--faults", action="store_true", help="list the fault kinds instead")
    listing.set_defaults(handler=cmd_list)


def _catalog_parser(commands: Any) -> None:
    catalog_parser = commands.add_parser(
        "catalog", help="the events: id, symbol, level, step, message"
    )
    catalog_parser.add_argument(
        "--errno", action="store_true", help="the errno/Winsock table instead"
    )
    catalog_parser.set_defaults(handler=cmd_catalog)


def _shell_parser(commands: Any) -> None:
    shell = commands.add_parser(
        "shell",
        help="build a scenario, start the router, apply the faults, "
        "open a shell in the router's namespace (all removed on exit)",
    )
    shell.add_argument("scenario", metavar="SCENARIO", help="a scenario file")
    shell.add_argument(
        "--command", "-c", metavar="CMD", help="run CMD instead of an interactive shell"
    )
    shell.set_defaults(handler=cmd_shell)


def _sweep_parser(commands: Any) -> None:
    sweep = commands.add_parser(
        "sweep", help="remove what dead runs left behind (never a live run's)"
    )
    sweep.set_defaults(handler=cmd_sweep)


def _schema_parser(commands: Any) -> None:
    schema = commands.add_parser("schema", help="print the scenario JSON Schema (for editors)")
    schema.add_argument("--write", action="store_true", help="refresh harness/schema.json")
    schema.set_defaults(handler=cmd_schema)


# --------------------------------------------------------------------------------------------
# validate, list, catalog, schema, sweep
# --------------------------------------------------------------------------------------------


def suite_paths(paths: Sequence[str]) -> list[str]:
    """harness.scenario_loader.suite_paths, imported when needed (the CLI starts light)."""
    from harness.scenario_loader import suite_paths as chosen

    return chosen(paths)


def load_suite(paths: Sequence[str]) -> list[Any]:
    """harness.scenario_loader.load_named, imported when needed (the CLI starts light)."""
    from harness.scenario_loader import load_named

    return load_named(paths)


def cmd_validate(args: argparse.Namespace) -> int:
    scenarios = load_suite(args.paths)
    print(f"{len(scenarios)} scenario file(s) valid")
    return ExitCode.OK


def cmd_list(args: argparse.Namespace) -> int:
    if args.faults:
        return _list_faults()
    from harness.report import describe

    rows = [describe(scenario) for scenario in load_suite(args.paths)]
    _print_columns(
        ["scenario", "file", "fault", "step", "expected event", "cause"],
        [[row.name, row.path, row.cause, row.step, row.event, row.cause_text] for row in rows],
    )
    return ExitCode.OK


def _list_faults() -> int:
    from harness.report import fault_classes

    classes = fault_classes()
    from harness.report import fault_steps

    table = []
    for kind, fault_class in sorted(classes.items()):
        steps = ", ".join(fault_steps(kind)) or "-"
        summary = fault_class.summary or (fault_class.__doc__ or "").strip().split("\n")[0]
        table.append([kind, fault_class.mechanism, steps, summary])
    _print_columns(["kind", "mechanism", "steps", "what it does"], table)
    return ExitCode.OK


def cmd_catalog(args: argparse.Namespace) -> int:
    if args.errno:
        rows = [
            [name, str(catalog.errno_number(name)), str(code)]
            for name, code in catalog.WINSOCK.items()
        ]
        _print_columns(["errno", "linux", "winsock"], rows)
        return ExitCode.OK
    rows = [
        [
            str(event.id),
            event.symbol,
            event.level.value,
            event.step.value if event.step else "-",
            event.template,
        ]
        for event in sorted(catalog.EVENTS, key=lambda event: event.id)
    ]
    _print_columns(["id", "symbol", "level", "step", "message"], rows)
    return ExitCode.OK


def cmd_schema(args: argparse.Namespace) -> int:
    from harness import schema

    return schema.main(["--write"] if args.write else [])


def cmd_sweep(args: argparse.Namespace) -> int:
    from harness.kernellab.launcher import sweep_folders
    from netns import sweep

    report = sweep()
    for folder in sweep_folders():  # a kernel-lab guard killed by SIGKILL left its folder
        print(f"removed kernel-lab folder: {folder}")
    for label, items in (
        ("removed namespace", report.removed_namespaces),
        ("killed pid", report.killed_pids),
        ("removed link", report.removed_links),
        ("removed run record", report.removed_records),
        ("left alone (live run)", report.live_runs),
    ):
        for item in items:
            print(f"{label}: {item}")
    if not report:
        print("nothing to sweep")
    for error in report.errors:
        print(f"error: {error}", file=sys.stderr)
    return ExitCode.FAILED if report.errors else ExitCode.OK


def _print_columns(header: list[str], rows: list[list[str]]) -> None:
    """Plain aligned columns (greppable; the last column is not padded)."""
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        print("  ".join([*cells, str(row[-1])]).rstrip())


# --------------------------------------------------------------------------------------------
# run and shell
# --------------------------------------------------------------------------------------------


def check_environment() -> str:
    """Fail with EnvironmentProblem (exit 3) before anything is built when no lab can run here.

    Returns the mode: ``root``, or ``rootless`` (the process entered its own user namespace).
    """
    if not Path("/proc/self/ns/net").exists():
        raise EnvironmentProblem(
            "this kernel has no network namespaces (/proc/self/ns/net is missing)"
        )
    from harness import features, rootless

    privilege = features.privilege_check(rootless.identity())
    if privilege.status is features.Status.MISSING:
        raise EnvironmentProblem(
            f"cannot create network namespaces: {privilege.detail}; {rootless.USERNS_FIX}"
        )
    return rootless.ensure()


def cmd_run(args: argparse.Namespace) -> int:
    from harness.shard import shard_of

    shard_of(args)  # a bad flag is exit 2 before anything else (and is forwarded as I/N)
    if getattr(args, "kernels", None):  # --kernel: in a guest per kernel (harness/kernellab)
        from harness.kernellab import commands as kernellab

        return kernellab.cmd_run(args)

    if args.slow is not None and args.slow <= 0:
        raise InputError(f"--slow {args.slow}: the factor must be more than 0 (e.g. --slow 3)")
    scenarios = load_suite(args.paths)  # every file checked before anything is built
    check_environment()
    run_id = os.environ.get("FAULTLAB_RUN_ID") or new_run_id()
    os.environ["FAULTLAB_RUN_ID"] = run_id
    artifacts = Path(args.artifacts or Path("artifacts") / run_id)
    from harness.report import RunReporter
    from harness.shard import write_run_manifest

    write_run_manifest(artifacts, args, scenarios)  # shard.json: what faultlab merge joins
    reporter = RunReporter(
        artifacts,
        len(scenarios),
        progress=not args.no_progress,
        empty_ok=bool(args.shard or args.only),
        searched=_searched(args),
    )
    code = _pytest(args, artifacts, reporter)
    result = reporter.finish(code)
    from harness.kernellab.stamp import stamp_run

    junit = Path(args.junit_xml) if args.junit_xml else None
    stamp_run(artifacts, os.uname().release, junit)  # every report names its kernel
    return result


def _searched(args: argparse.Namespace) -> str:
    """What a run looked through, for the message when nothing was selected."""
    text = ", ".join(suite_paths(args.paths))
    filters = [
        f"-k {args.keyword!r}" if args.keyword else "",
        f"-m {args.markexpr!r}" if args.markexpr else "",
    ]
    chosen = " ".join(f for f in filters if f)
    return f"{text} ({chosen})" if chosen else text


def _pytest(args: argparse.Namespace, artifacts: Path, reporter: Any) -> int:
    import pytest

    argv = [
        *suite_paths(args.paths),
        "-p",
        "no:terminal",
        "-p",
        "no:cacheprovider",
        "--artifacts",
        str(artifacts),
    ]
    argv += ["-o", "python_files=", "-o", "testpaths=", "-o", "addopts="]
    for flag, value in (
        ("--junit-xml", args.junit_xml),
        ("--shard", args.shard),
        ("-k", args.keyword),
        ("-m", args.markexpr),
        ("-n", args.workers),
    ):
        if value:
            argv += [flag, str(value)]
    if args.only:  # one word: pytest reads an argument starting with @ as a file of arguments
        argv.append(f"--faultlab-only={args.only}")
    if args.slow is not None:
        argv += ["--slow", str(args.slow)]
    for path in suite_paths(args.paths):
        if Path(path).is_dir():
            argv += ["--scenario-root", path]
    if args.keep_artifacts:
        argv.append("--keep-artifacts")
    if args.exitfirst:
        argv.append("-x")
    if args.strict:
        argv.append("--faultlab-strict")
    for feature in args.allow_skip:
        argv += ["--faultlab-allow-skip", feature]
    return int(pytest.main(argv, plugins=[reporter]))


def cmd_shell(args: argparse.Namespace) -> int:
    """Build the scenario, start its router, apply its faults, and open a shell in its node."""
    from harness.scenario_loader import load

    scenario = load(args.scenario)
    check_environment()
    from harness import runner

    argv = (
        ["/bin/sh", "-c", args.command] if args.command else [os.environ.get("SHELL") or "/bin/sh"]
    )
    options = runner.RunOptions(artifacts_dir=Path("artifacts") / f"shell-{new_run_id()}")
    with runner.session(scenario, options) as live:
        node = live.lab.node(scenario.router.node)
        print(
            f"faultlab: {scenario.name}: router {scenario.router.label} on {node.netns}; "
            f"faults: {'; '.join(f.describe() for f in scenario.faults) or 'none'}; "
            f"artifacts: {live.folder}. Exit the shell to remove everything.",
            file=sys.stderr,
        )
        status = node.popen(argv, stdout=None, stderr=None).wait()
    return ExitCode.OK if status == 0 or not args.command else ExitCode.FAILED


# --------------------------------------------------------------------------------------------
# The one error boundary
# --------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``faultlab`` console script; returns the exit code."""
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
        if getattr(args, "routers_dir", None):
            _use_routers_dirs(args.routers_dir)
        return int(args.handler(args))
    except ScenarioError as exc:
        for where, message in exc.problems:
            print(f"{where}: {message}", file=sys.stderr)
        return int(exc.exit_code)
    except HarnessBug:
        raise
    except FaultlabError as exc:
        print(f"faultlab: {exc}", file=sys.stderr)
        return int(exc.exit_code)
    except KeyboardInterrupt:
        print("faultlab: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `faultlab catalog | head`: the reader left, not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return ExitCode.OK


if __name__ == "__main__":
    sys.exit(main())
