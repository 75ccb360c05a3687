"""Scenarios for the explore tests: igmpd's baseline and the toy router in each error mode."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
IGMPD = DATA / "igmpd.yaml"
TOY = Path(__file__).parent / "toy_router.py"


def toy_scenario(folder: Path, mode: str) -> Path:
    """A scenario running toy_router.py with ``--on-error mode`` on e0 and e1."""
    data = {
        "name": f"toy router that does '{mode}' on a send error",
        "topology": {
            "nodes": ["r1", "h1", "h2"],
            "links": [
                {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"},
                {"a": "r1:e1 10.0.2.1/24", "b": "h2:e0 10.0.2.2/24"},
            ],
        },
        "router": {
            "kind": "command",
            "node": "r1",
            "interfaces": ["e0", "e1"],
            "query_interval": 0.2,
            "retry_interval": 0.2,
            "argv": [sys.executable, str(TOY), "--interfaces", "e0,e1", "--on-error", mode],
            "events": {
                "patterns": [
                    {"match": r"started on (?P<ifname>\w+)", "id": 41052, "interface": "{ifname}"},
                    {
                        "match": r"sendto failed on (?P<ifname>\w+): errno=(?P<err>\d+)",
                        "id": 41019,
                        "interface": "{ifname}",
                        "errno": "{err}",
                    },
                    {"match": "went wrong", "id": 41019},
                ]
            },
        },
        "expect": {"router": {"running": True}},
    }
    path = folder / f"toy-{mode}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
