"""From pasted router log lines to field failures: which router wrote them, and what failed.

``read_log`` cleans every line (harness.reproduce.logtext), tells the router (and its version)
from the identification table and from which router's patterns map the lines
(harness.reproduce.routerlogs: the same patterns runs use), reads errno numbers in the
platform's numbering (harness.reproduce.platforms), and groups the mapped failures by
(event, call, errno, interface): a line repeated every few minutes is one failure with a count.
Every error-looking line no pattern maps is listed with the reason; lines that say the router
exited are kept as its reactions.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from harness import catalog
from harness.catalog import Step
from harness.faults.stepcalls import step_of
from harness.reproduce import platforms
from harness.reproduce.logtext import LogLine, clean_text
from harness.reproduce.routerlogs import harmless, identities, identity_of, line_mapper
from harness.routers.base import extract_errno
from harness.routers.unmapped import looks_like_error

#: Calls a line may name although no catalog event stands for them (said in its reason).
CALLS: tuple[re.Pattern[str], ...] = (  # the option names first: "setsockopt(...MRT_ADD_MFC)"
    re.compile(
        r"\b(MRT_(?:INIT|DONE|ADD_VIF|DEL_VIF|ADD_MFC|DEL_MFC|PIM|TABLE|ASSERT|API_CONFIG)|"
        r"IP_(?:ADD|DROP)_MEMBERSHIP|IP_MULTICAST_(?:IF|TTL|LOOP)|IP_ROUTER_ALERT|IP_HDRINCL|"
        r"IP_PKTINFO|SO_BINDTODEVICE|SO_RCVBUF|SIOCGETSGCNT)\b"
    ),
    re.compile(
        r"\b(setsockopt|sendto|sendmsg|recvfrom|recvmsg|socket|bind|ioctl|select|epoll_\w+)\b"
    ),
)
#: Calls a router names in words only (smcroute's "failed adding IPv4 multicast route: ...").
WORDED_CALLS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"\badd(?:ing)? (?:IPv4 )?multicast route", re.IGNORECASE), "MRT_ADD_MFC"),
    (re.compile(r"\b(?:remov|delet)(?:e|ing) (?:IPv4 )?multicast route", re.I), "MRT_DEL_MFC"),
    (re.compile(r"\b(?:remov|delet)(?:e|ing) (?:multicast )?VIFs? for", re.I), "MRT_DEL_VIF"),
    (re.compile(r"\b(?:add|creat)(?:e|ing) (?:multicast )?VIFs? for", re.I), "MRT_ADD_VIF"),
    (re.compile(r"\b(?:remov|delet)(?:e|ing) MIF for", re.I), "MRT6_DEL_MIF"),
    (re.compile(r"\b(?:add|creat)(?:e|ing) MIF for", re.I), "MRT6_ADD_MIF"),
    (re.compile(r"\bMRT_DROP_MEMBERSHIP\b"), "IP_DROP_MEMBERSHIP"),  # igmpproxy's name for it
    (re.compile(r"\bMRT_ADD_MEMBERSHIP\b"), "IP_ADD_MEMBERSHIP"),
    (re.compile(r"\badd(?:ing|ed)? (?:kernel )?MFC\b", re.IGNORECASE), "MRT_ADD_MFC"),
    (re.compile(r"\b(?:remov|delet)(?:e|ing) (?:kernel )?MFC\b", re.IGNORECASE), "MRT_DEL_MFC"),
)
#: What makes two failures the same: router, event, call, errno, interface.
FailureKey = tuple[str, int, str, int | None, str | None]
IPV4 = re.compile(r"\b(?:\d{1,3}\.){3}\d{1,3}\b")
#: Calls named by the syscall only ("setsockopt"): which option failed is not known.
GENERIC_CALLS = frozenset({"setsockopt", "ioctl", "select"})
#: Lines that say the router process ended, and its status (systemd, docker, the router).
EXITS: tuple[re.Pattern[str], ...] = (
    re.compile(r"Main process exited, code=exited, status=(?P<status>\d+)"),
    re.compile(r"exited with (?:exit )?(?:code|status) (?P<status>\d+)"),
    re.compile(r"\bexit(?:ing)?(?: with)?(?: code| status)?[ =(]+(?P<status>\d+)\)?\s*$", re.I),
    re.compile(r"Main process exited, code=(?:killed|dumped), status=\d+/(?P<signal>SIG\w+)"),
)
#: A query interval the log shows (a config dump, a debug line), in seconds.
TIMERS: dict[str, re.Pattern[str]] = {
    "query_interval": re.compile(
        r"(?:igmp[- ])?query[- _]interval\s*[=:]?\s*(?P<value>\d+(?:\.\d+)?)", re.IGNORECASE
    ),
}
#: Where the failing interface sits for a router, by call, when it is not simply the one named.
ROLES: dict[tuple[str, str], str] = {
    ("igmpproxy", "sendto"): "downstream",  # igmpproxy queries only its downstream interfaces
}


@dataclass(frozen=True)
class LogFailure:
    """One distinct failure of the pasted log: a call of the router failed with an errno.

    ``interface`` is as the log names it (a name or an address), ``role`` where it sits;
    ``lines`` every occurrence; ``arguments`` what the call was about (the groups joined).
    """

    router: str
    event: catalog.Event
    call: str
    errno: int | None
    interface: str | None
    role: str
    lines: tuple[LogLine, ...]
    errno_note: str = ""
    arguments: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.lines)

    @property
    def step(self) -> Step | None:
        return self.event.step

    @property
    def errno_name(self) -> str | None:
        return catalog.errno_name(self.errno) if self.errno is not None else None

    @property
    def key(self) -> FailureKey:
        return (self.router, self.event.id, self.call, self.errno, self.interface)

    def repeat_seconds(self) -> float | None:
        """The typical time between two occurrences, when the lines carry times."""
        times = [line.seconds for line in self.lines]
        known = [t for t in times if t is not None]
        if len(known) < 2:
            return None
        gaps = [b - a for a, b in zip(known, known[1:], strict=False) if b >= a]
        return statistics.median(gaps) if gaps else None


@dataclass(frozen=True)
class UnmappedLine:
    """A line that reads as an error but that no pattern of the router turns into a failure."""

    line: LogLine
    reason: str
    call: str | None = None
    errno: int | None = None


@dataclass(frozen=True)
class Reaction:
    """What the router did besides failing: it exited (with a status or a signal)."""

    line: LogLine
    status: int | None = None
    signal: str | None = None

    def describe(self) -> str:
        if self.signal:
            return f"killed by {self.signal}"
        return f"exited with status {self.status}"


@dataclass
class FieldLog:
    """Everything read from a pasted log."""

    source: str
    router: str | None
    version: str | None = None
    why: str = ""
    platform: str = "linux"
    platform_why: str = ""
    failures: list[LogFailure] = field(default_factory=list)
    unmapped: list[UnmappedLine] = field(default_factory=list)
    reactions: list[Reaction] = field(default_factory=list)
    consequences: list[tuple[LogLine, dict[str, Any]]] = field(default_factory=list)
    timers: dict[str, float] = field(default_factory=dict)
    quiet: int = 0  # lines without an error word that no pattern maps (information, debug)
    total: int = 0

    exits: dict[FailureKey, Reaction] = field(default_factory=dict)

    def exit_status(self, failure: LogFailure) -> int | None:
        """The status the router exited with right after this failure (its last before the
        exit line), None when the log shows no exit after it."""
        reaction = self.exits.get(failure.key)
        return reaction.status if reaction is not None else None


def read_log(
    text: str, source: str = "-", platform: str | None = None, router: str | None = None
) -> FieldLog:
    """Read a pasted log: its router, platform, failures, unmapped lines and reactions."""
    lines = clean_text(text)
    if platform is None:
        platform, platform_why = platforms.detect(line.raw for line in lines)
    else:
        platform_why = "given with --platform"
    if router is None:
        router, version, why = identify(lines)
    else:
        version, why = _version(router, lines), "given with --router"
    log = FieldLog(source, router, version, why, platform, platform_why, total=len(lines))
    if router is not None:
        _map_lines(log, lines)
    return log


def identify(lines: Sequence[LogLine]) -> tuple[str | None, str | None, str]:
    """(router kind, version, why): the kind whose tags, words, banner and patterns fit best."""
    scores: dict[str, int] = {}
    reasons: dict[str, list[str]] = {}
    table = identities()
    for identity in table:
        mapper = line_mapper(identity.kind)
        score, said = 0, []
        for line in lines:
            if line.tag and identity.tags.match(line.tag):
                score += 3
                said.append(f"tag {line.tag!r}")
            if identity.says(line.text) or identity.says(line.raw):
                score += 2
                said.append("its wording")
            if identity.version and identity.version.search(line.text):
                score += 3
                said.append("its banner")
            record = mapper(line.text)
            if record is not None and _is_failure(record):
                score += 2
                said.append("its patterns")
        scores[identity.kind], reasons[identity.kind] = score, said
    best = max(scores.values(), default=0)
    if best == 0:
        return None, None, "no line has a known router's tag, wording or pattern"
    kind = next(item.kind for item in table if scores[item.kind] == best)
    said = ", ".join(dict.fromkeys(reasons[kind]))
    return kind, _version(kind, lines), f"{said} (score {best})"


def _version(kind: str, lines: Sequence[LogLine]) -> str | None:
    identity = identity_of(kind)
    if identity is None or identity.version is None:
        return None
    for line in lines:
        found = identity.version.search(line.text)
        if found:
            return found["version"]
    return None


def _is_failure(record: dict[str, Any]) -> bool:
    event = catalog.BY_ID.get(record.get("id", 0))
    return event is not None and event.step is not None


def _map_lines(log: FieldLog, lines: Sequence[LogLine]) -> None:
    assert log.router is not None
    mappers: dict[str, Any] = {}
    groups: dict[FailureKey, LogFailure] = {}
    last: LogFailure | None = None
    for line in lines:
        _timers(log, line)
        reaction = _reaction(line)
        if reaction is not None:
            log.reactions.append(reaction)
            if last is not None:
                log.exits[last.key] = reaction
            continue
        kind = writer(line, log.router)
        if kind not in mappers:
            mappers[kind] = line_mapper(kind)
        record = mappers[kind](line.text)
        noise = harmless(kind)
        if record is not None and _is_failure(record):
            failure = _failure(log, line, record, kind)
            seen = groups.get(failure.key)
            groups[failure.key] = _merge(seen, failure) if seen else failure
            last = failure
        elif record is not None:
            log.consequences.append((line, record))
        elif noise is not None and noise.search(line.text):
            if looks_like_error(line.text):
                log.unmapped.append(
                    UnmappedLine(line, f"known harmless noise of {kind} (every start/stop)")
                )
        elif looks_like_error(line.text):
            log.unmapped.append(_unmapped(log, line, kind))
        else:
            log.quiet += 1
    log.failures = list(groups.values())


def writer(line: LogLine, router: str) -> str:
    """Which router wrote this line: the log's, unless the line's program tag names another
    (a log where two routers fight over the multicast routing socket)."""
    own = identity_of(router)
    if line.tag is None or (own is not None and own.tags.match(line.tag)):
        return router
    for identity in identities():
        if identity.tags.match(line.tag):
            return identity.kind
    return router


def _failure(log: FieldLog, line: LogLine, record: dict[str, Any], router: str) -> LogFailure:
    event = catalog.BY_ID[record["id"]]
    call_text = str(record.get("call") or _default_call(event))
    call, _, argument = call_text.partition(" ")
    errno, note = _errno(record, log.platform)
    interface = record.get("interface") or _unicast_address(str(record.get("message") or ""))
    role = ROLES.get((router, call)) or (
        "the interface it names" if interface else "no interface: the call is one per router"
    )
    return LogFailure(
        router,
        event,
        call,
        errno,
        str(interface) if interface else None,
        role,
        (line,),
        note,
        (argument,) if argument else (),
    )


def _unicast_address(message: str) -> str | None:
    """The first interface-like IPv4 address a line names (groups 224/4 are not interfaces):
    a router that names its interface by address, read without its address-announcing lines."""
    for text in IPV4.findall(message):
        if not 224 <= int(text.split(".")[0]) <= 239:
            return text
    return None


def _default_call(event: catalog.Event) -> str:
    from harness.faults.stepcalls import STEP_CALLS

    assert event.step is not None
    return next(iter(STEP_CALLS[event.step]))


def _merge(seen: LogFailure, new: LogFailure) -> LogFailure:
    arguments = tuple(dict.fromkeys(seen.arguments + new.arguments))
    return LogFailure(
        seen.router,
        seen.event,
        seen.call,
        seen.errno,
        seen.interface,
        seen.role,
        seen.lines + new.lines,
        seen.errno_note,
        arguments,
    )


def _errno(record: dict[str, Any], platform: str) -> tuple[int | None, str]:
    """The Linux errno of a mapped line, its number read in the platform's numbering."""
    number = record.get("errno")
    if platform == "linux":
        if number is None:  # another C library's words (musl: "Address in use")
            return _text_errno(str(record.get("message") or "")), ""
        return int(number), ""
    message = str(record.get("message") or "")
    written = platforms.number_in(message)
    if written is not None:
        return platforms.to_linux(written, platform)
    return (int(number) if number is not None else _text_errno(message)), ""


def _text_errno(message: str) -> int | None:
    """The errno the text after the message's last ': ' names (glibc's, musl's or FreeBSD's)."""
    name = platforms.text_name(message.rsplit(": ", 1)[-1]) if ": " in message else None
    return platforms.linux_number(name) if name else None


def _unmapped(log: FieldLog, line: LogLine, router: str) -> UnmappedLine:
    found = [m for m in (pattern.search(line.text) for pattern in CALLS) if m is not None]
    worded = [call for pattern, call in WORDED_CALLS if pattern.search(line.text)]
    call = worded[0] if worded else found[0].group(1) if found else None
    written = platforms.number_in(line.text)
    if written is not None and log.platform != "linux":
        errno, _note = platforms.to_linux(written, log.platform)
    else:
        errno = extract_errno(line.text) or _text_errno(line.text)
    if call and step_of(call) is None and call not in GENERIC_CALLS:
        reason = (
            f"{call} failed: no catalog event stands for it and no step of faultlab breaks it "
            "yet (harness/faults/stepcalls.py), so no scenario is written"
        )
    elif call:
        reason = (
            f"names {call}, but no pattern of {router} maps this wording "
            "(the patterns: of its profile; add one to reproduce it)"
        )
    else:
        reason = f"an error line that no pattern of {router} maps and that names no call"
    return UnmappedLine(line, reason, call, errno)


def _reaction(line: LogLine) -> Reaction | None:
    for pattern in EXITS:
        found = pattern.search(line.text)
        if found:
            groups = found.groupdict()
            status = int(groups["status"]) if groups.get("status") else None
            return Reaction(line, status, groups.get("signal"))
    return None


def _timers(log: FieldLog, line: LogLine) -> None:
    for name, pattern in TIMERS.items():
        found = pattern.search(line.text)
        if found and name not in log.timers:
            log.timers[name] = float(found["value"])
