"""Router adapters: errno extraction in each router's style, patterns, igmpd's command line."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.errors import MissingCapability
from harness.routers import IgmpdAdapter, LogPattern, adapter_for, extract_errno
from harness.routers.igmpd import parse_state
from harness.scenario import InterfaceSpec, RouterSpec


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("can't join group 224.0.0.2; Errno(105): No buffer space available", 105),
        ("setsockopt(MRT_INIT=1): errno=98", 98),
        ("Cannot join group 224.0.0.22: No buffer space available", 105),
        ("No such device or address", 6),  # not ENODEV: the longest message wins
        ("failed: EADDRINUSE", 98),
        ("Another multicast routing application is already running.", None),
    ],
)
def test_extract_errno_in_each_routers_style(text: str, number: int | None) -> None:
    assert extract_errno(text) == number


def test_log_pattern_builds_a_record_from_named_groups() -> None:
    pattern = LogPattern.compile(
        r"can't join group (?P<group>\S+) on (?P<interface>[\w-]+); (?P<errno>Errno\(\d+\))",
        41028,
        strings=("{group}",),
    )
    record = pattern.record("can't join group 224.0.0.2 on r-up; Errno(105): No buffer space")
    assert record is not None
    assert (record["id"], record["interface"], record["errno"]) == (41028, "r-up", 105)
    assert record["strings"] == ["224.0.0.2"]
    assert pattern.record("unrelated line") is None


def test_igmpd_command_renders_interfaces_timers_and_files(tmp_path: Path) -> None:
    spec = RouterSpec(
        node="r1",
        interfaces=(InterfaceSpec("e0"), InterfaceSpec("e1", mode="internal")),
        version=2,
        timers={"query_interval": 0.5, "robustness": 2},
    )
    argv = IgmpdAdapter().command(spec, tmp_path)
    assert argv[argv.index("--version") + 1] == "2"
    assert ["--interface", "e0", "--interface", "e1:internal"] == [
        a for i, a in enumerate(argv) if a == "--interface" or argv[i - 1] == "--interface"
    ]
    assert argv[argv.index("--query-interval") + 1] == "0.5"
    assert argv[argv.index("--robustness") + 1] == "2"
    assert argv[argv.index("--event-log") + 1] == str(tmp_path / "events.jsonl")


def test_unknown_router_kind_is_a_skip_reason() -> None:
    with pytest.raises(MissingCapability, match="no adapter"):
        adapter_for(RouterSpec(kind="no-such-router", node="r1"))


def test_igmpd_state_groups_and_activity() -> None:
    state = parse_state(
        {
            "interfaces": {
                "e0": {"state": "inactive"},
                "e1": {"active": True, "groups": {"239.1.1.1": {}}},
            }
        }
    )
    assert not state.interfaces["e0"].active
    assert state.interfaces["e1"].groups == ("239.1.1.1",)
