"""The ``reproduce`` and ``events`` subcommands of the faultlab CLI (wired in by ``register``,
harness.cli.EXTENSIONS): their arguments, and what each prints.

Every faultlab command loads this module to list its subcommands, so the writers of scenarios
(harness.reproduce.write, .logwrite: the fault table and the fault classes behind them) are
loaded when ``reproduce`` runs, not before.

``reproduce`` takes a router's pasted log lines (harness.reproduce.fieldlog) or a Windows event
export (Event XML, Event Viewer CSV): XML is told by its first character; any other text is read
as a log, and as an export when no known router wrote it.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import catalog
from harness.errors import ExitCode, InputError
from harness.faults.stepcalls import step_of
from harness.reproduce.classify import winsock_name
from harness.reproduce.export import FORMATS, find_event_log, read_event_records, render_events
from harness.reproduce.fieldlog import FieldLog, read_log
from harness.reproduce.plan import DEFAULT_OUTPUT, ROUTER_NODE
from harness.reproduce.platforms import PLATFORMS
from harness.reproduce.routerlogs import kinds
from harness.reproduce.run import DEFAULT_ARTIFACTS, RunOutcome, router_lines, run_all
from harness.suggest import did_you_mean
from harness.winevents import ExportError, decode_export, parse_export

if TYPE_CHECKING:
    from harness.reproduce.logwrite import LogReproduction
    from harness.reproduce.write import ReproduceResult


def register(subparsers: Any) -> None:
    """Add the ``reproduce`` and ``events`` subcommands to the faultlab CLI's subparsers."""
    _reproduce_parser(subparsers)
    _events_parser(subparsers)


def _reproduce_parser(subparsers: Any) -> None:
    reproduce = subparsers.add_parser(
        "reproduce",
        help="turn a field failure (a router's log lines, or a Windows event export) into "
        "scenarios that reproduce it",
        description="Read the log lines a user pasted (igmpproxy, smcroute, pimd, FRR, igmpd; "
        "syslog, journal, docker logs or plain stderr) or exported Windows events (Event XML or "
        "Event Viewer CSV), and write one scenario per distinct failure.",
    )
    reproduce.add_argument(
        "export", metavar="LOGFILE|EXPORT|-", help="the log lines or the export ('-': stdin)"
    )
    reproduce.add_argument(
        "-o", "--output", type=Path, default=DEFAULT_OUTPUT, help="where to write (./reproduced/)"
    )
    reproduce.add_argument(
        "--run", action="store_true", help="run the scenarios at once; exit 1 if not reproduced"
    )
    reproduce.add_argument(
        "--artifacts", type=Path, default=DEFAULT_ARTIFACTS, help="with --run: run folders"
    )
    reproduce.add_argument(
        "--slow", type=float, default=1.0, help="with --run: stretch every deadline by FACTOR"
    )
    reproduce.add_argument(
        "--platform",
        choices=PLATFORMS,
        help="the errno numbering of the log (default: FreeBSD when its lines say so, else linux)",
    )
    reproduce.add_argument(
        "--router",
        metavar="KIND",
        help="the router that wrote the log: a bundled kind or a profile on the --routers-dir "
        "path (default: recognised from its tags, wording, banner and patterns)",
    )
    reproduce.add_argument(
        "--kernel",
        metavar="KERNEL",
        help="with --run: run in this kernel's guest ('host': here); default: here, or the "
        "kernel lab for scenarios that need what this host lacks (multicast routing)",
    )
    reproduce.set_defaults(handler=cmd_reproduce)


def _events_parser(subparsers: Any) -> None:
    events = subparsers.add_parser(
        "events",
        help="show a run's router events (as Windows Event XML to compare with a field export)",
    )
    events.add_argument("artifacts", type=Path, help="a run's artifacts directory or events.jsonl")
    events.add_argument("--format", choices=FORMATS, default="text", help="output form (text)")
    events.add_argument("-o", "--output", type=Path, help="write to this file instead of stdout")
    events.add_argument(
        "--computer", default=ROUTER_NODE, help="the <Computer> of Windows XML (default r1)"
    )
    events.set_defaults(handler=cmd_events)


def cmd_reproduce(args: argparse.Namespace) -> int:
    """``faultlab reproduce``: a field log or a Windows export -> scenarios; optionally run."""
    if args.router is not None and args.router not in kinds():
        raise InputError(
            f"--router {args.router!r}: no router of that kind has log patterns here "
            f"(known: {', '.join(kinds())}){did_you_mean(args.router, kinds())}"
        )
    text, source = _read_input(args.export)
    if not is_event_xml(text):
        log = read_log(text, source, args.platform, args.router)
        if log.router is not None:
            return _reproduce_log(log, args)
    result = _reproduce_windows(text, source, args.output)
    print(format_result(result))
    if not args.run:
        return ExitCode.OK
    if not result.written:
        print("nothing to run: no event of the export could be mapped")
        return ExitCode.FAILED
    outcomes = run_all(
        [item.path for item in result.written], args.artifacts, args.slow, args.kernel
    )
    for item, outcome in zip(result.written, outcomes, strict=True):
        verdict = "reproduced" if outcome.passed else "NOT reproduced"
        print(f"{verdict}: {item.name} ({outcome.where}; {outcome.summary})")
    return ExitCode.OK if all(o.passed for o in outcomes) else ExitCode.FAILED


def _read_input(name: str) -> tuple[str, str]:
    """The pasted text and what to call it: a file, or stdin for '-'."""
    if name == "-":
        return sys.stdin.read(), "<stdin>"
    path = Path(name)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the export or log: {exc.strerror}") from exc
    return decode_export(raw, path), str(path)


def is_event_xml(text: str) -> bool:
    """A Windows Event XML export (not a syslog line's ``<27>`` priority)."""
    body = text.lstrip("\ufeff").lstrip()
    return body.startswith("<") and re.match(r"<\d{1,3}>", body) is None


def _reproduce_windows(text: str, source: str, output: Path) -> ReproduceResult:
    from harness.reproduce.write import reproduce_events

    try:
        events = parse_export(text, source)
    except ExportError as exc:
        if "neither Event XML" not in str(exc):
            raise
        message = str(exc).removeprefix(f"{exc.where}: ")
        raise ExportError(
            exc.where,
            f"{message}; nor a log line of a router faultlab knows "
            f"({', '.join(kinds())}; name one with --router)",
        ) from exc
    return reproduce_events(events, Path(source), output)


def _reproduce_log(log: FieldLog, args: argparse.Namespace) -> int:
    from harness.reproduce.logwrite import reproduce_log

    done = reproduce_log(log, args.output)
    print(format_log(log, done))
    if not args.run:
        return ExitCode.OK
    runnable = [item for item in done if item.path is not None]
    if not runnable:
        print("nothing to run: no failure of the log can be reproduced yet")
        return ExitCode.FAILED
    paths = [item.path for item in runnable if item.path is not None]
    outcomes = run_all(paths, args.artifacts, args.slow, args.kernel)
    reproduced = [
        side_by_side(item, outcome) for item, outcome in zip(runnable, outcomes, strict=True)
    ]
    print(_run_summary(log, done, reproduced))
    return ExitCode.OK if all(reproduced) else ExitCode.FAILED


def _run_summary(log: FieldLog, done: list[LogReproduction], reproduced: list[bool]) -> str:
    """'2 of 3 failure(s) reproduced; not reproducible yet: ...; 1 line about a call ...'."""
    said = [f"{sum(reproduced)} of {len(done)} failure(s) reproduced"]
    cannot = [item for item in done if item.path is None]
    if cannot:
        said.append(
            "not reproducible yet: " + "; ".join(f"{i.name} ({i.choice.why})" for i in cannot)
        )
    calls = [entry for entry in log.unmapped if entry.call and step_of(entry.call) is None]
    if calls:
        names = ", ".join(dict.fromkeys(entry.call or "" for entry in calls))
        said.append(
            f"{len(calls)} line(s) about calls faultlab cannot break yet ({names}): see above"
        )
    return "; ".join(said)


def side_by_side(item: LogReproduction, outcome: RunOutcome) -> bool:
    """Print the field line beside the run's line; whether the run reproduced it."""
    failure = item.failure
    same = [
        text
        for text, record in router_lines(outcome.folder, failure.router)
        if record.get("id") == failure.event.id
        and (failure.errno is None or record.get("errno") == failure.errno)
        and str(record.get("call") or failure.call).split(" ")[0] == failure.call
    ]
    # the run's line about the same argument (the group joined) first, when it has one
    same.sort(key=lambda text: not any(arg in text for arg in failure.arguments))
    print(f"{item.name}:")
    print(f"  field       {failure.lines[0].text}  (x{failure.count})")
    print(f"  reproduced  {same[0] if same else '(no such line)'}  ({outcome.where})")
    if failure.interface:
        lab = item.interface or "any interface (the cause is not tied to one)"
        print(f"  interface   field {failure.interface} ({failure.role}) -> lab {lab}")
    passed = outcome.passed and bool(same)
    if passed:
        print(
            f"  reproduced: the same call {failure.call} and errno {failure.errno_name} from "
            f"{failure.router}; {outcome.summary}"
        )
    else:
        why = outcome.summary if not outcome.passed else "the run passed but logged no such line"
        print(f"  NOT reproduced: {why}")
    return passed


def format_log(log: FieldLog, done: list[LogReproduction]) -> str:
    """What ``reproduce`` read from a log and wrote: router, failures, causes, unmapped lines."""
    version = f" {log.version}" if log.version else ""
    lines = [
        f"{log.source}: {log.router}{version} ({log.why}); platform {log.platform} "
        f"({log.platform_why})",
        f"{len(log.failures)} distinct failure(s) in {sum(f.count for f in log.failures)} "
        f"line(s); {sum(1 for d in done if d.path)} scenario(s) written",
    ]
    for item in done:
        failure = item.failure
        where = f" on {failure.interface} ({failure.role})" if failure.interface else ""
        head = f"wrote {item.path}" if item.path else "NOT reproducible"
        lines.append(
            f"  {head}  {failure.router} {failure.call} {failure.errno_name or 'no errno'}"
            f"{where}  x{failure.count}  [{item.choice.phrase}]"
        )
        if failure.errno_note:
            lines.append(f"      errno: {failure.errno_note}")
        lines.append(f"      cause: {item.choice.cause} ({item.choice.why})")
        if item.choice.evidence:
            lines.append(f"      evidence: {item.choice.evidence}")
        if item.choice.others:
            lines.append(f"      same line also from: {'; '.join(item.choice.others)}")
        if item.choice.not_met:
            lines.append(f"      not chosen: {'; '.join(item.choice.not_met)}")
    for reaction in log.reactions:
        lines.append(f"  reaction: {reaction.describe()} (line {reaction.line.number})")
    if log.unmapped:
        lines.append(f"{len(log.unmapped)} line(s) not mapped:")
        for entry in log.unmapped:
            said = []
            if entry.call:
                said.append(entry.call)
            if entry.errno is not None:
                said.append(catalog.errno_name(entry.errno))
            known = f" [{' '.join(said)}]" if said else ""
            lines.append(f"  line {entry.line.number}{known}: {entry.line.text[:120]}")
            lines.append(f"      {entry.reason}")
    if log.quiet:
        lines.append(f"({log.quiet} other line(s) report no error and map to no failure)")
    return "\n".join(lines)


def cmd_events(args: argparse.Namespace) -> int:
    """``faultlab events``: a run's events as text, JSON lines or Windows Event XML."""
    records = read_event_records(find_event_log(args.artifacts))
    text = render_events(records, args.format, args.computer)
    if args.output is None:
        sys.stdout.write(text)
        return ExitCode.OK
    try:
        args.output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"{args.output}: cannot write: {exc.strerror}") from exc
    return ExitCode.OK


def format_result(result: ReproduceResult) -> str:
    """The table ``reproduce`` prints: scenarios written, then events not mapped with reasons."""
    lines = [f"{result.export}: {len(result.written)} scenario(s) written"]
    for item in result.written:
        failure = item.failure
        errno = failure.errno_name or "no errno (event only)"
        lines.append(
            f"  wrote {item.path}  {failure.event.id} {failure.event.symbol}"
            f"  {failure.address} -> {item.interface}  {winsock_name(failure.error_code)}"
            f" -> {errno}  x{len(failure.occurrences)}  [{item.fault}]"
        )
    if result.unmapped:
        lines.append(f"{len(result.unmapped)} event(s) not mapped:")
        lines.extend(
            f"  {item.event.where}  {item.event.id} {item.event.provider}: {item.reason}"
            for item in result.unmapped
        )
    return "\n".join(lines)
