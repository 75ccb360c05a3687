"""``router: {kind: command}``: any program, its argv and log patterns given in the scenario.

The patterns map the program's stdout/stderr lines to catalog events (``CommandPattern``), and
``ready`` names the event that says start-up is over (without it, one 41052/41055 per interface).
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from harness.event import Event
from harness.routers.base import LogPattern, LogPatternAdapter, ScenarioKey

if TYPE_CHECKING:
    from harness.scenario import RouterSpec


#: One of ``events: {patterns: [...]}``: a log line's regex and the catalog event it stands for.
PATTERN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["match"],
    "properties": {
        "match": {"type": "string", "description": "a Python regex over one log line"},
        "id": {"$ref": "#/$defs/eventId"},
        "symbol": {"$ref": "#/$defs/eventSymbol"},
        "interface": {"type": "string"},
        "errno": {"type": "string"},
        "strings": {"type": "array", "items": {"type": "string"}},
    },
}


class CommandAdapter(LogPatternAdapter):
    """A router given as a command line plus log patterns, straight from the scenario."""

    name: ClassVar[str] = "command"
    comparable: ClassVar[bool] = False  # its command line comes from the scenario
    own_keys: ClassVar[Mapping[str, ScenarioKey]] = {
        "argv": ScenarioKey(
            {"type": "array", "minItems": 1, "items": {"type": "string"}},
            needed="[PROGRAM, ARG ...]",
        ),
        "events": ScenarioKey(
            {
                "type": "object",
                "additionalProperties": False,
                "properties": {"patterns": {"type": "array", "items": PATTERN_SCHEMA}},
            }
        ),
    }

    def __init__(self, spec: RouterSpec | None = None) -> None:
        self.spec = spec
        self._patterns = tuple(
            LogPattern(
                re.compile(item.match),
                item.id,
                interface=item.interface,
                errno=item.errno,
                strings=item.strings,
            )
            for item in (spec.patterns if spec is not None else ())
        )

    @classmethod
    def for_spec(cls, spec: RouterSpec) -> CommandAdapter:
        return cls(spec)

    def log_patterns(self) -> Sequence[LogPattern]:
        return self._patterns

    def requires(self, spec: RouterSpec) -> list[str]:
        if not spec.argv:
            return ["router kind 'command' needs an argv"]
        if shutil.which(spec.argv[0]) is None:
            return [f"router command {spec.argv[0]!r} is not installed"]
        return []

    def features(self, spec: RouterSpec) -> tuple[str, ...]:
        """A raw socket, plus what ``options: {features: [...]}`` declares (e.g. ``mrt`` for a
        program that does MRT_INIT): faultlab cannot know what an arbitrary program needs."""
        declared = spec.extra.get("features") or ()
        if isinstance(declared, str):
            declared = (declared,)
        return ("raw-socket", *(str(name) for name in declared))

    def command(self, spec: RouterSpec, workdir: Path) -> list[str]:
        """The argv as written; ``{workdir}`` in an argument becomes the artifacts folder."""
        return [str(arg).replace("{workdir}", str(workdir)) for arg in spec.argv]

    def is_ready(self, events: Sequence[Event], spec: RouterSpec | None = None) -> bool:
        spec = spec or self.spec
        if spec is not None and spec.ready is not None:
            ready = spec.ready
            return any(ready.matches(event.record()) for event in events)
        return super().is_ready(events, spec)
