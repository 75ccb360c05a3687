"""Router profiles: checked like scenarios, examples mapped on load, argv and config rendered,
own events and raw-log expectations judged, unmapped lines listed; the example suite runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from harness.cli import main
from harness.errors import ScenarioError
from harness.event import Event
from harness.routers import ADAPTERS, adapter_for
from harness.routers.external import PIMD_DIR
from harness.routers.profile import error_event_names, profile_class, render_argv
from harness.routers.profile_check import check_lines
from harness.routers.profile_load import load_profile
from harness.routers.profile_path import ROUTERS_DIR_ENV
from harness.routers.profile_schema import PROFILE_SCHEMA_FILE, profile_schema_text
from harness.scenario_loader import load

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "myquerier"
PROFILE = EXAMPLE / "routers" / "myquerier.yaml"

SCENARIO = """\
name: a profile router
topology:
  nodes: [r1, h1]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
router: ROUTER
expect:
  EXPECT
"""


def scenario(folder: Path, router: str, expect: str = "events: [{id: 41052}]") -> Path:
    path = folder / "scenario.yaml"
    path.write_text(SCENARIO.replace("ROUTER", router).replace("EXPECT", expect))
    return path


def write_profile(folder: Path, text: str, name: str = "toy") -> Path:
    (folder / "routers").mkdir(exist_ok=True)
    path = folder / "routers" / f"{name}.yaml"
    path.write_text(text)
    return path


TOY = """\
name: toy
argv: [toyd, [-i, "{interface}"], --workdir, "{workdir}", "{interfaces}", --qi, "{query_interval}"]
timers: {query_interval: 2}
query_period: {timer: query_interval, min: 1, round: nearest}
config:
  template: |
    {% for i in interfaces %}phyint {{ i.name }} {{ i.addresses | join(' ') }} {{ i.role }}
    {% endfor %}qi {{ timers.query_interval }}
events:
  cannot-join: {level: Warning, id: 41028}
  gave-up: {level: Error}
patterns:
  - {match: 'up on (?P<interface>\\w+)', id: 41052}
  - {match: 'cannot join \\S+ on (?P<interface>\\w+): (?P<errno>.*)', event: cannot-join}
  - {match: 'giving up', event: gave-up}
ready: {id: 41052, per_interface: true}
examples:
  - {line: "WARNING: cannot join 224.0.0.2 on e0: errno=105", event: cannot-join, interface: e0, errno: ENOBUFS}
  - {line: "up on e0", id: 41052, interface: e0}
  - {line: "nothing to see"}
"""


# -- the file format ---------------------------------------------------------------------------


def test_the_shipped_profile_schema_is_current() -> None:
    assert PROFILE_SCHEMA_FILE.read_text() == profile_schema_text(), (
        "run: python -m harness.routers.profile_schema --write"
    )


def test_the_example_profile_is_short_and_loads() -> None:
    assert len(PROFILE.read_text().splitlines()) <= 30
    profile = load_profile(PROFILE)
    assert profile.name == "myquerier"
    assert set(profile.events) == {"cannot-join", "no-interface"}
    assert profile.error_events() == ("no-interface",)


def test_a_misspelt_key_is_a_file_line_column_error_with_a_did_you_mean(tmp_path: Path) -> None:
    path = write_profile(tmp_path, TOY.replace("query_period:", "query_perod:"))
    with pytest.raises(ScenarioError) as caught:
        load_profile(path)
    (where, message), *_ = caught.value.problems
    assert (where.line, where.column) == (4, 1)
    assert "did you mean 'query_period'" in message


def test_an_unknown_own_event_and_placeholder_are_named(tmp_path: Path) -> None:
    text = TOY.replace("event: cannot-join}", "event: cannot-jion}").replace(
        '"{workdir}"', '"{wrokdir}"'
    )
    with pytest.raises(ScenarioError) as caught:
        load_profile(write_profile(tmp_path, text))
    messages = " | ".join(message for _, message in caught.value.problems)
    assert "did you mean 'cannot-join'" in messages
    assert "unknown placeholder {wrokdir}; did you mean 'workdir'" in messages


def test_an_example_that_no_longer_maps_as_declared_is_a_load_error(tmp_path: Path) -> None:
    text = TOY.replace("interface: e0, errno: ENOBUFS", "interface: e1, errno: ENOBUFS")
    with pytest.raises(ScenarioError) as caught:
        load_profile(write_profile(tmp_path, text))
    ((where, message),) = caught.value.problems
    assert (
        where.line
        == text.splitlines().index(
            next(line for line in text.splitlines() if "interface: e1, errno" in line)
        )
        + 1
    )
    assert "maps to cannot-join (41028) on e0 errno ENOBUFS, declared cannot-join on e1" in message


# -- rendering and mapping ---------------------------------------------------------------------


def test_argv_placeholders_and_the_config_template(tmp_path: Path) -> None:
    path = scenario(tmp_path, "{kind: toy, node: r1, interfaces: [e0], query_interval: 0.4}")
    write_profile(tmp_path, TOY)
    loaded = load(path)
    adapter = adapter_for(loaded.router)
    argv = adapter.command(loaded.router, tmp_path)
    assert argv == ["toyd", "-i", "e0", "--workdir", str(tmp_path), "e0", "--qi", "0.4"]
    assert (tmp_path / "toy.conf").read_text() == "phyint e0 10.0.1.1/24 router\nqi 0.4\n"
    assert adapter.query_period(loaded.router) == 1.0  # whole seconds, at least 1
    assert render_argv(["x", "{interfaces}", "--all={interfaces}"], {"names": ["e0", "e1"]}) == [
        "x",
        "e0",
        "e1",
        "--all=e0,e1",
    ]


def test_own_events_carry_their_name_level_and_catalog_id(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path, TOY))
    mapper = profile.mapper()
    record = mapper("WARNING: cannot join 224.0.0.2 on e0: errno=105")
    event = Event.from_record(record)
    assert (event.name, event.id, event.level, event.errno) == (
        "cannot-join",
        41028,
        "Warning",
        105,
    )
    assert event.brief() == "cannot-join (41028) e0 ENOBUFS"
    gave_up = Event.from_record(mapper("giving up"))
    assert (gave_up.name, gave_up.id, gave_up.level) == ("gave-up", 0, "Error")
    assert error_event_names(profile_class(profile)) == ("gave-up",)


def test_ready_per_interface(tmp_path: Path) -> None:
    profile = load_profile(write_profile(tmp_path, TOY))
    path = scenario(tmp_path, "{kind: toy, node: r1, interfaces: [e0]}")
    spec = load(path).router
    adapter = adapter_for(spec)
    up = Event.from_record(profile.mapper()("up on e0"))
    other = Event.from_record(profile.mapper()("up on e9"))
    assert adapter.is_ready([up], spec) and not adapter.is_ready([other], spec)


def test_profile_check_lists_unmapped_error_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "router.log"
    log.write_text(
        "INFO: myquerier 1.0 starting on e0 (query interval 1s)\n"
        "ERROR: cannot bind socket to e0: [Errno 19] No such device\n"
        "ERROR: cannot create socket on e0: [Errno 105] No buffer space available\n"
    )
    assert main(["profile", "check", str(PROFILE), str(log)]) == 1
    out = capsys.readouterr().out
    assert "patterns[2] -> 41024 IGMPLOG_CREATE_SOCKET_FAILED_2 on e0 errno ENOBUFS" in out
    tail = out.split("error-looking lines no pattern maps (1):")[1]
    assert "cannot bind socket to e0" in tail and "cannot create socket" not in tail
    assert main(["profile", "check", str(PROFILE)]) == 0  # its examples
    checked = check_lines(load_profile(PROFILE), ["ERROR: cannot bind socket to e0: x"])
    assert checked[0].unmapped_error


def test_a_bad_profile_is_exit_2_with_its_location(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_profile(tmp_path, TOY.replace("ready:", "raedy:"))
    assert main(["profile", "check", str(path)]) == 2
    assert f"{path}:" in capsys.readouterr().err


# -- scenarios that name a profile --------------------------------------------------------------


def test_kind_is_found_in_routers_beside_the_suite_and_events_by_name(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY)
    path = scenario(
        tmp_path,
        "{kind: toy, node: r1, interfaces: [e0]}",
        "events: [{event: cannot-join, interface: e0}]\n  log: [{match: 'up on', within: 1s}]",
    )
    loaded = load(path)
    assert loaded.router.kind == "toy" and loaded.router.profile.endswith("toy.yaml")
    matcher = loaded.expect.events[0].event
    assert matcher.name == "cannot-join" and matcher.describe() == "cannot-join on e0"
    assert loaded.expect.log[0].regex == "up on"
    assert "toy" in ADAPTERS and ADAPTERS.get("toy") is not None  # explore/compare look-ups
    assert "toy" not in list(ADAPTERS)  # never in the registry's listing (the schema's kinds)


def test_profile_path_relative_to_the_scenario(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY, name="elsewhere")
    path = scenario(tmp_path, "{profile: routers/elsewhere.yaml, node: r1, interfaces: [e0]}")
    assert load(path).router.kind == "toy"


def test_an_unknown_own_event_in_a_scenario_is_named_with_its_line(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY)
    path = scenario(
        tmp_path, "{kind: toy, node: r1, interfaces: [e0]}", "events: [{event: cannot-jion}]"
    )
    with pytest.raises(ScenarioError) as caught:
        load(path)
    found = [(w, m) for w, m in caught.value.problems if "cannot-jion" in m]
    assert [(w.line, w.column) for w, _ in found] == [(8, 20)]
    assert "did you mean 'cannot-join'" in found[0][1]


def test_an_unknown_kind_is_still_refused(tmp_path: Path) -> None:
    path = scenario(tmp_path, "{kind: toyy, node: r1, interfaces: [e0]}")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert "'toyy' is not a router kind" in caught.value.problems[0][1]
    write_profile(tmp_path, TOY)  # now a profile on the path: offered by the did-you-mean
    with pytest.raises(ScenarioError) as caught:
        load(path)
    assert "did you mean 'toy'" in caught.value.problems[0][1]


def test_routers_dir_comes_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_profile(tmp_path, TOY)
    other = tmp_path / "other"
    other.mkdir()
    (other / "toy.yaml").write_text(TOY.replace("argv: [toyd,", "argv: [toyd-fixed,"))
    path = scenario(tmp_path, "{kind: toy, node: r1, interfaces: [e0]}")
    monkeypatch.setenv(ROUTERS_DIR_ENV, str(other))
    assert load(path).router.profile == str((other / "toy.yaml").resolve())


def test_log_expectation_keys_are_checked(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY)
    path = scenario(
        tmp_path,
        "{kind: toy, node: r1, interfaces: [e0]}",
        "log: [{absent: 'x(', within: 1s}]",
    )
    with pytest.raises(ScenarioError) as caught:
        load(path)
    messages = " | ".join(message for _, message in caught.value.problems)
    assert "not a regular expression" in messages and "within: is for match:" in messages


# -- the example suite, run for real -------------------------------------------------------------


@pytest.mark.netns
def test_the_example_scenarios_pass(tmp_path: Path) -> None:
    from harness.runner import RunOptions, run
    from harness.scenario_loader import load_many

    scenarios = load_many([EXAMPLE / "scenarios"])
    assert {s.router.kind for s in scenarios} == {"myquerier"}
    for item in scenarios:
        assert "argv" not in item.data["router"]  # the definition lives in the profile only
        verdict = run(item, RunOptions(artifacts_dir=tmp_path))
        assert verdict.passed, verdict.explain()


@pytest.mark.netns
def test_unmapped_error_lines_are_in_the_verdict_and_its_timeline(tmp_path: Path) -> None:
    from harness.runner import RunOptions, run

    write_profile(tmp_path, PROFILE.read_text(), name="myquerier")
    (tmp_path / "myquerier.py").write_text((EXAMPLE / "myquerier.py").read_text())
    path = scenario(
        tmp_path,
        "{kind: myquerier, node: r1, interfaces: [e0]}\n"
        "faults:\n  - {kind: step-error, step: bind, call: SO_BINDTODEVICE, errno: ENODEV}",
        "events: [{event: no-interface, within: 3s}]\n"
        "  log: [{match: 'cannot bind socket to e0', within: 3s, count: 1}]",
    )
    verdict = run(load(path), RunOptions(artifacts_dir=tmp_path / "artifacts"))
    assert verdict.passed, verdict.explain()
    assert verdict.unmapped == ["ERROR: cannot bind socket to e0: [Errno 19] No such device"]
    data = json.loads((tmp_path / "artifacts" / "scenario" / "verdict.json").read_text())
    lane = [entry["text"] for entry in data["timeline"] if entry["kind"] == "unmapped"]
    assert lane == verdict.unmapped


def test_routers_dir_on_the_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "toy.yaml").write_text(TOY)
    suite = tmp_path / "suite"
    suite.mkdir()
    scenario(suite, "{kind: toy, node: r1, interfaces: [e0]}")
    monkeypatch.setenv(ROUTERS_DIR_ENV, "")  # restored after the test: main() sets it
    assert main(["validate", str(suite)]) == 2  # not beside the suite: an unknown kind
    assert "'toy' is not a router kind" in capsys.readouterr().err
    assert main(["validate", "--routers-dir", str(folder), str(suite)]) == 0
    assert main(["validate", "--routers-dir", str(tmp_path / "nowhere"), str(suite)]) == 2
    assert "--routers-dir: no such folder" in capsys.readouterr().err


# -- the bundled routers are profiles ----------------------------------------------------------


@pytest.mark.parametrize("name", ["igmpproxy", "smcroute", "pimd", "frr"])
def test_each_bundled_profile_passes_the_checks_it_skips_at_import(name: str) -> None:
    """Bundled profiles load trusted (no schema, no template syntax check: import time); here
    they get the full checks, and their hooks are mixed into their registered adapters."""
    from harness.routers.profile_path import BUNDLED_DIR

    profile = load_profile(BUNDLED_DIR / f"{name}.yaml")
    assert profile.name == name and profile.hooks and profile.examples
    adapter = ADAPTERS[name]
    assert adapter.profile.path == profile.path
    assert isinstance(adapter, type) and adapter.name == name  # a class, registered as before
    assert adapter.__mro__[1].__name__.endswith("Hooks")


def test_a_bundled_router_is_its_profile_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every profile of the bundled folder is registered by its file name (no list to edit);
    a hook's attribute wins over the profile's key of the same name."""
    import harness.routers as routers
    from harness.routers import profile as profile_module
    from harness.routers.profile_path import BUNDLED_DIR

    shipped = sorted(path.stem for path in BUNDLED_DIR.glob("*.yaml"))
    assert [k for k in ADAPTERS if k not in ("igmpd", "command")] == shipped
    assert ADAPTERS["pimd"].program_dirs == (str(PIMD_DIR / "usr/sbin"),)  # the hook's
    folder = tmp_path / "profiles"
    folder.mkdir()
    (folder / "toy.yaml").write_text(TOY)
    monkeypatch.setattr(profile_module, "BUNDLED_DIR", folder)
    before = dict(ADAPTERS)
    try:
        routers._register_bundled()
        assert "toy" in list(ADAPTERS) and ADAPTERS["toy"].profile.path == folder / "toy.yaml"
    finally:
        for kind in [k for k in ADAPTERS if k not in before]:
            routers.unregister(kind)
        ADAPTERS.update(before)
    assert "toy" not in list(ADAPTERS)


def _spec(names: tuple[str, ...], timers: dict[str, float], **extra: object) -> object:
    from harness.scenario import InterfaceSpec, RouterSpec

    interfaces = tuple(InterfaceSpec(name) for name in names)
    return RouterSpec(kind="x", node="r1", interfaces=interfaces, timers=timers, extra=extra)


def render_config(kind: str, spec: Any) -> str:
    """The bundled router's config file for ``spec``, as its profile's template renders it."""
    return ADAPTERS[kind](spec).render_config(spec, Path(".")) or ""


def test_the_bundled_config_templates_render_as_the_python_did() -> None:
    from harness.routers.igmpproxy import upstream_of

    two = ("e0", "e1")
    assert render_config("igmpproxy", _spec(two, {}, upstream="e1")) == (
        "quickleave\nphyint e0 downstream ratelimit 0 threshold 1\n"
        "phyint e1 upstream ratelimit 0 threshold 1\nphyint lo disabled\n"
    )
    assert render_config("smcroute", _spec(two, {})) == (
        "phyint e0 enable mrdisc\nphyint e1 enable mrdisc\n"
        "mroute from e0 group 239.255.0.1 to e1\nmgroup from e0 group 239.255.0.1\n"
    )
    assert render_config("pimd", _spec(two, {"query_interval": 2.5})) == (
        "phyint e0 enable\nphyint e1 enable\nigmp-query-interval 3\n"
    )
    assert render_config(
        "frr", _spec(("e0",), {"query_interval": 2.0, "query_response_interval": 1.25})
    ) == (
        "interface e0\n ip pim\n ip igmp\n ip igmp version 3\n"
        " ip igmp query-max-response-time 12\n ip igmp query-interval 2\n!\n"
    )
    spec = _spec(two, {"query_interval": 2.4})
    assert ADAPTERS["smcroute"](spec).query_period(spec) == 4.0
    assert ADAPTERS["pimd"](spec).query_period(spec) == 5.0
    assert ADAPTERS["frr"](spec).query_period(spec) == 2.0
    assert ADAPTERS["igmpproxy"](spec).query_period(spec) is None
    assert ADAPTERS["igmpproxy"](spec).queries_on(spec) == ("e1",)
    with pytest.raises(ValueError, match="upstream"):
        upstream_of(_spec(two, {}, upstream="e7"))


def test_a_fault_or_traffic_may_wait_for_an_own_event(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY)
    path = scenario(
        tmp_path,
        "{kind: toy, node: r1, interfaces: [e0]}\n"
        "traffic:\n  - {node: h1, ifname: e0, join: 239.1.1.1, after: {event: cannot-join}}",
    )
    trigger = load(path).traffic[0].after
    assert trigger is not None and trigger.event is not None
    assert trigger.event.name == "cannot-join"
    assert trigger.event.matches({"id": 41028, "event": "cannot-join"})
    assert not trigger.event.matches({"id": 41028})
    bad = scenario(
        tmp_path,
        "{kind: toy, node: r1, interfaces: [e0]}\n"
        "traffic:\n  - {node: h1, ifname: e0, join: 239.1.1.1, after: {event: cannot-jon}}",
    )
    with pytest.raises(ScenarioError) as caught:
        load(bad)
    assert any("did you mean 'cannot-join'" in message for _, message in caught.value.problems)


def test_a_value_the_profile_needs_and_the_scenario_lacks_is_a_load_error(tmp_path: Path) -> None:
    write_profile(tmp_path, TOY.replace('--qi, "{query_interval}"', '--mode, "{options.mode}"'))
    path = scenario(tmp_path, "{kind: toy, node: r1, interfaces: [e0]}")
    with pytest.raises(ScenarioError) as caught:
        load(path)
    ((where, message),) = caught.value.problems
    assert where.line == 6 and "{options.mode} needs router.options.mode" in message
    path.write_text(
        path.read_text().replace("interfaces: [e0]}", "interfaces: [e0], options: {mode: x}}")
    )
    assert load(path).router.extra == {"mode": "x"}


def test_profile_check_says_the_version_its_command_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    path = write_profile(tmp_path, f"name: v\nversion: [{sys.executable}, --version]\nargv: [x]\n")
    assert main(["profile", "check", str(path)]) == 0
    assert "version: Python 3." in capsys.readouterr().out
