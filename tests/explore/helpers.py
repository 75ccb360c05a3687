"""Scenarios for the explore tests: igmpd's baseline, the toy router in each error mode, and
the example querier (examples/myquerier) as a team would describe it, sloppy or fixed."""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"
IGMPD = DATA / "igmpd.yaml"
TOY = Path(__file__).parent / "toy_router.py"
MYQUERIER = Path(__file__).parents[2] / "examples" / "myquerier" / "myquerier.py"

#: myquerier's own words, mapped to catalog events (its profile will say this once).
MYQUERIER_PATTERNS = [
    {"match": r"INFO: (?P<ifname>\w+): querying as", "id": 41052, "interface": "{ifname}"},
    *(
        {
            "match": rf"{words} (?P<ifname>\w+): (?P<err>.*)",
            "id": event,
            "interface": "{ifname}",
            "errno": "{err}",
        }
        for words, event in (
            ("cannot create socket on", 41024),
            ("cannot bind socket to", 41025),
            ("cannot set multicast interface on", 41028),
            ("cannot send query on", 41019),
            ("cannot read on", 41012),
        )
    ),
]


#: r1 between h1 (on e0) and h2 (on e1): the lab every explore test scenario uses.
TWO_LINKS = {
    "nodes": ["r1", "h1", "h2"],
    "links": [
        {"a": "r1:e0 10.0.1.1/24", "b": "h1:e0 10.0.1.2/24"},
        {"a": "r1:e1 10.0.2.1/24", "b": "h2:e0 10.0.2.2/24"},
    ],
}
#: A ``kind: command`` router on r1's two interfaces (argv and patterns added per scenario).
COMMAND_ON_R1 = {"kind": "command", "node": "r1", "interfaces": ["e0", "e1"]}


def toy_scenario(folder: Path, mode: str) -> Path:
    """A scenario running toy_router.py with ``--on-error mode`` on e0 and e1."""
    data = {
        "name": f"toy router that does '{mode}' on a send error",
        "topology": TWO_LINKS,
        "router": {
            **COMMAND_ON_R1,
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


def myquerier_scenario(folder: Path, *options: str, name: str = "myquerier") -> Path:
    """The example querier on e0 and e1 with ``options`` (``--fixed`` ...), a host behind each
    joining a group; no timer in the ``router:`` section: explore measures the router's own."""
    data = {
        "name": f"{name} {' '.join(options)}".strip(),
        "topology": TWO_LINKS,
        "router": {
            **COMMAND_ON_R1,
            "argv": [sys.executable, str(MYQUERIER), *options, "e0", "e1"],
            "events": {"patterns": MYQUERIER_PATTERNS},
            "ready": {"id": 41052},
        },
        "traffic": [
            {"node": "h1", "join": "239.1.1.1", "ifname": "e0", "at": "0.5s"},
            {"node": "h2", "join": "239.2.2.2", "ifname": "e0", "at": "0.5s"},
        ],
        "expect": {"router": {"running": True}},
    }
    path = folder / f"{name}{''.join(o.strip('-').replace(' ', '') for o in options)}.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


def with_fixed_twin(path: Path) -> Path:
    """The same scenario file (a pinned finding ...) run against myquerier's fixed build."""
    data = yaml.safe_load(path.read_text())
    argv = data["router"]["argv"]
    data["router"]["argv"] = [argv[0], argv[1], "--fixed", *argv[2:]]
    twin = path.with_name(f"{path.stem}-fixed.yaml")
    twin.write_text(yaml.safe_dump(data, sort_keys=False))
    return twin
