"""The JSON Schema of router profiles (docs/your-router.md), and validation against it.

A router profile is checked like a scenario: the schema says the shape (closed objects, so a
misspelt key gets a did-you-mean), harness.schema_messages words each error as
``file:line:column: message``. harness/profile.schema.json is this schema written out for
editors (``python -m harness.routers.profile_schema --write`` refreshes it; a test checks they
match). Built from the event catalog, like the scenario schema, so it cannot disagree with it.
"""

from __future__ import annotations

import json
import signal
import sys
from functools import cache
from pathlib import Path
from typing import Any

from harness import caches, catalog
from harness.catalog import OWN_EVENT_PATTERN
from harness.errors import Location
from harness.schema_messages import SchemaFacts, explain_all
from harness.yamlsource import Source

PROFILE_SCHEMA_ID = "https://faultlab.invalid/schema/profile.json"
PROFILE_SCHEMA_FILE = Path(__file__).resolve().parent.parent / "profile.schema.json"

#: A router's name (its ``router.kind``) and an event of its own vocabulary.
KIND_PATTERN = r"^[a-z][a-z0-9_-]*$"
DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m)\s*$"
HOOKS_PATTERN = r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$"
LOG_STREAMS = ("stdout", "stderr")
SIGNALS = tuple(sorted(s.name for s in signal.Signals if not s.name.startswith("SIG_")))

PATTERN_WORDS = {
    KIND_PATTERN: "a router name: lowercase letters, digits, '-' and '_'",
    OWN_EVENT_PATTERN: "an event name: lowercase letters, digits and '-' (cannot-join)",
    DURATION_PATTERN: "a duration such as 0.5, '500ms' or '2s'",
    HOOKS_PATTERN: "module:Class (harness.routers.frr:FrrHooks)",
}


def _event_ref() -> dict[str, Any]:
    """What a pattern, an example or ``ready`` names: a catalog event, or one of the profile's."""
    return {
        "id": {"enum": sorted(catalog.BY_ID), "description": "a catalog event ID"},
        "symbol": {"enum": sorted(catalog.BY_SYMBOL), "description": "a catalog event symbol"},
        "event": {
            "type": "string",
            "pattern": OWN_EVENT_PATTERN,
            "description": "one of the profile's own events (events:)",
        },
    }


def _defs() -> dict[str, Any]:
    duration = {
        "x-message": "a duration of 0 or more: seconds (0.5) or a string such as '500ms' or '2s'",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DURATION_PATTERN},
        ],
    }
    argument = {"type": "string"}
    return {
        "duration": duration,
        "argv": {
            "type": "array",
            "minItems": 1,
            "description": "the command line; placeholders {program} {interfaces} {workdir} "
            "{config} {profile_dir} {version} {node} {TIMER} {options.NAME}; a list item is "
            "repeated per interface with {interface}; an argument with {{ }} or {% %} is a "
            "jinja2 template (left out when it renders to nothing)",
            "items": {
                "x-message": "an argument (a string), or a list of arguments repeated per "
                "interface ({interface})",
                "anyOf": [argument, {"type": "array", "minItems": 1, "items": argument}],
            },
        },
        "pattern": {
            "type": "object",
            "additionalProperties": False,
            "required": ["match"],
            "properties": {
                "match": {"type": "string", "description": "a Python regex over one log line"},
                **_event_ref(),
                "interface": {"type": "string", "description": "a literal or {group}"},
                "address": {
                    "type": "string",
                    "description": "{group} naming an interface address (address_lines map it)",
                },
                "errno": {"type": "string", "description": "a literal or {group}"},
                "call": {"type": "string", "description": "the failed call, e.g. sendto"},
                "strings": {"type": "array", "items": {"type": "string"}},
                "comment": {"type": "string"},
            },
        },
        "example": {
            "type": "object",
            "additionalProperties": False,
            "required": ["line"],
            "properties": {
                "line": {"type": "string", "description": "a log line as the router writes it"},
                **_event_ref(),
                "interface": {"type": "string"},
                "errno": {
                    "description": "an errno name or number",
                    "anyOf": [{"type": "string"}, {"type": "integer", "minimum": 1}],
                },
                "call": {"type": "string"},
                "strings": {"type": "array", "items": {"type": "string"}},
                "comment": {"type": "string"},
            },
        },
        "ownEvent": {
            "type": "object",
            "additionalProperties": False,
            "required": ["level"],
            "properties": {
                "level": {"enum": [level.value for level in catalog.Level]},
                "id": {
                    "enum": sorted(catalog.BY_ID),
                    "description": "the catalog event it corresponds to",
                },
                "description": {"type": "string"},
            },
        },
        "logSource": {
            "x-message": "stdout, stderr or {file: NAME} (a file in the workdir)",
            "anyOf": [
                {"enum": list(LOG_STREAMS)},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["file"],
                    "properties": {"file": {"type": "string", "minLength": 1}},
                },
            ],
        },
    }


def _query_period() -> dict[str, Any]:
    return {
        "description": "seconds between two general queries: a duration, {timer: NAME, ...} "
        "(the scenario's timer, else default), or null (not known: explore judges joins)",
        "x-message": "a duration, {timer: query_interval, default: ..., min: ..., max: ..., "
        "round: nearest|up} or null",
        "anyOf": [
            {"type": "null"},
            {"$ref": "#/$defs/duration"},
            {
                "type": "object",
                "additionalProperties": False,
                "required": ["timer"],
                "properties": {
                    "timer": {"type": "string"},
                    "default": {"$ref": "#/$defs/duration"},
                    "min": {"$ref": "#/$defs/duration"},
                    "max": {"$ref": "#/$defs/duration"},
                    "round": {
                        "enum": ["nearest", "up"],
                        "description": "to whole seconds, before min and max",
                    },
                },
            },
        ],
    }


def _ready() -> dict[str, Any]:
    return {
        "description": "when start-up is over: an event (per_interface: one per interface); "
        "without it, one 41052/41055 per interface",
        "type": "object",
        "additionalProperties": False,
        "properties": {
            **_event_ref(),
            "interface": {"type": "string"},
            "per_interface": {"type": "boolean"},
            "timeout": {"$ref": "#/$defs/duration"},
        },
    }


@cache
def build_profile_schema() -> dict[str, Any]:
    """The router profile's JSON Schema (Draft 2020-12)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": PROFILE_SCHEMA_ID,
        "title": "faultlab router profile",
        "description": "How to run one router and read its log. See docs/your-router.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "argv"],
        "properties": {
            "name": {"type": "string", "pattern": KIND_PATTERN, "maxLength": 32},
            "description": {"type": "string"},
            "version": {
                "type": "array",
                "minItems": 1,
                "items": {"type": "string"},
                "description": "the command that prints the router's version",
            },
            "binary": {
                "type": "string",
                "description": "the main program, {program} in argv (default: programs' first)",
            },
            "programs": {
                "type": "array",
                "items": {"type": "string"},
                "description": "programs that must be installed (default: argv's first)",
            },
            "program_dirs": {"type": "array", "items": {"type": "string"}},
            "package": {"type": "string", "description": "the Debian package that has them"},
            "package_note": {"type": "string"},
            "unpacked": {"type": "boolean"},
            "argv": {"$ref": "#/$defs/argv"},
            "config": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string", "description": "its file name in the workdir"},
                    "template": {"type": "string", "description": "a jinja2 template"},
                    "file": {"type": "string", "description": "a jinja2 template file"},
                },
            },
            "log": {
                "description": "where the log comes from (default: stdout and stderr)",
                "anyOf": [
                    {"$ref": "#/$defs/logSource"},
                    {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/logSource"}},
                ],
            },
            "events": {
                "type": "object",
                "description": "the router's own vocabulary: name -> {level, id}",
                "propertyNames": {"pattern": OWN_EVENT_PATTERN},
                "additionalProperties": {"$ref": "#/$defs/ownEvent"},
            },
            "patterns": {"type": "array", "items": {"$ref": "#/$defs/pattern"}},
            "address_lines": {
                "type": "array",
                "items": {"type": "string"},
                "description": "regexes with (?P<interface>) and (?P<address>) or (?P<subnet>)",
            },
            "ignore": {
                "type": "array",
                "items": {"type": "string"},
                "description": "regexes of harmless lines: never events, never listed as errors",
            },
            "ready": _ready(),
            "query_period": _query_period(),
            "timers": {
                "type": "object",
                "description": "the router's own defaults, used when a scenario gives none",
                "additionalProperties": {"type": "number"},
            },
            "features": {
                "type": "array",
                "items": {"type": "string"},
                "description": "the doctor's features it needs (raw-socket, mrt ...)",
            },
            "exit_codes": {
                "type": "object",
                "propertyNames": {"pattern": r"^-?[0-9]+$"},
                "additionalProperties": {"type": "string"},
                "description": "exit status -> what it means",
            },
            "stop_signal": {"enum": list(SIGNALS)},
            "start_timeout": {"$ref": "#/$defs/duration"},
            "compare_window": {"$ref": "#/$defs/duration"},
            "querier": {"type": "boolean"},
            "comparable": {"type": "boolean"},
            "hooks": {"type": "string", "pattern": HOOKS_PATTERN},
            "examples": {"type": "array", "items": {"$ref": "#/$defs/example"}},
            "identify": {
                "type": "object",
                "additionalProperties": False,
                "description": "how `faultlab reproduce` recognises a pasted log of this router",
                "properties": {
                    "tags": {
                        "type": "string",
                        "description": "regex of the program names in syslog, journal or docker "
                        "prefixes (default: the profile's name)",
                    },
                    "markers": {
                        "type": "string",
                        "description": "regex of wording only this router writes",
                    },
                    "version": {
                        "type": "string",
                        "description": "regex of the banner giving its version, with "
                        "(?P<version>...)",
                    },
                },
            },
        },
        "$defs": _defs(),
    }


caches.register("routers.profile_schema", build_profile_schema.cache_clear, "run")


def profile_schema_text() -> str:
    """The schema as the text of harness/profile.schema.json."""
    return json.dumps(build_profile_schema(), indent=2) + "\n"


def validate_profile(source: Source) -> list[tuple[Location, str]]:
    """Every schema problem of a parsed profile, in file order, each with a clear message."""
    from jsonschema import Draft202012Validator

    schema = build_profile_schema()
    facts = SchemaFacts(
        defs=schema["$defs"], fault_parameters={}, refused_kinds={}, pattern_words=PATTERN_WORDS
    )
    errors = Draft202012Validator(schema).iter_errors(source.data)
    return explain_all(errors, source, facts)


def main(argv: list[str] | None = None) -> int:
    """Print the profile schema, or refresh harness/profile.schema.json with ``--write``."""
    args = sys.argv[1:] if argv is None else argv
    if "--write" in args:
        PROFILE_SCHEMA_FILE.write_text(profile_schema_text(), encoding="utf-8")
        print(f"wrote {PROFILE_SCHEMA_FILE}")
    else:
        sys.stdout.write(profile_schema_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
