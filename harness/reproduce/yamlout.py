"""YAML as the docs write scenarios: block style, short mappings and lists in flow style
(``{id: 41028, errno: EADDRINUSE}``, ``[r1, h1, h2]``), multi-line text as literal blocks.

Both ways of writing a reproduction (harness.reproduce.write for exports, .logwrite for logs)
build their documents with ``Flow``/``FlowList`` and write them with ``dump_scenario``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml


class Flow(dict):  # type: ignore[type-arg]
    """A mapping written in YAML flow style ({id: 41028, errno: EADDRINUSE}), as the docs do."""


class FlowList(list):  # type: ignore[type-arg]
    """A short list written in YAML flow style ([r1, h1, h2])."""


class Dumper(yaml.SafeDumper):
    """Block style overall; Flow/FlowList inline; multi-line strings as literal blocks."""


def _represent_str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


Dumper.add_representer(
    Flow, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)
Dumper.add_representer(
    FlowList, lambda dumper, data: dumper.represent_sequence("tag:yaml.org,2002:seq", data, True)
)
Dumper.add_representer(str, _represent_str)


def inline(value: Any) -> Any:
    """Nested mappings in flow style: ``when: {after: {event: 41052, interface: e0}}``."""
    if isinstance(value, Mapping):
        return Flow({key: inline(item) for key, item in value.items()})
    return value


def dump_scenario(document: Mapping[str, Any], header: str) -> str:
    """YAML text of a scenario: block style, event items and links in flow style."""
    body = yaml.dump(dict(document), Dumper=Dumper, sort_keys=False, width=100)
    return "".join(f"# {line}\n" for line in header.splitlines()) + body
