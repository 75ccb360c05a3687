"""Pasted log lines as a router wrote them: the noise around them taken off.

A line reaches a bug report wrapped in whatever carried it: a ticket's ``> `` quote marks, ANSI
colours, CRLF, a docker or journal timestamp, a syslog header (``Dec  6 12:00:01 host
igmpproxy[812]: ``, RFC 5424's ``<27>1 2026-12-06T12:00:01Z host igmpproxy 812 - - ``), FRR's
file log (``2026/12/06 12:00:01 PIMD: ``) or pimd's own ``12:00:01.123 ``. ``clean`` peels these
layers off one by one and keeps what they said: the program name (``tag``) and the time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")
QUOTE = re.compile(r"^\s*(?:>\s?)+")
# One layer each; a time layer names its time text ``time``, a tag layer its program ``tag``.
LAYERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"^<\d{1,3}>(?:1 )?"),  # syslog priority (RFC 3164/5424)
    re.compile(  # RFC 5424 header after the priority: time host app procid msgid sd
        r"^(?P<time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) \S+ "
        r"(?P<tag>[\w./-]+) (?:\d+|-) \S+ (?:-|(?:\[[^\]]*\])+) ?"
    ),
    re.compile(  # docker logs -t, journalctl -o short-iso, ISO syslog
        r"^(?P<time>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?)\s+"
    ),
    # BSD syslog, and OpenWrt's logread ("Fri Jun  9 11:58:19 2023 ")
    re.compile(
        r"^(?:[A-Z][a-z]{2} )?(?P<time>[A-Z][a-z]{2}\s+\d{1,2}\s+\d\d:\d\d:\d\d(?:\.\d+)?)"
        r"(?: \d{4})?\s+"
    ),
    # a web UI's table (pfSense: "time | program | pid | message")
    re.compile(r"^\|?\s*(?P<tag>[A-Za-z][\w./-]*)\s*\|\s*\d+\s*\|\s*"),
    re.compile(r"^\|\s*"),
    # facility.level (logread's "user.warn", a syslog server's "User.Warning"), a relay's address
    re.compile(
        r"^[A-Za-z]+\.(?:emerg|alert|crit|err|error|warn|warning|notice|info|debug)\s+", re.I
    ),
    re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}\s+(?=\S)"),
    re.compile(r"^(?P<time>\d{4}/\d\d/\d\d \d\d:\d\d:\d\d(?:\.\d+)?)\s+"),  # FRR's file log
    re.compile(r"^(?P<time>\d\d:\d\d:\d\d(?:\.\d+)?)\s+"),  # pimd's stderr
    re.compile(r"^\[\s*\d+\.\d+\]\s+"),  # dmesg, journalctl -o short-monotonic
    re.compile(r"^(?P<time>\d{9,10}\.\d+)\s+"),  # journalctl -o short-unix
    re.compile(r"^MESSAGE="),  # journalctl -o verbose / export
    # host then program[pid]: (the host is never followed by a bracket)
    # (a facility.level may come between: "gw daemon.err smcroute[21342]: ")
    re.compile(r"^(?:[\w.-]+\s+){0,2}(?P<tag>[A-Za-z][\w./-]*)\[\d+\]:\s*"),
    # FRR's daemon prefix in its own log, or a bare known program name
    re.compile(
        r"^(?:[\w.-]+\s+)?(?P<tag>PIMD?|ZEBRA|igmpproxy|smcrouted?|pimd|zebra|watchfrr|igmpd):\s+"
    ),
    re.compile(r"^\[?(?:LOG_)?(?:ERR|ERROR|WARN|WARNING|NOTICE|INFO|DEBUG|CRIT)\]?:?\s+"),
)
_STAMPS = (
    "%Y-%m-%dT%H:%M:%S.%f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M:%S",
    "%Y/%m/%d %H:%M:%S.%f",
    "%Y/%m/%d %H:%M:%S",
    "%b %d %H:%M:%S.%f",
    "%b %d %H:%M:%S",
    "%H:%M:%S.%f",
    "%H:%M:%S",
)


@dataclass(frozen=True)
class LogLine:
    """One pasted line: where it was (1-based), what was pasted, and the router's own words."""

    number: int
    raw: str
    text: str
    tag: str | None = None
    time: str | None = None

    @property
    def seconds(self) -> float | None:
        """The line's time in seconds (its own clock), when its prefix had one."""
        return parse_time(self.time) if self.time else None


def clean(raw: str, number: int = 0) -> LogLine:
    """Take the transport's layers off one pasted line (in any order they came)."""
    text = ANSI.sub("", raw).replace("\r", "").replace("\ufeff", "")
    text = QUOTE.sub("", text).strip()
    tag = time = None
    peeled = True
    while peeled and text:
        peeled = False
        for layer in LAYERS:
            found = layer.match(text)
            if found is None or found.end() == 0:
                continue
            groups = found.groupdict()
            tag = groups.get("tag") or tag
            time = time or groups.get("time")
            text = text[found.end() :].strip()
            peeled = True
            break
    return LogLine(number, raw.rstrip("\r\n"), text, tag, time)


def clean_text(text: str) -> list[LogLine]:
    """Every non-blank line of a paste, cleaned, numbered as in the paste."""
    return [
        clean(raw, number)
        for number, raw in enumerate(text.splitlines(), start=1)
        if raw.strip() and not raw.lstrip().startswith("-- ")  # journal's "-- Boot ..." lines
    ]


def parse_time(text: str) -> float | None:
    """Seconds of a prefix's time (a year-less syslog time counts from Jan 1)."""
    if re.fullmatch(r"\d{9,10}(?:\.\d+)?", text.strip()):  # seconds since the epoch
        return float(text)
    normal = text.replace(",", ".").strip()
    normal = re.sub(r"\s+", " ", normal)
    normal = re.sub(r"([+-]\d\d):(\d\d)$", r"\1\2", normal)
    if normal.endswith("Z"):
        normal = normal[:-1] + "+0000"
    normal = re.sub(r"(\.\d{6})\d+", r"\1", normal)  # docker's nanoseconds
    for stamp in _STAMPS:
        try:
            moment = datetime.strptime(normal, stamp)
        except ValueError:
            continue
        if moment.year == 1900:  # no year in the prefix
            moment = moment.replace(year=2000)
        return moment.timestamp()
    return None
