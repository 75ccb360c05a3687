"""faultlab explore without a kernel: the errno table, planning, budgets, classification, the
report (complete, linked), the baseline diff and the findings written as scenarios."""

from __future__ import annotations

import dataclasses
import errno
import json
from pathlib import Path

import pytest

from harness.errors import InputError
from harness.explore import report
from harness.explore.classify import Observation, acceptable, classify, score
from harness.explore.cli import parse_budget
from harness.explore.discover import CallSite, sites_of
from harness.explore.errnos import CALLS, EXTRA, errnos_for, is_transient
from harness.explore.plan import PlannedFault, Selection, plan
from harness.explore.run import Batch, Store, fingerprint, load_base, run_all
from harness.faults.explore import Recorded
from harness.scenario_loader import load
from tests.explore.helpers import IGMPD

ROUTER_KINDS = ("igmpd", "igmpproxy", "smcroute", "pimd", "frr")

SITE = CallSite(
    "setsockopt",
    "IPPROTO_IP IP_ADD_MEMBERSHIP",
    (("level", 0), ("optname", 35)),
    "e0",
    True,
    "start-up",
    2,
    "AF_INET",
)
STEADY = CallSite("sendto", "", (), "e1", True, "steady", 3, "AF_INET")


def test_every_errno_of_the_table_exists_on_linux() -> None:
    for entry in [*CALLS.values(), *EXTRA.values()]:
        for name in (*entry.env, *entry.bugs):
            assert isinstance(getattr(errno, name), int), name


def test_refinements_add_errors_and_bugs_only_on_request() -> None:
    plain = errnos_for("setsockopt", ("IPPROTO_IP", "IP_ADD_MEMBERSHIP"))
    assert "ENOBUFS" in plain and "EBADF" not in plain
    assert "EBADF" in errnos_for("setsockopt", ("IP_ADD_MEMBERSHIP",), bugs=True)
    assert "EPERM" in errnos_for("socket", ("AF_INET", "SOCK_RAW", "IPPROTO_IGMP"))
    assert "EPERM" not in errnos_for("socket", ("AF_NETLINK", "SOCK_RAW", "0"))
    assert {"EINTR", "EAGAIN"} <= set(errnos_for("recvfrom", ()))
    assert "EINTR" not in errnos_for("bind", ())
    assert is_transient("EINTR") and not is_transient("ENOBUFS")


def test_planned_fault_targets_its_site_only() -> None:
    fault = PlannedFault(SITE, "ENOBUFS")
    spec = fault.fault_spec()
    assert spec == {
        "syscall": "setsockopt",
        "errno": "ENOBUFS",
        "nth": 2,
        "held": True,
        "args": {"level": 0, "optname": 35},
        "interface": "e0",
    }
    assert PlannedFault(SITE, "ENOBUFS").id == fault.id != PlannedFault(SITE, "ENOMEM").id


def test_selection_budgets() -> None:
    sites = [SITE, STEADY]
    assert all(f.site.phase == "steady" for f in plan(sites, Selection(only_phase="steady")))
    assert {f.errno for f in plan(sites, Selection(errnos="eintr,ENOBUFS"))} == {
        "EINTR",
        "ENOBUFS",
    }
    assert all(f.site is STEADY for f in plan(sites, Selection(keyword="sendto")))
    assert all(f.site is SITE for f in plan(sites, Selection(keyword="*MEMBERSHIP @e0*")))
    assert {f.site.key for f in plan(sites, Selection(keyword="sendto,MEMBERSHIP"))} == {
        SITE.key,
        STEADY.key,
    }
    assert {f.site.key for f in plan(sites, Selection(keyword="not sendto"))} == {SITE.key}
    assert plan(sites, Selection(keyword="MEMBERSHIP, not @e0")) == []
    assert len(plan(sites, Selection(budget=3))) == 3
    with pytest.raises(InputError, match="ENOBUF"):
        plan(sites, Selection(errnos="ENOBUF"))
    assert parse_budget("40") == (40, None)
    assert parse_budget("10m") == (None, 600.0)
    with pytest.raises(InputError):
        parse_budget("soon")


def test_sites_count_like_the_supervisor_and_split_phases() -> None:
    def call(at: float, name: str, args: tuple[int, ...], interface: str | None) -> Recorded:
        return Recorded(at, 7, name, args + (0,) * (6 - len(args)), interface, 2)

    calls = [
        call(1, "socket", (2, 3, 2), None),
        call(2, "setsockopt", (3, 1, 25), "e0"),
        call(3, "setsockopt", (3, 0, 35), "e0"),
        call(4, "setsockopt", (3, 0, 35), "e0"),
        call(5, "setsockopt", (4, 0, 35), "e1"),
        call(6, "epoll_wait", (5,), None),
        call(7, "sendto", (3,), "e0"),
        call(8, "sendto", (3,), "e0"),
    ]
    sites = sites_of(calls, end=6)
    keys = [s.key for s in sites]
    assert keys == [
        "start-up socket AF_INET SOCK_RAW IPPROTO_IGMP @e0 #1",
        "start-up setsockopt SOL_SOCKET SO_BINDTODEVICE @e0 #1",
        "start-up setsockopt IPPROTO_IP IP_ADD_MEMBERSHIP @e0 #1",
        "start-up setsockopt IPPROTO_IP IP_ADD_MEMBERSHIP @e0 #2",
        "start-up setsockopt IPPROTO_IP IP_ADD_MEMBERSHIP @e1 #1",
        "steady sendto @e0 #1",
    ]
    assert not sites[0].by_interface and sites[1].by_interface


def obs(outcome_inputs: dict, **fields: object) -> Observation:
    base = Observation("f", SITE.key, "ENOBUFS", "e0", hit=True)
    for key, value in {**outcome_inputs, **fields}.items():
        setattr(base, key, value)
    base.outcome, base.line = classify(base)
    return base


ERR = {"id": 41028, "level": "Error", "interface": "e0", "errno": errno.ENOBUFS, "line": "x"}
JUDGED = {"judged": ["e0: queries"]}  # something was judged (and nothing broke)
UNMAPPED = ["ERROR: cannot set socket options on e0: [Errno 105] No buffer space available"]


@pytest.mark.parametrize(
    ("inputs", "expected"),
    [
        ({"events": [ERR], "broken": ["e0 inactive"]}, "reported"),
        ({"events": [{**ERR, "errno": None}], "broken": ["e0 inactive"]}, "vague"),
        ({"events": [{**ERR, "interface": "e1"}], "broken": ["e0 inactive"]}, "vague"),
        ({"broken": ["no general query on e0"]}, "silent"),
        ({"events": [ERR], "collateral": ["e1"]}, "silent"),
        (JUDGED, "tolerated"),
        ({**JUDGED, "events": [{**ERR, "errno": None}]}, "tolerated"),
        ({}, "unjudged"),
        ({"unjudged": "e0: no state report"}, "unjudged"),
        ({"events": [{**ERR, "errno": None}]}, "unjudged"),
        ({"broken": ["no general query on e0"], "unmapped": UNMAPPED}, "vague"),
        ({"exit_status": 3}, "exit 3"),
        ({"exit_status": -6}, "crash (SIGABRT)"),
        ({"hit": False}, "unreached"),
    ],
)
def test_classify(inputs: dict, expected: str) -> None:
    assert obs(inputs).outcome == expected


def test_a_cell_with_nothing_judged_says_why_and_a_silent_one_shows_what_was_written() -> None:
    unjudged = obs({"unjudged": "e0: no general query there in the healthy run"})
    assert unjudged.word == "unjudged" and "no general query there" in unjudged.line
    vague = obs({"broken": ["no general query on e0"], "unmapped": UNMAPPED})
    assert UNMAPPED[0] in vague.line
    never = obs({"broken": ["never ready (x)"], "log": ["INFO: starting", "INFO: waiting"]})
    assert never.word == "silent" and "no error logged" in never.line
    assert "INFO: waiting" in never.line


def test_acceptance_and_score() -> None:
    good = obs({"events": [ERR], "broken": ["x"]}, recovered=True)
    stuck = obs({"events": [ERR], "broken": ["x"]}, recovered=False)
    assert acceptable(good) and not acceptable(stuck) and acceptable(obs(JUDGED))
    assert not acceptable(obs({"exit_status": 1})) and not acceptable(obs({}))
    assert score([good, stuck, obs(JUDGED)])["score"] == 1.0
    assert score([good, obs({})])["counts"]["unjudged"] == 1


def exploration(observations: list[Observation]) -> report.RouterExploration:
    faults = [PlannedFault(SITE, "ENOBUFS"), PlannedFault(SITE, "EINVAL")]
    for fault, item in zip(faults, observations, strict=True):
        item.site, item.errno, item.fault, item.folder = SITE.key, fault.errno, fault.id, "runs/x"
    return report.RouterExploration("igmpd", [SITE], faults, observations, calls=10, wall=2.0)


def test_report_is_complete(tmp_path: Path) -> None:
    e = exploration([obs({"events": [ERR], "broken": ["x"]}, recovered=True), obs(JUDGED)])
    json_path, markdown, page = report.write(tmp_path, "x.yaml", [e, e])
    data = json.loads(json_path.read_text())
    router = data["routers"][0]
    assert router["score"]["counts"]["reported"] == 1 and router["wall_s"] == 2.0
    assert len(router["observations"]) == 2 and router["sites"][0]["key"] == SITE.key
    text = markdown.read_text()
    assert SITE.key in text and "R+" in text and "Side by side" in text
    html = page.read_text()
    assert "id='explore'" in html and 'href="igmpd/runs/x/"' in html
    assert html.count('class="reported"') >= 1 and html.count('class="tolerated"') >= 1
    assert "U unjudged" in html and "U unjudged" in text, "the class is in both legends"
    assert router["score"]["counts"]["unjudged"] == 0 and "unjudged" in router["score"]


def test_baseline_diff_names_regressions() -> None:
    before = report.to_json("x", [exploration([obs(JUDGED), obs(JUDGED)])])
    after = report.to_json("x", [exploration([obs({"broken": ["x"]}), obs(JUDGED)])])
    changes = report.diff(before, after)
    assert len(changes) == 1 and changes[0].regression and "silent" in changes[0].describe()


def test_findings_become_valid_scenarios(tmp_path: Path) -> None:
    base = load(IGMPD)
    finding = obs({"broken": ["x"]}, recovered=False, failed_positions=[2, 3])
    e = exploration([finding, obs({})])  # the unjudged one is no finding
    written = report.write_scenarios(tmp_path, base, e, {"e0": "h1:e0"})
    assert len(written) == 1
    scenario = load(written[0])
    (fault,) = scenario.faults
    assert fault.kind == "syscall-error" and fault.params["nth"] == [2, 3]
    assert fault.params["interface"] == "e0" and scenario.expect.recovery is not None


def test_a_second_run_reuses_finished_results(tmp_path: Path) -> None:
    base = load(IGMPD)
    fault = PlannedFault(SITE, "ENOBUFS")
    stored = obs(JUDGED)
    Store(tmp_path).save(fault, fingerprint(base, fault), stored)
    seen: list[bool] = []
    batch = Batch(base, "igmpd", [fault], tmp_path, workers=1)
    results = run_all(batch, lambda o, reused: seen.append(reused))
    assert seen == [True] and results[0].outcome == "tolerated"


def test_each_router_is_waited_for_by_its_own_timers_and_only_the_work_is_stretched() -> None:
    from harness.compare import window_for
    from harness.explore.run import load_base
    from harness.explore.timers import Timing, query_period
    from harness.timing import timer_window

    path = str(Path(__file__).parent / "data/routers.yaml")
    periods = {kind: query_period(load_base(path, kind)) for kind in ROUTER_KINDS}
    # pimd's 5 s tick, FRR's whole seconds, smcroute's mrdisc adverts, igmpproxy's 125 s
    assert periods == {"pimd": 5.0, "frr": 2.0, "smcroute": 4.0, "igmpproxy": None, "igmpd": 2.0}
    assert timer_window(14.0, 1.0) == 14.0 and timer_window(14.0, 17.0) == 30.0
    assert window_for("igmpproxy", 17.0) == 30.0, "compare's window: not 14 x 17 = 238 s"
    native, guest = Timing.of(load_base(path, "pimd"), 1.0), Timing.of(load_base(path, "pimd"), 17)
    assert (native.query, guest.query) == (5.0, 21.0)
    assert Timing.of(load_base(path, "igmpproxy"), 1.0).query is None


def test_option_names_are_the_socket_level_s_own_not_another_protocol_s() -> None:
    import socket

    from harness.explore import names

    assert names.option(socket.SOL_SOCKET, 2) == "SO_REUSEADDR"  # not SO_J1939_PROMISC
    assert names.option(socket.SOL_SOCKET, 1) == "SO_DEBUG"
    assert names.option(socket.IPPROTO_IP, 1) == "IP_TOS"  # not IP_DEFAULT_MULTICAST_LOOP
    assert names.option(socket.IPPROTO_IP, 42) == "MCAST_JOIN_GROUP"  # FRR joins this way
    assert names.option(socket.IPPROTO_IP, 49) == "IP_MULTICAST_ALL"
    assert names.option(names.SOL_IPV6, 200) == "MRT6_INIT"
    assert names.name(names.LEVELS, 41) == "IPPROTO_IPV6"
    assert "ENOBUFS" in errnos_for("setsockopt", ("IPPROTO_IP", "MCAST_JOIN_GROUP"))


def test_joins_are_judged_only_where_the_router_learns_them() -> None:
    """igmpproxy learns no joins on its upstream, smcroute none at all: neither is 'broken'."""
    from types import SimpleNamespace

    from harness.explore.run import Judge
    from harness.explore.timers import Timing
    from harness.routers import ADAPTERS

    IgmpproxyAdapter, SmcrouteAdapter = ADAPTERS["igmpproxy"], ADAPTERS["smcroute"]  # noqa: N806

    path = str(Path(__file__).parent / "data/routers.yaml")
    for kind, adapter in (("igmpproxy", IgmpproxyAdapter()), ("smcroute", SmcrouteAdapter())):
        scenario = load_base(path, kind)
        live = SimpleNamespace(
            scenario=scenario,
            adapter=adapter,
            stream=None,
            faults=[SimpleNamespace(fault=None)],
            lab=None,  # touching the lab (a join) would fail here
        )
        judge = Judge(live, None, Timing.of(scenario, 1.0))  # type: ignore[arg-type]
        unjudged = ("e0", "e1") if kind == "smcroute" else ("e0",)  # e0: igmpproxy's upstream
        assert all(judge.join_learned(name) for name in unjudged)
        assert judge.joins == []


@pytest.mark.parametrize("hits", [0, 2])
def test_a_router_never_ready_is_a_finding_only_when_the_fault_fired(
    hits: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import contextlib

    from harness import runner
    from harness.errors import RouterError
    from harness.explore import run as explore_run
    from harness.faults.explore import ExploreFault, SiteRule
    from harness.faults.filters import SyscallMatch

    fault = ExploreFault("setsockopt", "ENOBUFS")
    fault.rules.append(SiteRule(SyscallMatch("setsockopt"), 105, (1,), None))
    fault.rules[0].hits.extend((float(n), "e0", n) for n in range(hits))

    @contextlib.contextmanager
    def never_ready(scenario, options):  # type: ignore[no-untyped-def]
        # the fault travels on the error: no module-level record of the last fault made
        raise RouterError("frr did not become ready within 105s; last lines:", faults=[fault])
        yield

    monkeypatch.setattr(runner, "session", never_ready)
    base = load_base(str(Path(__file__).parent / "data/routers.yaml"), "frr")
    obs = explore_run.observe(base, PlannedFault(SITE, "ENOBUFS"), tmp_path)
    if hits:
        assert obs.hit and obs.broken[0].startswith("never ready") and obs.word == "silent"
    else:  # the healthy start failed: not the router's reaction to this fault
        assert obs.word == "error" and "never fired" in (obs.error or "")


# -- issue 20: judged against the healthy run -------------------------------------------------


def test_the_healthy_run_s_period_is_the_median_gap_between_the_router_s_own_queries() -> None:
    from types import SimpleNamespace

    from harness.explore.baseline import Baseline, InterfaceBaseline, median_gap, presence_times

    def query(seen: float, src: str = "10.0.1.1", outgoing: bool = False) -> SimpleNamespace:
        return SimpleNamespace(seen=seen, is_router_presence=True, src=src, outgoing=outgoing)

    packets = [query(0.04), query(1.04), query(1.5, src="10.0.1.2"), query(2.05), query(3.2)]
    packets.append(query(2.5, outgoing=True))  # the host's own: not the router's
    times = presence_times(packets, {"10.0.1.1"})
    assert times == [0.04, 1.04, 2.05, 3.2] and median_gap(times) == pytest.approx(1.01)
    assert median_gap([0.04]) is None and median_gap([]) is None
    found = Baseline({"e0": InterfaceBaseline(4, 1.01), "e1": InterfaceBaseline(1, None)})
    assert found.period == 1.01 and found.queried() == ("e0", "e1")
    again = Baseline.from_json(json.loads(json.dumps(found.to_json())))
    assert again == found and "e0 4 queries every 1.01 s" in found.describe()


def test_a_command_router_is_waited_for_by_its_measured_period() -> None:
    from harness.explore.timers import Timing

    scenario = load_base(str(IGMPD), None)
    command = scenario.router.__class__(kind="command", node="r1", argv=("x",))
    base = dataclasses.replace(scenario, router=command)
    assert Timing.of(base, 1.0).query is None, "no timer, no adapter period"
    assert Timing.of(base, 1.0, measured=1.0).query == 1.0
    assert Timing.of(scenario, 1.0, measured=9.0).query == 0.4, "the adapter's own first"


def test_queries_are_judged_only_where_the_healthy_run_showed_them() -> None:
    from types import SimpleNamespace

    from harness.explore.baseline import Baseline, InterfaceBaseline
    from harness.explore.run import Judge
    from harness.explore.timers import Timing
    from harness.routers.command import CommandAdapter

    scenario = load(IGMPD)
    live = SimpleNamespace(
        scenario=scenario,
        adapter=CommandAdapter(),
        stream=None,
        faults=[SimpleNamespace(fault=None)],
        captures={"h2:e0": object()},  # a capture that would fail if it were waited on
    )
    healthy = Baseline({"e0": InterfaceBaseline(3, 1.0), "e1": InterfaceBaseline(0, None)})
    judge = Judge(live, None, Timing.of(scenario, 1.0), healthy)  # type: ignore[arg-type]
    assert judge.queriers == ("e0",)
    assert judge.query_seen("e1", 0.0, 1.0)
    assert judge.skipped["e1"] == ["no general query there in the healthy run"]
    assert "e1" not in judge.judged


def test_a_pinned_finding_is_cleared_after_the_last_call_it_failed() -> None:
    """Issue 20: nth [2, 3, 4] cleared at +1000 ms never fired (the 2nd send came at +1035)."""
    from harness.explore.report import pinned_clear

    seen = obs({"broken": ["x"]}, failed_positions=[2, 3, 4], hit_ms=1035.0)
    seen.hit_times_ms = [1035.0, 2036.0, 3034.0]
    assert pinned_clear(seen, 1.0) == 3.6
    seen.hit_times_ms = []
    assert pinned_clear(seen, 1.0) == 3.6, "first hit plus one period per failed call"
    assert pinned_clear(obs({"broken": ["x"]}, hit_ms=120.0), None) == 0.7
    site = CallSite("sendto", "", (), "e0", True, "steady", 2, "AF_INET")
    seen.hit_times_ms = [1035.0, 2036.0, 3034.0]
    data = report.finding_scenario(load(IGMPD), site, seen, "h1:e0", 1.0)
    (fault,) = data["faults"]
    assert fault["clear"] == {"at": "3.6s"} and fault["nth"] == [2, 3, 4]
    assert data["expect"]["events"][0]["within"] == "4.6s"


def test_a_command_router_is_named_by_its_program() -> None:
    from harness.scenario import RouterSpec

    def label(*argv: str) -> str:
        return RouterSpec(kind="command", argv=argv).label

    assert (
        label("/usr/bin/python3", "-u", "/x/examples/myquerier/myquerier.py", "e0") == "myquerier"
    )
    assert label("/usr/sbin/mcd", "-f", "{workdir}/mcd.conf") == "mcd"
    assert label("env", "python3", "q.py") == "q"
    assert RouterSpec(kind="pimd").label == "pimd"


def test_a_findings_expected_event_is_its_calls_step_in_the_catalog() -> None:
    """The event a pinned finding expects comes from the step tables (STEP_CALLS, BY_STEP):
    the call's own row, else the one step its syscall has, else a socket option's step."""
    from harness.catalog import BY_STEP, Step
    from harness.explore.report import step_event

    def site(syscall: str, *args: tuple[str, int]) -> CallSite:
        return CallSite(syscall, "x", tuple(args), "e0", True, "start-up", 1)

    ip_hdrincl = site("setsockopt", ("level", 0), ("optname", 3))
    assert step_event(ip_hdrincl) == BY_STEP[Step.HEADER_INCLUDE].id == 41030
    assert step_event(site("setsockopt", ("level", 1), ("optname", 25))) == 41025  # BINDTODEVICE
    assert step_event(site("setsockopt", ("level", 0), ("optname", 33))) == 41028  # TTL
    assert step_event(site("socket", ("domain", 16), ("type", 3))) == 41024  # a netlink socket
    assert step_event(site("sendmsg")) == 41019 and step_event(site("recvmsg")) == 41012
    assert step_event(site("epoll_create")) == 41023
    assert step_event(site("ioctl")) is None and step_event(site("getsockopt")) is None
