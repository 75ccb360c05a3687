"""The JSON Schema of scenario files, and its errors turned into ``file:line:column: message``.

The schema is built from the data it names (the event catalog, the errno table, the fault kinds
and their parameters), so it can never disagree with them; harness/schema.json is the same schema
written out for editors (``python -m harness.schema`` or ``faultlab schema --write`` refreshes it;
a test checks they match). Validation collects every error, and turns each into one message that
says what is wrong and what is valid, with a did-you-mean for misspelt keys and names.
"""

from __future__ import annotations

import errno as _errno
import json
import sys
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import catalog
from harness.errors import Location
from harness.suggest import closest
from harness.yamlsource import Source

if TYPE_CHECKING:
    from harness.faults import Fault

    FaultRegistry = tuple[tuple[str, type[Fault]], ...]

SCHEMA_ID = "https://faultlab.invalid/schema/scenario.json"
SCHEMA_FILE = Path(__file__).with_name("schema.json")
MULTICAST_ROUTING = ("auto", "on", "off")  # igmpd --multicast-routing

DURATION_PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m)\s*$"
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"
ENDPOINT_REF_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*:[^\s:]+$"

TIMERS = {
    "query_interval": "duration",
    "query_response_interval": "duration",
    "robustness": "count",
    "startup_query_interval": "duration",
    "startup_query_count": "count",
    "last_member_query_interval": "duration",
    "last_member_query_count": "count",
    "retry_interval": "duration",
}
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


def _defs() -> dict[str, Any]:
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
    event_fields = {
        "id": {"description": "catalog event ID (faultlab catalog)", "enum": ids},
        "symbol": {"description": "catalog event symbol", "enum": symbols},
        "interface": {"type": "string", "description": "the interface the event names"},
        "errno": {"$ref": "#/$defs/errno"},
        "level": {"enum": levels},
        "strings": {"type": "array", "items": {"type": ["string", "number"]}},
    }
    start = {
        "$ref": "#/$defs/name",
        "description": "a traffic item's id: the deadline or window starts when it was done "
        "(fault phase only; recovery runs from the last clear)",
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
            "anyOf": [{"enum": ids}, {"enum": symbols}],
        },
        "eventMatch": {
            "type": "object",
            "additionalProperties": False,
            "properties": {**event_fields, "comment": {"type": "string"}},
        },
        "eventExpectation": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **event_fields,
                "count": {"type": "integer", "minimum": 1, "description": "exactly this many"},
                "at_least": {"type": "integer", "minimum": 1},
                "within": {"$ref": "#/$defs/duration"},
                "from": start,
                "comment": {"type": "string"},
            },
        },
        "absence": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                **event_fields,
                "any_error": {"type": "boolean"},
                "window": {"$ref": "#/$defs/duration"},
                "from": start,
                "comment": {"type": "string"},
            },
        },
        "packetExpectation": {
            "type": "object",
            "additionalProperties": False,
            "required": ["on"],
            "properties": {
                "on": {
                    "type": "string",
                    "pattern": ENDPOINT_REF_PATTERN,
                    "description": "NODE:IFNAME",
                },
                "query": {"enum": ["general", "group", "any"]},
                "group": {"type": "string"},
                "version": {"enum": [1, 2, 3]},
                "ttl": {"type": "integer", "minimum": 0, "maximum": 255},
                "router_alert": {"type": "boolean"},
                "count": {"type": "integer", "minimum": 1},
                "at_least": {"type": "integer", "minimum": 1},
                "none": {"type": "boolean"},
                "within": {"$ref": "#/$defs/duration"},
                "window": {"$ref": "#/$defs/duration"},
                "from": start,
                "comment": {"type": "string"},
            },
        },
        "trigger": {
            "description": "an event that triggers a fault, its clearing, or a traffic item",
            "type": "object",
            "additionalProperties": False,
            "required": ["event"],
            "properties": {
                "event": {"$ref": "#/$defs/eventRef"},
                "interface": {"type": "string"},
                "errno": {"$ref": "#/$defs/errno"},
                "level": {"enum": levels},
                "strings": {"type": "array", "items": {"type": ["string", "number"]}},
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
        if kind == "duration"
        else {"type": "integer", "minimum": 0}
        for name, kind in TIMERS.items()
    }
    pattern = {
        "type": "object",
        "additionalProperties": False,
        "required": ["match"],
        "properties": {
            "match": {"type": "string", "description": "a Python regex over one log line"},
            "id": {"enum": sorted(catalog.BY_ID)},
            "symbol": {"enum": sorted(catalog.BY_SYMBOL)},
            "interface": {"type": "string"},
            "errno": {"type": "string"},
            "strings": {"type": "array", "items": {"type": "string"}},
        },
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
            "multicast_routing": {
                "enum": list(MULTICAST_ROUTING),
                "default": "auto",
                "description": "igmpd: on (MRT_INIT and VIFs; needs the kernel's multicast "
                "routing), off (packet sockets), auto (on where the kernel has it)",
            },
            **timers,
            "argv": {"type": "array", "minItems": 1, "items": {"type": "string"}},
            "events": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"patterns": {"type": "array", "items": pattern}},
            },
            "ready": {"$ref": "#/$defs/eventMatch"},
            "options": {"type": "object", "description": "adapter-specific settings"},
        },
    }


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


def _expect() -> dict[str, Any]:
    def items(ref: str) -> dict[str, Any]:
        return {"type": "array", "items": {"$ref": f"#/$defs/{ref}"}}

    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "events": items("eventExpectation"),
            "order": {"type": "array", "minItems": 2, "items": {"$ref": "#/$defs/eventRef"}},
            "absent": items("absence"),
            "packets": items("packetExpectation"),
            "state": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "interfaces": {
                        "type": "object",
                        "additionalProperties": {"enum": ["active", "inactive"]},
                    },
                    "groups": {
                        "type": "object",
                        "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    },
                    "within": {"$ref": "#/$defs/duration"},
                },
            },
            "router": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "running": {"type": "boolean"},
                    "exit": {"type": "integer", "minimum": 0, "maximum": 255},
                    "within": {"$ref": "#/$defs/duration"},
                },
            },
            "recovery": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "events": items("eventExpectation"),
                    "packets": items("packetExpectation"),
                    "absent": items("absence"),
                },
            },
        },
    }


def build_schema() -> dict[str, Any]:
    """The scenario file's JSON Schema (Draft 2020-12), built from the catalog and the router
    and fault registries (rebuilt when an adapter or a fault kind is registered)."""
    return _build_schema(router_kinds(), _fault_registry())


@cache
def _build_schema(routers: tuple[str, ...], faults: FaultRegistry) -> dict[str, Any]:
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
            "expect": _expect(),
        },
        "$defs": _defs(),
    }


def schema_text() -> str:
    """The schema as the text of harness/schema.json."""
    return json.dumps(build_schema(), indent=2, sort_keys=False) + "\n"


# --------------------------------------------------------------------------------------------
# Validation: every error, as file:line:column: message
# --------------------------------------------------------------------------------------------


def validate(source: Source) -> list[tuple[Location, str]]:
    """Every schema problem of a parsed file, in file order, each with a clear message."""
    from jsonschema import Draft202012Validator

    validator = Draft202012Validator(build_schema())
    problems: list[tuple[Location, str]] = []
    for error in validator.iter_errors(source.data):
        problems.extend(_explain(error, source))
    return _dedupe(problems)


def _dedupe(problems: list[tuple[Location, str]]) -> list[tuple[Location, str]]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for where, message in problems:
        if (str(where), message) not in seen:
            seen.add((str(where), message))
            unique.append((where, message))
    return sorted(unique, key=lambda item: (item[0].line or 0, item[0].column or 0))


def _explain(error: Any, source: Source) -> list[tuple[Location, str]]:
    path = tuple(error.absolute_path)
    where = _describe_path(path)
    validator = error.validator
    if validator in {"additionalProperties", "unevaluatedProperties"}:
        if validator == "unevaluatedProperties" and not _known_kind(error.instance):
            return []  # the unknown kind is the error; its parameters cannot be judged
        return _unknown_keys(error, source, path, _allowed_keys(error, error.instance))
    if validator in {"anyOf", "oneOf"}:
        return _explain_alternatives(error, source, path)
    if validator == "required":
        return _missing_key(error, source, path)
    message = _message(error, path)
    return [(source.locate(path), f"{where}: {message}" if where else message)]


def _known_kind(instance: Any) -> bool:
    return isinstance(instance, Mapping) and str(instance.get("kind")) in fault_parameter_schemas()


def _missing_key(error: Any, source: Source, path: tuple) -> list[tuple[Location, str]]:
    missing = error.message.split("'")[1] if "'" in error.message else error.message
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
    misspelt = [key for key in instance if key not in known and _did_you_mean(key, [missing])]
    if misspelt:
        return []  # the unknown-key message already says "did you mean"
    where = _describe_path(path) or "the scenario"
    return [(source.locate(path), f"{where}: missing required key '{missing}'")]


def _explain_alternatives(error: Any, source: Source, path: tuple) -> list[tuple[Location, str]]:
    """A value matching none of several shapes: explain the shape it was closest to."""
    where = _describe_path(path)
    instance = error.instance
    alternatives = [_resolve(sub) for sub in error.validator_value]
    if isinstance(instance, Mapping):
        shapes = [alt for alt in alternatives if alt.get("type") == "object"]
        if shapes:
            allowed = sorted({key for alt in shapes for key in alt.get("properties", {})})
            unknown = _unknown_keys(error, source, path, allowed)
            if unknown:
                return unknown
            deeper = [sub for sub in error.context or () if sub.relative_path]
            if deeper:
                return _explain(max(deeper, key=lambda sub: len(sub.relative_path)), source)
    return [(source.locate(path), f"{where}: {_alternatives_message(error, alternatives)}")]


def _resolve(schema: Any) -> dict[str, Any]:
    """A subschema with a local $ref replaced by the definition it names."""
    if isinstance(schema, Mapping) and str(schema.get("$ref", "")).startswith("#/$defs/"):
        return dict(build_schema()["$defs"].get(schema["$ref"].split("/")[-1], {}))
    return dict(schema) if isinstance(schema, Mapping) else {}


def _message(error: Any, path: tuple) -> str:
    instance = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if validator_is(error, "enum", "const"):
        options = schema.get("enum", [schema.get("const")])
        return _not_one_of(instance, options, path)
    if validator_is(error, "type"):
        return f"expected {_type_words(error.validator_value)}, got {_show(instance)}"
    if validator_is(error, "pattern"):
        return f"{_show(instance)} is not valid here ({_pattern_words(error.validator_value)})"
    if validator_is(error, "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
        return f"{_show(instance)} is out of range ({_bound_words(error)})"
    if validator_is(error, "minItems"):
        return f"needs at least {error.validator_value} item(s)"
    if validator_is(error, "maxLength"):
        return f"{_show(instance)} is too long (at most {error.validator_value} characters)"
    if validator_is(error, "minLength"):
        return "must not be empty"
    return error.message


def validator_is(error: Any, *names: str) -> bool:
    return error.validator in names


def _alternatives_message(error: Any, alternatives: list[dict[str, Any]]) -> str:
    instance = error.instance
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    expected = schema.get("x-message") or _ref_message(schema) or "a valid value"
    options = [option for alt in alternatives for option in _enum_of(alt)]
    if isinstance(instance, str) and options:
        guess = _did_you_mean(instance, options)
        if guess:
            return f"{_show(instance)} is unknown; {guess} (expected {expected})"
    return f"{_show(instance)} is not valid: expected {expected}"


def _ref_message(schema: Mapping[str, Any]) -> str | None:
    """The x-message of the $ref'd definition (jsonschema reports the referring schema)."""
    return _resolve(schema).get("x-message") if "$ref" in schema else None


def _enum_of(schema: Mapping[str, Any]) -> list[Any]:
    options = list(schema.get("enum", []))
    if "const" in schema:
        options.append(schema["const"])
    for sub in schema.get("anyOf", []):
        options.extend(_enum_of(_resolve(sub)))
    return options


def _not_one_of(instance: Any, options: list[Any], path: tuple) -> str:
    if _subject(path) == "a fault kind" and str(instance) in refused_kinds():
        reason = refused_kinds()[str(instance)]
        return f"fault kind {instance!r} refused: it would change the host, not only the lab ({reason})"
    subject = _subject(path)
    guess = _did_you_mean(instance, options)
    listing = ", ".join(str(option) for option in options[:12])
    more = ", ..." if len(options) > 12 else ""
    hint = _next_command(path)
    head = f"{_show(instance)} is not {subject}"
    if guess:
        return f"{head}; {guess}{hint}"
    return f"{head} (valid: {listing}{more}){hint}"


def _subject(path: tuple) -> str:
    last = path[-1] if path else ""
    if path[:1] == ("faults",) and last == "kind":
        return "a fault kind"
    return {
        "id": "a catalog event ID",
        "symbol": "a catalog event symbol",
        "event": "a catalog event",
        "kind": "a router kind",
        "level": "an event level",
        "mode": "an interface mode",
        "version": "an IGMP version",
    }.get(str(last), "a valid value")


def _next_command(path: tuple) -> str:
    last = path[-1] if path else ""
    if path[:1] == ("faults",) and last == "kind":
        return " (faultlab list --faults)"
    if last in {"id", "symbol", "event"}:
        return " (faultlab catalog)"
    return ""


def _did_you_mean(value: Any, options: Iterable[Any]) -> str | None:
    words = [str(option) for option in options if option is not None]
    close = closest(value, words)
    if close is None and isinstance(value, str):
        close = next((w for w in words if w.upper() == value.upper()), None)
    return f"did you mean {_quote(close)}?" if close is not None else None


def _quote(word: str) -> str:
    return word if word.isdigit() else f"'{word}'"


def _unknown_keys(
    error: Any, source: Source, path: tuple, allowed: list[str]
) -> list[tuple[Location, str]]:
    instance = error.instance if isinstance(error.instance, Mapping) else {}
    where = _describe_path(path) or "the scenario"
    problems = []
    for key in instance:
        if key in allowed:
            continue
        guess = _did_you_mean(key, allowed)
        hint = f"; did you mean '{guess.split(chr(39))[1]}'?" if guess else ""
        valid = ", ".join(sorted(allowed))
        problems.append(
            (
                source.locate(path + (key,), key=True),
                f"unknown key '{key}' in {where}{hint} (valid: {valid})",
            )
        )
    return problems


def _allowed_keys(error: Any, instance: Any) -> list[str]:
    instance = instance if isinstance(instance, Mapping) else {}
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    allowed = list(schema.get("properties", {}))
    if error.validator == "unevaluatedProperties":
        kind = instance.get("kind")
        allowed += list(fault_parameter_schemas().get(str(kind), {}).get("properties", {}))
    return allowed


def _describe_path(path: tuple) -> str:
    """A path as a reader writes it: faults[0].when.at."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (null)"
    return json.dumps(value)


def _type_words(expected: Any) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "integer": "an integer",
        "number": "a number",
        "boolean": "true or false",
        "null": "nothing",
    }
    if isinstance(expected, list):
        return " or ".join(names.get(item, item) for item in expected)
    return names.get(expected, str(expected))


def _pattern_words(pattern: str) -> str:
    return {
        DURATION_PATTERN: "a duration such as 0.5, '500ms' or '2s'",
        NAME_PATTERN: "a name: letters, digits, '_', '.', '-'",
        ENDPOINT_REF_PATTERN: "an endpoint 'NODE:IFNAME'",
    }.get(pattern, f"must match {pattern}")


def _bound_words(error: Any) -> str:
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    return f"must be {words[error.validator]} {error.validator_value}"


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
