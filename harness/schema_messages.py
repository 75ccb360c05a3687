"""Schema validation errors as ``file:line:column: message``: what is wrong and what is valid.

jsonschema reports an error in terms of the schema (``'x' is not one of [...]``, a failed
``oneOf``); a scenario's author needs it in terms of the file: the path as they would write it
(``faults[0].when.at``), the value, the valid choices, a did-you-mean for misspelt keys and names,
and the command that lists the valid ones. This module does only that rendering; harness.schema
builds the schema, runs the validator and hands over the facts the messages name (``SchemaFacts``),
so the two never import each other both ways.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.errors import Location
from harness.suggest import closest
from harness.yamlsource import Source

Problem = tuple[Location, str]


@dataclass(frozen=True)
class SchemaFacts:
    """What the messages need to know of the schema whose errors they explain."""

    defs: Mapping[str, Any]  # the schema's $defs, to read a $ref'd alternative
    fault_parameters: Mapping[str, Mapping[str, Any]]  # fault kind -> {properties, required}
    refused_kinds: Mapping[str, str]  # fault kind -> why the engine refuses it
    pattern_words: Mapping[str, str]  # a string pattern -> what it asks for, in words


def explain_all(errors: Iterable[Any], source: Source, facts: SchemaFacts) -> list[Problem]:
    """One message per problem of ``errors`` (jsonschema ValidationErrors), in file order."""
    messages = _Messages(source, facts)
    problems: list[Problem] = []
    for error in errors:
        problems.extend(messages.explain(error))
    return _dedupe(problems)


def _dedupe(problems: list[Problem]) -> list[Problem]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for where, message in problems:
        if (str(where), message) not in seen:
            seen.add((str(where), message))
            unique.append((where, message))
    return sorted(unique, key=lambda item: (item[0].line or 0, item[0].column or 0))


class _Messages:
    """The messages of one file's errors: where each is (``source``) and what is valid (``facts``)."""

    def __init__(self, source: Source, facts: SchemaFacts) -> None:
        self.source = source
        self.facts = facts

    def explain(self, error: Any) -> list[Problem]:
        path = tuple(error.absolute_path)
        where = _describe_path(path)
        validator = error.validator
        if validator in {"additionalProperties", "unevaluatedProperties"}:
            if validator == "unevaluatedProperties" and not self._known_kind(error.instance):
                return []  # the unknown kind is the error; its parameters cannot be judged
            return self._unknown_keys(error, path, self._allowed_keys(error, error.instance))
        if validator in {"anyOf", "oneOf"}:
            return self._explain_alternatives(error, path)
        if validator == "required":
            return self._missing_key(error, path)
        message = self._message(error, path)
        return [(self.source.locate(path), f"{where}: {message}" if where else message)]

    def _known_kind(self, instance: Any) -> bool:
        return isinstance(instance, Mapping) and str(instance.get("kind")) in (
            self.facts.fault_parameters
        )

    def _missing_key(self, error: Any, path: tuple) -> list[Problem]:
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        instance = error.instance if isinstance(error.instance, Mapping) else {}
        known = error.schema.get("properties", {}) if isinstance(error.schema, Mapping) else {}
        misspelt = [key for key in instance if key not in known and _did_you_mean(key, [missing])]
        if misspelt:
            return []  # the unknown-key message already says "did you mean"
        where = _describe_path(path) or "the scenario"
        return [(self.source.locate(path), f"{where}: missing required key '{missing}'")]

    def _explain_alternatives(self, error: Any, path: tuple) -> list[Problem]:
        """A value matching none of several shapes: explain the shape it was closest to."""
        where = _describe_path(path)
        instance = error.instance
        alternatives = [self._resolve(sub) for sub in error.validator_value]
        if isinstance(instance, Mapping):
            shapes = [alt for alt in alternatives if alt.get("type") == "object"]
            if shapes:
                allowed = sorted({key for alt in shapes for key in alt.get("properties", {})})
                unknown = self._unknown_keys(error, path, allowed)
                if unknown:
                    return unknown
                deeper = [sub for sub in error.context or () if sub.relative_path]
                if deeper:
                    return self.explain(max(deeper, key=lambda sub: len(sub.relative_path)))
        message = self._alternatives_message(error, alternatives)
        return [(self.source.locate(path), f"{where}: {message}")]

    def _resolve(self, schema: Any) -> dict[str, Any]:
        """A subschema with a local $ref replaced by the definition it names."""
        if isinstance(schema, Mapping) and str(schema.get("$ref", "")).startswith("#/$defs/"):
            return dict(self.facts.defs.get(schema["$ref"].split("/")[-1], {}))
        return dict(schema) if isinstance(schema, Mapping) else {}

    def _message(self, error: Any, path: tuple) -> str:
        instance = error.instance
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        if validator_is(error, "enum", "const"):
            options = schema.get("enum", [schema.get("const")])
            return self._not_one_of(instance, options, path)
        if validator_is(error, "type"):
            return f"expected {_type_words(error.validator_value)}, got {_show(instance)}"
        if validator_is(error, "pattern"):
            pattern = error.validator_value
            words = self.facts.pattern_words.get(pattern, f"must match {pattern}")
            return f"{_show(instance)} is not valid here ({words})"
        if validator_is(error, "minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
            return f"{_show(instance)} is out of range ({_bound_words(error)})"
        if validator_is(error, "minItems"):
            return f"needs at least {error.validator_value} item(s)"
        if validator_is(error, "maxLength"):
            return f"{_show(instance)} is too long (at most {error.validator_value} characters)"
        if validator_is(error, "minLength"):
            return "must not be empty"
        return error.message

    def _alternatives_message(self, error: Any, alternatives: list[dict[str, Any]]) -> str:
        instance = error.instance
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        expected = schema.get("x-message") or self._ref_message(schema) or "a valid value"
        options = [option for alt in alternatives for option in self._enum_of(alt)]
        if isinstance(instance, str) and options:
            guess = _did_you_mean(instance, options)
            if guess:
                return f"{_show(instance)} is unknown; {guess} (expected {expected})"
        return f"{_show(instance)} is not valid: expected {expected}"

    def _ref_message(self, schema: Mapping[str, Any]) -> str | None:
        """The x-message of the $ref'd definition (jsonschema reports the referring schema)."""
        return self._resolve(schema).get("x-message") if "$ref" in schema else None

    def _enum_of(self, schema: Mapping[str, Any]) -> list[Any]:
        options = list(schema.get("enum", []))
        if "const" in schema:
            options.append(schema["const"])
        for sub in schema.get("anyOf", []):
            options.extend(self._enum_of(self._resolve(sub)))
        return options

    def _not_one_of(self, instance: Any, options: list[Any], path: tuple) -> str:
        subject = _subject(path)
        refused = self.facts.refused_kinds
        if subject == "a fault kind" and str(instance) in refused:
            reason = refused[str(instance)]
            return (
                f"fault kind {instance!r} refused: it would change the host, not only the lab "
                f"({reason})"
            )
        guess = _did_you_mean(instance, options)
        listing = ", ".join(str(option) for option in options[:12])
        more = ", ..." if len(options) > 12 else ""
        hint = _next_command(path)
        head = f"{_show(instance)} is not {subject}"
        if guess:
            return f"{head}; {guess}{hint}"
        return f"{head} (valid: {listing}{more}){hint}"

    def _unknown_keys(self, error: Any, path: tuple, allowed: list[str]) -> list[Problem]:
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
                    self.source.locate(path + (key,), key=True),
                    f"unknown key '{key}' in {where}{hint} (valid: {valid})",
                )
            )
        return problems

    def _allowed_keys(self, error: Any, instance: Any) -> list[str]:
        instance = instance if isinstance(instance, Mapping) else {}
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        allowed = list(schema.get("properties", {}))
        if error.validator == "unevaluatedProperties":
            kind = instance.get("kind")
            allowed += list(self.facts.fault_parameters.get(str(kind), {}).get("properties", {}))
        return allowed


def validator_is(error: Any, *names: str) -> bool:
    return error.validator in names


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


def _bound_words(error: Any) -> str:
    words = {
        "minimum": "at least",
        "exclusiveMinimum": "more than",
        "maximum": "at most",
        "exclusiveMaximum": "less than",
    }
    return f"must be {words[error.validator]} {error.validator_value}"
