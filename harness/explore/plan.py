"""Plan: one fault per (call site, errno), injected at that site only, switchable.

A planned fault is an ``explore-fault`` (harness.faults.explore): the site's syscall and
argument matches, its interface when the supervisor can tell it (else the occurrence counts
every matching call), its occurrence as ``nth``, and the errno. Transient errors (EINTR,
EAGAIN) fail that one call; the others are held from there on until the fault is cleared.
Budgets (``--budget``, ``--only-phase``, ``--errnos``, ``-k``) select from the plan here.
"""

from __future__ import annotations

import errno as errno_mod
import fnmatch
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from harness.errors import InputError
from harness.explore.errnos import errnos_for, is_transient
from harness.explore.sites import CallSite


@dataclass(frozen=True)
class PlannedFault:
    """One (site, errno) to run, and the fault mapping that injects it."""

    site: CallSite
    errno: str

    @property
    def held(self) -> bool:
        return not is_transient(self.errno)

    @property
    def id(self) -> str:
        """A short, stable, file-name-friendly id: the site key and the errno, hashed."""
        digest = hashlib.sha1(f"{self.site.key}|{self.errno}".encode()).hexdigest()[:8]
        words = re.sub(r"[^a-z0-9]+", "-", f"{self.site.call} {self.site.interface or ''}".lower())
        return f"{words.strip('-')}-{self.site.occurrence}-{self.errno.lower()}-{digest}"

    def fault_spec(self) -> dict[str, Any]:
        """The ``explore-fault`` parameters (also the base of the ``syscall-error`` written
        by --write-scenarios)."""
        spec: dict[str, Any] = {
            "syscall": self.site.syscall,
            "errno": self.errno,
            "nth": self.site.occurrence,
            "held": self.held,
        }
        if self.site.args:
            spec["args"] = dict(self.site.args)
        if self.site.by_interface and self.site.interface:
            spec["interface"] = self.site.interface
        return spec

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "site": self.site.key, "errno": self.errno, "held": self.held}


@dataclass(frozen=True)
class Selection:
    """What to run of the plan: phases, errnos, call-site patterns, a count."""

    only_phase: str | None = None
    errnos: str | None = None  # comma list, or "all" (caller-mistake errors too)
    keyword: str | None = None  # -k: terms over the site key (Selection.keeps)
    budget: int | None = None

    @property
    def with_bugs(self) -> bool:
        return (self.errnos or "").strip().lower() == "all"

    def wanted_errnos(self) -> set[str] | None:
        """The errnos --errnos names (checked), None for the table's own."""
        if not self.errnos or self.with_bugs:
            return None
        wanted = {name.strip().upper() for name in self.errnos.split(",") if name.strip()}
        unknown = sorted(name for name in wanted if not hasattr(errno_mod, name))
        if unknown:
            raise InputError(f"--errnos: unknown errno name(s) {', '.join(unknown)}")
        return wanted

    def keeps(self, site: CallSite) -> bool:
        """The site's phase is wanted and its key passes ``-k``: a comma list of terms, each a
        substring (any case) or a glob; ``not TERM`` excludes. A site is kept when it matches
        any plain term (or there is none) and no ``not`` term."""
        if self.only_phase and site.phase != self.only_phase:
            return False
        terms = [term.strip() for term in (self.keyword or "").split(",") if term.strip()]
        wanted = [term for term in terms if not term.lower().startswith("not ")]
        unwanted = [term[4:].strip() for term in terms if term.lower().startswith("not ")]
        if any(_matches(site.key, term) for term in unwanted):
            return False
        return not wanted or any(_matches(site.key, term) for term in wanted)


def _matches(key: str, term: str) -> bool:
    if any(ch in term for ch in "*?["):
        return fnmatch.fnmatch(key, term)
    return term.lower() in key.lower()


def plan(sites: Iterable[CallSite], selection: Selection = Selection()) -> list[PlannedFault]:
    """Every (site, errno) the selection keeps, in site order, at most ``budget`` of them."""
    wanted = selection.wanted_errnos()
    planned: list[PlannedFault] = []
    for site in sites:
        if not selection.keeps(site):
            continue
        for name in errnos_for(site.syscall, site.words, bugs=selection.with_bugs):
            if wanted is None or name in wanted:
                planned.append(PlannedFault(site, name))
    if selection.budget is not None:
        planned = planned[: selection.budget]
    return planned


def errno_columns(faults: Sequence[PlannedFault]) -> list[str]:
    """The errnos of a plan, in first-seen order (the matrix's columns)."""
    return list(dict.fromkeys(fault.errno for fault in faults))
