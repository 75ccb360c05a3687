"""The JSON Schema of scenario files, and validation against it.

The schema is built from the data it names (the event catalog, the errno table, the fault kinds
and their parameters), so it can never disagree with them; harness/schema.json is the same schema
written out for editors (``python -m harness.schema`` or ``faultlab schema --write`` refreshes it;
a test checks they match). Validation collects every error; harness.schema_messages turns each
into one ``file:line:column: message`` that says what is wrong and what is valid.
"""

from __future__ import annotations

import errno as _errno
import json
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import catalog
from harness.catalog import OWN_EVENT_PATTERN
from harness.errors import Location
from harness.expectations import KINDS, ExpectationKind
from harness.expectations.base import EVENT_FIELDS
from harness.scenario import COUNT_TIMERS, TIMER_NAMES
from harness.schema_messages import SchemaFacts, explain_all
from harness.yamlsource import Source

if TYPE_CHECKING:
    from harness.faults import Fault

    FaultRegistry = tuple[tuple[str, type[Fault]], ...]

ExpectationKinds = tuple[ExpectationKind, ...]

SCHEMA_ID = "https://faultlab.invalid/schema/scenario.json"
SCHEMA_FILE = Path(__file__).with_name("schema.json")

DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m)\s*$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

FAULT_COMMON_KEYS = ("kind", "node", "when", "clear", "comment")


# --------------------------------------------------------------------------------------------
# What the schema names: router kinds, fault kinds and their parameters, errno names
# --------------------------------------------------------------------------------------------
# The registries (harness.routers.ADAPTERS, harness.faults.FAULT_KINDS) are imported when the
# schema is first built, not with this module: `faultlab validate` stays light until it needs
# them, and a registry that fails to import fails the schema loudly.


def router_kinds() -> tuple[str, ...]:
    """Every router kind with an adapter (harness.routers.ADAPTERS), in registration order."""
    from harness.routers import ADAPTERS

    return tuple(ADAPTERS)


def _fault_registry() -> FaultRegistry:
    """The fault classes offered to scenario files (faultlab explore's internal ones left out)."""
    from harness.faults import FAULT_KINDS

    return tuple((kind, cls) for kind, cls in FAULT_KINDS.items() if not cls.internal)


def fault_kinds() -> tuple[str, ...]:
    """The fault kinds a scenario may name, sorted."""
    return tuple(sorted(kind for kind, _ in _fault_registry()))


def fault_parameter_schemas() -> dict[str, dict[str, Any]]:
    """kind -> {properties, required} of its own parameters (each class's ``params``)."""
    return _parameter_schemas(_fault_registry())


@cache
def _parameter_schemas(registry: FaultRegistry) -> dict[str, dict[str, Any]]:
    return {
        kind: {
            "properties": {k: v for k, v in cls.params.items() if k not in FAULT_COMMON_KEYS},
            "required": [k for k in cls.required if k not in FAULT_COMMON_KEYS],
        }
        for kind, cls in registry
    }


def refused_kinds() -> dict[str, str]:
    """Fault kinds the engine refuses because they would change the host, and why."""
    from harness.faults import REFUSED_KINDS

    return dict(REFUSED_KINDS)


def errno_names() -> list[str]:
    """Every errno name this table accepts: Linux names and the Winsock names of the catalog."""
    linux = set(_errno.errorcode.values())
    winsock = {"WSA" + name for name in catalog.WINSOCK if name.startswith("E")}
    return sorted(linux | winsock)


# --------------------------------------------------------------------------------------------
# The schema
# --------------------------------------------------------------------------------------------


def _defs(kinds: ExpectationKinds) -> dict[str, Any]:
    ids = sorted(catalog.BY_ID)
    symbols = sorted(catalog.BY_SYMBOL)
    levels = [level.value for level in catalog.Level]
    duration = {
        "description": "seconds (0.5) or a string with a unit ('500ms', '2s', '1m')",
        "x-message": "a duration of 0 or more: seconds (0.5) or a string such as '500ms' or '2s'",
        "anyOf": [
            {"type": "number", "minimum": 0},
            {"type": "string", "pattern": DURATION_PATTERN},
        ],
    }
    return {
        "duration": duration,
        "name": {"type": "string", "pattern": NAME_PATTERN, "maxLength": 32},
        "errno": {
            "description": "an errno name (EADDRINUSE), number (98) or Winsock code (10048)",
            "x-message": "an errno name (EADDRINUSE), an errno number (98) or a Winsock code (10048)",
            "anyOf": [{"enum": errno_names()}, {"type": "integer", "minimum": 1}],
        },
        "eventRef": {
            "description": "a catalog event ID or symbol",
            "x-message": "a catalog event ID (41028) or symbol (IGMPLOG_SET_MCAST_IF_FAILED)",
            "anyOf": [{"$ref": "#/$defs/eventId"}, {"$ref": "#/$defs/eventSymbol"}],
        },
        "eventId": {"description": "catalog event ID (faultlab catalog)", "enum": ids},
        "eventSymbol": {"description": "catalog event symbol", "enum": symbols},
        "level": {"enum": levels},
        "strings": {"type": "array", "items": {"type": ["string", "number"]}},
        "ownEvent": {
            "type": "string",
            "pattern": OWN_EVENT_PATTERN,
            "description": "an event of the router profile's own vocabulary (its events:)",
        },
        "from": {
            "$ref": "#/$defs/name",
            "description": "a traffic item's id: the deadline or window starts when it was done "
            "(fault phase only; recovery runs from the last clear)",
        },
        "eventMatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**EVENT_FIELDS, "comment": {"type": "string"}},
        },
        **{name: item for kind in kinds for name, item in kind.defs().items()},
        "trigger": {
            "description": "an event that triggers a fault, its clearing, or a traffic item",
            "type": "object",
            "additionalProperties": False,
            "required": ["event"],
            "properties": {
                "event": {
                    "x-message": "a catalog event ID (41052) or symbol, or an event of the "
                    "router profile's own (cannot-join)",
                    "anyOf": [
                        {"$ref": "#/$defs/eventRef"},
                        {"type": "string", "pattern": OWN_EVENT_PATTERN},
                    ],
                },
                "interface": {"type": "string"},
                "errno": {"$ref": "#/$defs/errno"},
                "level": {"$ref": "#/$defs/level"},
                "strings": {"$ref": "#/$defs/strings"},
                "delay": {"$ref": "#/$defs/duration"},
            },
        },
        "trafficTrigger": {
            "description": "another traffic item (by its id) done first, plus a delay",
            "type": "object",
            "additionalProperties": False,
            "required": ["traffic"],
            "properties": {
                "traffic": {"$ref": "#/$defs/name"},
                "delay": {"$ref": "#/$defs/duration"},
            },
        },
        "when": {
            "x-message": "when: before-start, {at: DURATION} or {after: {event: ID, ...}}",
            "anyOf": [
                {"const": "before-start"},
                _single("at", {"$ref": "#/$defs/duration"}),
                _single("after", {"$ref": "#/$defs/trigger"}),
            ],
        },
        "clear": {
            "x-message": "clear: never, {at: DURATION}, {after: DURATION} or {after: {event: ID}}",
            "anyOf": [
                {"const": "never"},
                _single("at", {"$ref": "#/$defs/duration"}),
                _single("after", {"$ref": "#/$defs/duration"}),
                _single("after", {"$ref": "#/$defs/trigger"}),
            ],
        },
        "endpoint": {
            "description": "NODE:IFNAME [ADDRESS/PREFIX ...], or the same as a mapping",
            "x-message": "an endpoint: 'NODE:IFNAME [ADDRESS/PREFIX ...]' or {node, ifname, addresses}",
            "anyOf": [
                {"type": "string", "pattern": r"^\s*[^\s:]+:[^\s:]+(\s+\S+)*\s*$"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["node", "ifname"],
                    "properties": {
                        "node": {"$ref": "#/$defs/name"},
                        "ifname": {"type": "string"},
                        "addresses": {"type": "array", "items": {"type": "string"}},
                    },
                },
            ],
        },
        "sysctls": {
            "type": "object",
            "additionalProperties": {"type": ["string", "number", "boolean"]},
        },
        "interface": {
            "x-message": "an interface name, or {name: IFNAME, mode: router|internal}",
            "anyOf": [
                {"type": "string"},
                {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name"],
                    "properties": {
                        "name": {"type": "string"},
                        "mode": {"enum": ["router", "internal"]},
                        "static_groups": {"type": "array", "items": {"type": "string"}},
                    },
                },
            ],
        },
    }


def _single(key: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": [key],
        "properties": {key: schema},
    }


def _topology() -> dict[str, Any]:
    node_map = {
        "type": "object",
        "propertyNames": {"$ref": "#/$defs/name"},
        "additionalProperties": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {"sysctls": {"$ref": "#/$defs/sysctls"}},
        },
    }
    return {
        "type": "object",
        "description": "the namespace lab (docs/architecture.md section 1)",
        "additionalProperties": False,
        "required": ["nodes"],
        "properties": {
            "nodes": {
                "x-message": "nodes: a list of node names, or a mapping of node name to settings",
                "anyOf": [
                    {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/name"}},
                    node_map,
                ],
            },
            "links": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["a", "b"],
                    "properties": {
                        "a": {"$ref": "#/$defs/endpoint"},
                        "b": {"$ref": "#/$defs/endpoint"},
                        "up": {"type": "boolean"},
                    },
                },
            },
            "lans": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["name", "members"],
                    "properties": {
                        "name": {"$ref": "#/$defs/name"},
                        "members": {
                            "type": "array",
                            "minItems": 1,
                            "items": {"$ref": "#/$defs/endpoint"},
                        },
                    },
                },
            },
            "routes": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": False,
                    "required": ["node", "dst"],
                    "properties": {
                        "node": {"type": "string"},
                        "dst": {"type": "string"},
                        "via": {"type": "string"},
                        "dev": {"type": "string"},
                    },
                },
            },
            "sysctls": {"type": "object", "additionalProperties": {"$ref": "#/$defs/sysctls"}},
        },
    }


def _router(kinds: tuple[str, ...]) -> dict[str, Any]:
    timers = {
        name: {"$ref": "#/$defs/duration"}
        if name not in COUNT_TIMERS
        else {"type": "integer", "minimum": 0}
        for name in TIMER_NAMES
    }
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "interfaces"],
        "properties": {
            "kind": {"enum": list(kinds), "default": "igmpd"},
            "node": {"type": "string"},
            "interfaces": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/interface"}},
            "version": {"enum": [1, 2, 3], "default": 3},
            **timers,
            **_own_keys(kinds),
            "ready": {"$ref": "#/$defs/eventMatch"},
            "options": {"type": "object", "description": "adapter-specific settings"},
            "profile": {
                "type": "string",
                "description": "a router profile file, relative to this file (docs/your-router.md)",
            },
        },
    }


def _own_keys(kinds: tuple[str, ...]) -> dict[str, Any]:
    """The schema pieces of the ``router:`` keys the adapters of ``kinds`` own (``own_keys``; a
    router profile's kind owns none)."""
    from harness.routers import ADAPTERS

    adapters = [dict.get(ADAPTERS, kind) for kind in kinds]
    owned = [getattr(adapter, "own_keys", {}) for adapter in adapters]
    return {key: dict(own.schema) for keys in owned for key, own in keys.items()}


def _fault(registry: FaultRegistry) -> dict[str, Any]:
    params = _parameter_schemas(registry)
    common: dict[str, Any] = {
        "kind": {"enum": sorted(params)},
        "node": {"type": "string"},
        "when": {"$ref": "#/$defs/when"},
        "clear": {"$ref": "#/$defs/clear"},
        "comment": {"type": "string"},
    }
    fault: dict[str, Any] = {
        "type": "object",
        "required": ["kind"],
        "properties": common,
        "description": "a fault from the fault table (faultlab list --faults)",
    }
    fault["allOf"] = [
        {
            "if": {"properties": {"kind": {"const": kind}}, "required": ["kind"]},
            "then": {"properties": own["properties"], "required": own["required"]},
        }
        for kind, own in sorted(params.items())
    ]
    fault["unevaluatedProperties"] = False
    return fault


def _traffic() -> dict[str, Any]:
    group = {"type": "string", "description": "a multicast group address"}
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["node", "ifname"],
        "properties": {
            "node": {"type": "string"},
            "join": group,
            "leave": group,
            "query": {"const": "general"},
            "source": {"type": "string"},
            "ifname": {"type": "string"},
            "id": {"$ref": "#/$defs/name", "description": "a name for after: {traffic: ID}"},
            "at": {"$ref": "#/$defs/duration"},
            "after": {
                "description": "do it when a router event is seen or another item was done",
                "x-message": "after: {event: ID or SYMBOL, interface: IF, delay: DURATION} or "
                "{traffic: ID, delay: DURATION}",
                "anyOf": [{"$ref": "#/$defs/trigger"}, {"$ref": "#/$defs/trafficTrigger"}],
            },
            "igmp_version": {"enum": [1, 2, 3]},
            "comment": {"type": "string"},
        },
    }


def _expect(kinds: ExpectationKinds) -> dict[str, Any]:
    """``expect:``: one key per registered expectation kind (harness.expectations)."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {kind.key: kind.schema() for kind in kinds},
    }


def build_schema(extra_kinds: tuple[str, ...] = ()) -> dict[str, Any]:
    """The scenario file's JSON Schema (Draft 2020-12), built from the catalog and the router
    and fault registries (rebuilt when an adapter or a fault kind is registered).

    ``extra_kinds`` are router profiles a file's ``kind:`` found on its profile path
    (harness.routers.profile): valid for that file, never in the shipped schema."""
    kinds = router_kinds()
    routers = kinds + tuple(k for k in extra_kinds if k not in kinds)
    return _build_schema(routers, _fault_registry(), tuple(KINDS.values()))


@cache
def _build_schema(
    routers: tuple[str, ...], faults: FaultRegistry, expectations: ExpectationKinds
) -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "faultlab scenario",
        "description": "One faultlab scenario: topology, router, faults, traffic, expectations. "
        "See docs/scenario-format.md.",
        "type": "object",
        "additionalProperties": False,
        "required": ["name", "topology", "router", "expect"],
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "tags": {"type": "array", "items": {"type": "string", "pattern": r"^[A-Za-z0-9_-]+$"}},
            "timeout": {"$ref": "#/$defs/duration"},
            "topology": _topology(),
            "router": _router(routers),
            "faults": {"type": "array", "items": _fault(faults)},
            "traffic": {"type": "array", "items": _traffic()},
            "expect": _expect(expectations),
        },
        "$defs": _defs(expectations),
    }


def schema_text() -> str:
    """The schema as the text of harness/schema.json."""
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------------------------
# Validation: every error, as file:line:column: message (worded by harness.schema_messages)
# --------------------------------------------------------------------------------------------

#: What each string pattern of the schema asks for, in words (for the messages).
PATTERN_WORDS: dict[str, str] = {
    DURATION_PATTERN: "a duration such as 0.5, '500ms' or '2s'",
    NAME_PATTERN: "a name: letters, digits, '_', '.', '-'",
    OWN_EVENT_PATTERN: "an event name of the router profile: lowercase letters, digits, '-'",
}


def pattern_words() -> dict[str, str]:
    """PATTERN_WORDS and the expectation kinds' own patterns in words."""
    words = dict(PATTERN_WORDS)
    for kind in KINDS.values():
        words.update(kind.patterns)
    return words


def validate(source: Source, extra_kinds: tuple[str, ...] = ()) -> list[tuple[Location, str]]:
    """Every schema problem of a parsed file, in file order, each with a clear message."""
    from jsonschema import Draft202012Validator

    schema = build_schema(extra_kinds)
    facts = SchemaFacts(
        defs=schema["$defs"],
        fault_parameters=fault_parameter_schemas(),
        refused_kinds=refused_kinds(),
        pattern_words=pattern_words(),
    )
    errors = Draft202012Validator(schema).iter_errors(source.data)
    return explain_all(errors, source, facts)


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.schema [--write]``: print the schema, or refresh harness/schema.json."""
    args = sys.argv[1:] if argv is None else argv
    if "--write" in args:
        SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
        print(f"wrote {SCHEMA_FILE}")
    else:
        sys.stdout.write(schema_text())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
