"""YAML with positions: a document's plain data plus the line:column of every key and value.

Scenario errors must point at the file (``file:line:column: message``), so the loader parses with
PyYAML's composer (nodes carry ``start_mark``) and keeps a map from each item's path (the tuple of
keys and list indexes that reach it, as jsonschema reports it) to where it was written.

The resolver follows YAML 1.2 for booleans: only ``true``/``false`` are booleans, so keys such as
``on:`` (a packet expectation's endpoint) and words like ``no`` stay strings, as a reader expects.
Duplicate keys are errors, not silently "last one wins".
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from harness.errors import Location, ScenarioError

PathKey = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are YAML 1.2's (true/false only)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass
class Source:
    """A parsed YAML file: ``data`` and the positions of everything in it (1-based)."""

    file: Path
    data: Any
    keys: dict[PathKey, tuple[int, int]] = field(default_factory=dict)  # where a key is written
    values: dict[PathKey, tuple[int, int]] = field(default_factory=dict)  # where a value starts

    def locate(self, path: PathKey = (), *, key: bool = False) -> Location:
        """Where ``path`` is written; the nearest enclosing item when it is not (a missing key)."""
        table = self.keys if key else self.values
        probe = tuple(path)
        while probe:
            if probe in table:
                return Location(self.file, *table[probe])
            if probe in self.values:
                return Location(self.file, *self.values[probe])
            probe = probe[:-1]
        return Location(self.file, *self.values.get((), (1, 1)))

    def locator(self, prefix: PathKey = ()):  # noqa: ANN201 - a small closure
        """A ``locate(*keys) -> Location`` callable for a part of the document (fault, topology)."""

        def locate(*keys: str | int) -> Location:
            return self.locate(tuple(prefix) + tuple(keys))

        return locate


def parse(file: Path, text: str | None = None) -> Source:
    """Parse ``file`` (or ``text`` on its behalf). YAML errors become a ScenarioError at line:col."""
    if text is None:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ScenarioError([(Location(file), f"cannot read the file: {exc}")]) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ScenarioError(
                [(Location(file, 1, 1), "the file is empty; a scenario is a mapping")]
            )
        source = Source(file, None)
        source.data = _walk(loader, node, (), source)
        return source
    except yaml.MarkedYAMLError as exc:
        raise ScenarioError([(_mark_location(file, exc), _yaml_message(exc))]) from exc
    except yaml.YAMLError as exc:
        raise ScenarioError([(Location(file), f"YAML error: {exc}")]) from exc
    finally:
        loader.dispose()


def _walk(loader: _Loader, node: yaml.Node, path: PathKey, source: Source) -> Any:
    source.values[path] = (node.start_mark.line + 1, node.start_mark.column + 1)
    if isinstance(node, yaml.MappingNode):
        return _walk_mapping(loader, node, path, source)
    if isinstance(node, yaml.SequenceNode):
        return [
            _walk(loader, item, path + (index,), source) for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _walk_mapping(loader: _Loader, node: yaml.MappingNode, path: PathKey, source: Source) -> dict:
    loader.flatten_mapping(node)  # resolves "<<" merge keys
    result: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) or key is None:
            raise yaml.constructor.ConstructorError(
                None, None, "a mapping key must be a plain word", key_node.start_mark
            )
        key = str(key) if not isinstance(key, str) else key
        if key in result:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        source.keys[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
        result[key] = _walk(loader, value_node, path + (key,), source)
    return result


def _mark_location(file: Path, exc: yaml.MarkedYAMLError) -> Location:
    mark = exc.problem_mark or exc.context_mark
    if mark is None:
        return Location(file)
    return Location(file, mark.line + 1, mark.column + 1)


def _yaml_message(exc: yaml.MarkedYAMLError) -> str:
    problem = exc.problem or "invalid YAML"
    if exc.context and exc.context_mark is not None and exc.problem_mark is not None:
        if exc.context_mark.line != exc.problem_mark.line:
            return f"YAML syntax: {problem} ({exc.context} at line {exc.context_mark.line + 1})"
        return f"YAML syntax: {exc.context}: {problem}"
    if exc.context:
        return f"YAML syntax: {exc.context}: {problem}"
    return f"YAML syntax: {problem}"
