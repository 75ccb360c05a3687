"""The doctor's API without the kernel: skip reasons, exit codes, output, CLI registration."""

from __future__ import annotations

import argparse
import errno
import io
import json

import pytest

from harness import doctor, features, probes
from harness.errors import ExitCode
from harness.features import Check, Status


def all_ok() -> list[Check]:
    return [Check(name, Status.OK, "fine") for name in features.known_features()]


def with_status(results: list[Check], name: str, status: Status, detail: str) -> list[Check]:
    return [Check(c.name, status, detail, "do X") if c.name == name else c for c in results]


@pytest.fixture
def fake_checks(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Replace the cached probe results by the list the test sets."""
    current: list[Check] = all_ok()
    monkeypatch.setattr(features, "checks", lambda: tuple(current))
    return current


def test_missing_is_none_when_every_needed_feature_is_ok(fake_checks: list[Check]) -> None:
    assert features.missing({"netns", "mrt", "router:igmpproxy"}) is None
    assert features.missing([]) is None


def test_missing_names_the_feature_its_status_and_why(fake_checks: list[Check]) -> None:
    fake_checks[:] = with_status(fake_checks, "mrt", Status.MISSING, "MRT_INIT: EPERM")
    reason = features.missing(["netns", "mrt"])
    assert reason == "mrt missing: MRT_INIT: EPERM"


def test_a_degraded_feature_skips_scenarios_that_need_it(fake_checks: list[Check]) -> None:
    fake_checks[:] = with_status(fake_checks, "host-root", Status.DEGRADED, "rootless")
    assert features.missing(["host-root"]) == "host-root degraded: rootless"
    assert features.missing(["netns"]) is None


def test_missing_lists_every_absent_feature_in_a_stable_order(fake_checks: list[Check]) -> None:
    fake_checks[:] = with_status(fake_checks, "sysctl", Status.MISSING, "ro /proc")
    fake_checks[:] = with_status(fake_checks, "nftables", Status.MISSING, "no nf_tables")
    reason = features.missing(["sysctl", "nftables", "veth"])
    assert reason == "nftables missing: no nf_tables; sysctl missing: ro /proc"


def test_an_unknown_feature_is_an_error_naming_it(fake_checks: list[Check]) -> None:
    with pytest.raises(ValueError, match="'mrtt'"):
        features.missing(["mrtt"])
    with pytest.raises(ValueError, match="router:xorp"):
        features.missing(["router:xorp"])


def test_exit_code_is_3_only_when_an_essential_feature_is_missing() -> None:
    assert features.exit_code(all_ok()) is ExitCode.OK
    optional_gone = with_status(all_ok(), "router:pimd", Status.MISSING, "not installed")
    assert features.exit_code(optional_gone) is ExitCode.OK
    degraded = with_status(all_ok(), "host-root", Status.DEGRADED, "rootless")
    assert features.exit_code(degraded) is ExitCode.OK
    for essential in features.ESSENTIAL:
        broken = with_status(all_ok(), essential, Status.MISSING, "gone")
        assert features.exit_code(broken) is ExitCode.ENVIRONMENT, essential


def test_verdict_says_what_is_short() -> None:
    assert doctor.verdict(all_ok()) == "faultlab can run every scenario here"
    short = with_status(all_ok(), "nftables", Status.MISSING, "x")
    assert doctor.verdict(short).endswith("need: nftables")
    broken = with_status(all_ok(), "raw-socket", Status.MISSING, "x")
    assert doctor.verdict(broken) == "faultlab cannot run scenarios here: missing raw-socket"


def test_a_line_shows_the_fix_only_when_something_is_wrong() -> None:
    ok = Check("veth", Status.OK, "veth pair added", "never shown")
    assert ok.line().split() == ["ok", "veth", "veth", "pair", "added"]
    bad = Check("veth", Status.MISSING, "EPERM", "add CAP_NET_ADMIN")
    assert bad.line().endswith("EPERM -> add CAP_NET_ADMIN")


def test_errors_are_shown_by_name_and_text() -> None:
    assert features.describe_oserror(OSError(errno.EPERM, "x")) == "EPERM (Operation not permitted)"

    class FakeNetlinkError(Exception):
        code = errno.EEXIST

    assert features.describe_oserror(FakeNetlinkError()) == "EEXIST (File exists)"


def test_a_probe_child_that_died_makes_every_lab_feature_missing() -> None:
    for data, status in ((b"", -1), (b"{not json", 0), (b'{"error": "boom"}', 0)):
        results = probes._parse_probe_output(data, status)
        assert [c.name for c in results] == list(features.LAB_FEATURES)
        assert all(c.status is Status.MISSING and "probe" in c.detail for c in results)


def test_probe_results_survive_the_trip_through_json() -> None:
    sent = [Check("netns", Status.OK, "made"), Check("mrt", Status.MISSING, "EPERM", "fix")]
    data = json.dumps([c.to_json() for c in sent]).encode()
    assert probes._parse_probe_output(data, 0) == sent


def test_report_is_plain_one_line_per_check_when_not_a_terminal() -> None:
    out = io.StringIO()
    results = with_status(all_ok(), "nftables", Status.MISSING, "no answer within 1.0 s")
    doctor.print_report(results, stream=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == len(results) + 1
    assert "\x1b[" not in out.getvalue()  # no colour codes in a pipe or a CI log
    assert lines[[c.name for c in results].index("nftables")].startswith("missing  nftables")


def test_register_adds_a_doctor_subcommand_with_a_handler() -> None:
    parser = argparse.ArgumentParser(prog="faultlab")
    doctor.register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["doctor", "--json"])
    assert args.command == "doctor" and args.json is True
    assert args.handler is doctor.doctor_command


def test_netns_names_follow_the_lab_convention() -> None:
    names = {probes.doctor_netns_name() for _ in range(50)}
    assert len(names) == 50
    for name in names:
        assert name.startswith("fl") and name.endswith("-doctor") and len(name) <= 15


# --- What a short feature costs a suite ---------------------------------------------------

MRT_SCENARIO = """\
name: {name}
topology:
  nodes: [r1, h1]
  links:
    - {{a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}}
router: {{node: r1, interfaces: [e0]{router}}}
faults:
  - {fault}
expect:
  events:
    - {{id: 41028, interface: e0, within: 2s}}
"""


def _suite(tmp_path, cases: dict[str, tuple[str, str]]):  # type: ignore[no-untyped-def]
    from harness.scenario_loader import load_many

    for stem, (fault, router) in cases.items():
        text = MRT_SCENARIO.format(name=stem, fault=fault, router=router)
        (tmp_path / f"{stem}.yaml").write_text(text)
    return load_many([str(tmp_path)])


def test_only_what_needs_multicast_routing_is_counted_against_mrt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenarios = _suite(
        tmp_path,
        {
            "held": ("{kind: mrt-held}", ""),
            "vif": ("{kind: stale-vif}", ""),
            "init": (
                "{kind: step-error, step: request_multicast, call: MRT_INIT, errno: EPERM}",
                "",
            ),
            "on": ("{kind: link-down, interface: e0}", ", multicast_routing: 'on'"),
            "join": ("{kind: step-error, step: request_multicast, errno: ENOBUFS}", ""),
            "auto": ("{kind: link-down, interface: e0}", ""),
            "proxy": ("{kind: link-down, interface: e0}", ", kind: igmpproxy"),
        },
    )
    results = with_status(all_ok(), "mrt", Status.MISSING, "MRT_INIT: ENOPROTOOPT")
    cost = doctor.suite_cost(results, scenarios, str(tmp_path))
    assert sorted(cost.by_feature["mrt"]) == sorted(
        f"{tmp_path.name}/{stem}" for stem in ("held", "vif", "init", "on", "proxy")
    )
    assert (cost.total, cost.runnable) == (7, 2)
    line = doctor.cost_lines(cost, "mrt")
    assert line is not None and line.startswith("costs 5 of 7 scenarios: ")
    text = doctor.verdict(results, cost)
    assert text.startswith("faultlab can run 2 of the 7 scenarios") and "mrt (5)" in text
    assert doctor.suite_exit_code(results, cost) is ExitCode.OK


def test_when_none_of_the_suite_can_run_the_doctor_never_says_it_can(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenarios = _suite(tmp_path, {"held": ("{kind: mrt-held}", "")})
    results = with_status(all_ok(), "mrt", Status.MISSING, "MRT_INIT: ENOPROTOOPT")
    cost = doctor.suite_cost(results, scenarios, "x")
    text = doctor.verdict(results, cost)
    assert "can run" not in text.replace("cannot run", "")
    assert text.startswith("faultlab cannot run any of the 1 scenarios in x here")
    assert doctor.suite_exit_code(results, cost) is ExitCode.ENVIRONMENT


def test_a_sysctl_that_is_not_per_namespace_costs_its_scenarios(tmp_path) -> None:  # type: ignore[no-untyped-def]
    scenarios = _suite(tmp_path, {"optmem": ("{kind: optmem-max, value: 0}", "")})
    name = "sysctl:net.core.optmem_max"
    results = with_status(all_ok(), name, Status.MISSING, "not per namespace")
    cost = doctor.suite_cost(results, scenarios, "x")
    assert cost.by_feature == {name: [f"{tmp_path.name}/optmem"]}
    assert cost.runnable == 0


def test_any_net_sysctl_is_a_known_feature_probed_on_demand(
    fake_checks: list[Check], monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def probe(key: str) -> Check:
        asked.append(key)
        return Check(f"sysctl:{key}", Status.MISSING, f"{key} not per namespace", "")

    monkeypatch.setattr(features, "sysctl_check", probe)
    reason = features.missing(["netns", "sysctl:net.ipv4.tcp_rmem"])
    assert asked == ["net.ipv4.tcp_rmem"]
    assert reason == "sysctl:net.ipv4.tcp_rmem missing: net.ipv4.tcp_rmem not per namespace"
    with pytest.raises(ValueError):
        features.missing(["sysctl:kernel.pid_max"])
