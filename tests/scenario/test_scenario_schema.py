"""The shipped JSON Schema: current, valid, strict, and complete for editors."""

from __future__ import annotations

import json

from jsonschema import Draft202012Validator

from harness import catalog
from harness.faults import FAULT_KINDS
from harness.schema import SCHEMA_FILE, build_schema, schema_text


def test_the_shipped_schema_is_current() -> None:
    assert SCHEMA_FILE.read_text() == schema_text(), "run: faultlab schema --write"


def test_it_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(build_schema())


def test_every_object_is_closed() -> None:
    """No misspelt key can pass: every object schema says what else is allowed."""

    def walk(node: object, path: str) -> None:
        if isinstance(node, dict):
            if node.get("type") == "object" or "properties" in node:
                closed = {"additionalProperties", "unevaluatedProperties"} & set(node)
                assert closed or path.endswith("options"), f"{path} accepts any key"
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, f"{path}/{index}")

    schema = build_schema()
    for name in ("topology", "router", "traffic", "expect"):
        walk(schema["properties"][name], name)
    walk(schema["$defs"], "$defs")


def test_editors_can_complete_kinds_events_and_errno_names() -> None:
    schema = json.loads(SCHEMA_FILE.read_text())
    fault = schema["properties"]["faults"]["items"]
    offered = {kind for kind, cls in FAULT_KINDS.items() if not cls.internal}
    assert set(fault["properties"]["kind"]["enum"]) == offered
    assert schema["$defs"]["eventExpectation"]["properties"]["id"] == {"$ref": "#/$defs/eventId"}
    assert schema["$defs"]["eventId"]["enum"] == sorted(catalog.BY_ID)
    assert "EADDRINUSE" in schema["$defs"]["errno"]["anyOf"][0]["enum"]
    link_down = next(
        rule for rule in fault["allOf"] if rule["if"]["properties"]["kind"]["const"] == "link-down"
    )
    assert "interface" in link_down["then"]["properties"]


def test_the_event_list_is_written_once_and_referenced() -> None:
    """The catalog's ids and symbols appear once each in the schema ($defs), not per use."""
    text = SCHEMA_FILE.read_text()
    first, last = min(catalog.BY_SYMBOL), max(catalog.BY_SYMBOL)
    assert text.count(f'"{first}"') == 1 and text.count(f'"{last}"') == 1
    assert text.count('"$ref": "#/$defs/eventId"') >= 4
