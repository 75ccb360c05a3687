"""A router's log lines, read the way runs read them: the ONE place ``reproduce`` gets a router's
patterns, and which router wrote a pasted log.

One table, read both ways: a run turns the router's log lines into events with its profile's
patterns (harness.routers.ADAPTERS[kind], its ``mapper()``); ``faultlab reproduce`` turns a field
log into failures with the very same mapper, obtained only through :func:`line_mapper` (and
:func:`harmless` for the router's known noise).

Which router wrote a log is read from the profiles too: each profile's ``identify:`` (program
names in syslog/journal/docker prefixes, wording only it writes, its version banner) for the
bundled routers and for every profile on the ``--routers-dir`` path or in ``./routers``, so a
team's own router is recognised like a bundled one. igmpd, which has no profile (it writes its
events as JSON lines), has its row here.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from harness import caches
from harness.event import parse_json_line

#: A line -> its section-3 record (id, errno, interface, call ...), or None when nothing maps it.
Mapper = Callable[[str], "dict[str, Any] | None"]


@dataclass(frozen=True)
class Identity:
    """How a router kind shows itself in a pasted log (a profile's ``identify:``).

    ``tags``: program names in syslog/journal/docker prefixes (``igmpproxy[812]: ``) or FRR's
    daemon prefixes (``PIMD: ``); ``markers``: wording only this router uses; ``version``: a
    banner whose ``version`` group is the release.
    """

    kind: str
    tags: re.Pattern[str]
    markers: re.Pattern[str] | None = None
    version: re.Pattern[str] | None = None

    def says(self, text: str) -> bool:
        """Whether ``text`` has this router's own wording."""
        return self.markers is not None and self.markers.search(text) is not None


IGMPD = Identity("igmpd", re.compile(r"^igmpd$"), re.compile(r'"id":\s*41\d{3}|\bigmpd\b'))


def identities() -> tuple[Identity, ...]:
    """Every router whose pasted logs ``reproduce`` reads, the narrowest program tag first (a
    tie goes to it: ``pimd[3]:`` is standalone pimd's ``^pimd$`` before FRR's six daemons'), the
    bundled profiles and those on the profile path alike; igmpd last."""
    from harness.routers.profile_path import routers_dirs

    return _identities(tuple(routers_dirs()), Path.cwd())


@functools.lru_cache(maxsize=8)
def _identities(dirs: tuple[Path, ...], cwd: Path) -> tuple[Identity, ...]:
    """:func:`identities` for one profile path (read once per path, not once per line)."""
    from harness.routers import ADAPTERS
    from harness.routers.profile_path import known_profiles

    found: list[Identity] = []
    for kind in dict.fromkeys([*ADAPTERS, *known_profiles(cwd / "scenario.yaml")]):
        profile = getattr(ADAPTERS.get(kind), "profile", None)
        identify = getattr(profile, "identify", None)
        if identify is not None:
            found.append(Identity(kind, identify.tags, identify.markers, identify.version))
    return (*sorted(found, key=lambda identity: len(identity.tags.pattern)), IGMPD)


caches.register(
    "reproduce.routerlogs.identities", _identities.cache_clear, "test", "routers by log identity"
)


def identity_of(kind: str) -> Identity | None:
    """The identity of router kind ``kind``, None when ``reproduce`` does not know it."""
    return next((item for item in identities() if item.kind == kind), None)


def kinds() -> tuple[str, ...]:
    """The router kinds whose pasted logs ``reproduce`` reads, in table order."""
    return tuple(identity.kind for identity in identities())


def line_mapper(kind: str) -> Mapper:
    """A fresh mapper for ``kind``'s log lines: the adapter's own (the same patterns, address
    lines and ignore list a run uses), or igmpd's JSON event lines."""
    if kind == "igmpd":
        return _igmpd_record
    adapter = _external(kind)
    return cast(Mapper, adapter.mapper())


def harmless(kind: str) -> re.Pattern[str] | None:
    """The lines ``kind`` writes on every healthy start or stop (the adapter's ignore list)."""
    if kind == "igmpd":
        return None
    return _external(kind).ignore


def ready_id(kind: str) -> int | None:
    """The event that says ``kind`` has started (41010 for most), None when it has none."""
    if kind == "igmpd":
        return None
    return _external(kind).ready_id


def _external(kind: str) -> Any:
    from harness.routers import ADAPTERS
    from harness.routers.external import ExternalAdapter

    adapter = ADAPTERS.get(kind)
    if adapter is None or not issubclass(adapter, ExternalAdapter):
        raise KeyError(f"router kind {kind!r} has no log patterns")
    return adapter(None)


def _igmpd_record(line: str) -> dict[str, Any] | None:
    """igmpd writes its events as JSON lines itself (its ``--event-log``)."""
    text = line.strip()
    if not text.startswith("{"):
        return None
    try:
        record = parse_json_line(text, Path("<field log>"))
    except Exception:  # not igmpd's JSON: the line is simply not one of its events
        return None
    if record is None or not isinstance(record.get("id"), int):
        return None
    return dict(record)
