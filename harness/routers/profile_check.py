"""``faultlab profile check PROFILE [LOGFILE]``: what a profile makes of a router's log.

Every line of the log (or, without one, of the profile's ``examples:``) with the pattern that
mapped it and the event it produced; then the error-looking lines that nothing maps
(harness.routers.unmapped), which a run would show as "unmapped" and a judge reading only
events would miss. Exit 0 when every error-looking line is mapped (or ignored), 1 when some is
not, 2 when the profile or the log cannot be read (file:line:column for the profile).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.errors import ExitCode, InputError
from harness.routers.profile_load import load_profile
from harness.routers.profile_model import Profile, describe_record
from harness.routers.profile_path import find_profile
from harness.routers.unmapped import looks_like_error


@dataclass(frozen=True)
class CheckedLine:
    """One log line: its number, text, and the pattern and record it produced (if any)."""

    number: int
    text: str
    pattern: int | None
    record: Mapping[str, Any] | None
    ignored: bool = False

    @property
    def unmapped_error(self) -> bool:
        return self.record is None and not self.ignored and looks_like_error(self.text)


def resolve(name: str) -> Profile:
    """A profile by file path, or by kind: on the profile path, else a bundled profile."""
    path = Path(name)
    if path.suffix in (".yaml", ".yml") or path.exists():
        if not path.is_file():
            raise InputError(f"no such profile file: {name}")
        return load_profile(path)
    found = find_profile(name, Path.cwd() / "scenario.yaml")
    if found is not None:
        return load_profile(found)
    from harness.routers import ADAPTERS

    adapter = dict.get(ADAPTERS, name)
    profile = getattr(adapter, "profile", None)
    if isinstance(profile, Profile):
        return profile
    raise InputError(f"no router profile {name!r} (a profile file, or a kind on the profile path)")


def check_lines(profile: Profile, lines: Sequence[str]) -> list[CheckedLine]:
    """Each line through the profile's mapper, in order (its address book learns as it goes)."""
    mapper = profile.mapper()
    checked = []
    for number, raw in enumerate(lines, 1):
        text = raw.rstrip("\n")
        record = mapper(text)
        ignored = profile.ignore is not None and bool(profile.ignore.search(text))
        pattern = _which(profile, text) if record is not None else None
        checked.append(CheckedLine(number, text, pattern, record, ignored))
    return checked


def _which(profile: Profile, text: str) -> int | None:
    """The index of the first pattern whose regex finds ``text`` (the one that mapped it)."""
    for index, item in enumerate(profile.patterns):
        if item.pattern.regex.search(text):
            return index
    return None


def render(profile: Profile, checked: Sequence[CheckedLine], source: str) -> list[str]:
    """The report: one line per log line, then the unmapped error-looking lines."""
    out = [
        f"{profile.name} ({profile.path}): {len(profile.patterns)} pattern(s), "
        f"{len(profile.events)} own event(s); {source}: {len(checked)} line(s)"
    ]
    if profile.version:  # the router's own version command, when it is installed here
        from harness.routers.profile import profile_class

        version = profile_class(profile)().version_text()
        out.append(f"version: {version or 'its version command did not answer here'}")
    for item in checked:
        if item.record is not None:
            where = f"patterns[{item.pattern}]" if item.pattern is not None else "pattern"
            produced = f"{where} -> {describe_record(item.record)}"
        else:
            produced = "ignored" if item.ignored else "-"
        out.append(f"{item.number:5}  {produced}")
        out.append(f"       {item.text}")
    unmapped = [item for item in checked if item.unmapped_error]
    if unmapped:
        out.append(f"error-looking lines no pattern maps ({len(unmapped)}):")
        out += [f"{item.number:5}  {item.text}" for item in unmapped]
    else:
        out.append("every error-looking line is mapped (or ignored)")
    return out


def cmd_check(profile_name: str, logfile: str | None) -> int:
    """The command: print the report; the exit code says whether anything is unmapped."""
    profile = resolve(profile_name)
    if logfile is None:
        lines = [example.line for example in profile.examples]
        source = "its examples (each maps as declared)"
    else:
        try:
            lines = Path(logfile).read_text(errors="replace").splitlines()
        except OSError as exc:
            raise InputError(f"cannot read the log {logfile}: {exc}") from exc
        source = logfile
    checked = check_lines(profile, lines)
    print("\n".join(render(profile, checked, source)))
    return ExitCode.FAILED if any(item.unmapped_error for item in checked) else ExitCode.OK
