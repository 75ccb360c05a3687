"""The ``reproduce`` and ``events`` subcommands of the faultlab CLI (wired in by ``register``,
harness.cli.EXTENSIONS): their arguments, and what each prints."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from harness.errors import ExitCode, InputError
from harness.reproduce.classify import winsock_name
from harness.reproduce.export import FORMATS, find_event_log, read_event_records, render_events
from harness.reproduce.plan import ROUTER_NODE
from harness.reproduce.run import DEFAULT_ARTIFACTS, run_reproduction
from harness.reproduce.write import DEFAULT_OUTPUT, ReproduceResult, reproduce_export


def register(subparsers: Any) -> None:
    """Add the ``reproduce`` and ``events`` subcommands to the faultlab CLI's subparsers."""
    _reproduce_parser(subparsers)
    _events_parser(subparsers)


def _reproduce_parser(subparsers: Any) -> None:
    reproduce = subparsers.add_parser(
        "reproduce",
        help="turn a Windows event export into scenarios that reproduce it",
        description="Read exported Windows events (Event XML or Event Viewer CSV) and write one "
        "scenario per distinct (event, interface, error) of the IGMPv2 router.",
    )
    reproduce.add_argument("export", type=Path, help="the exported events (.xml or .csv)")
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
    """``faultlab reproduce``: write the scenarios, print the table, optionally run them."""
    result = reproduce_export(args.export, args.output)
    print(format_result(result))
    if not args.run:
        return ExitCode.OK
    if not result.written:
        print("nothing to run: no event of the export could be mapped")
        return ExitCode.FAILED
    outcomes = [
        (item, *run_reproduction(item.path, args.artifacts, args.slow)) for item in result.written
    ]
    for item, passed, summary in outcomes:
        print(f"{'reproduced' if passed else 'NOT reproduced'}: {item.name} ({summary})")
    return ExitCode.OK if all(passed for _, passed, _ in outcomes) else ExitCode.FAILED


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
