"""From exported events to scenarios: grouping, errno and address mapping, fault choice, files."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Interface
from pathlib import Path

import pytest
import yaml

from harness import catalog, scenario_loader
from harness.catalog import Step
from harness.errors import Location
from harness.faults import make_fault
from harness.reproduce.choose import choose_fault
from harness.reproduce.classify import classify, field_failure
from harness.reproduce.plan import plan_addresses
from harness.reproduce.write import reproduce_export, scenario_for
from harness.winevents import WinEvent, read_export

DATA = Path(__file__).parents[1] / "data" / "winevents"

# id -> (file name written for the XML sample, errno expected, lab address of e0)
EXPECTED: dict[int, tuple[str, str | None, str]] = {
    41012: ("41012-e0-ENETDOWN.yaml", "ENETDOWN", "10.0.1.1"),
    41019: ("41019-e0-EHOSTUNREACH.yaml", "EHOSTUNREACH", "192.168.10.1"),
    41023: ("41023-e0-code-0.yaml", None, "10.0.3.1"),
    41024: ("41024-e0-EMFILE.yaml", "EMFILE", "172.16.4.1"),
    41025: ("41025-e0-EADDRNOTAVAIL.yaml", "EADDRNOTAVAIL", "198.51.100.7"),
    41028: ("41028-e0-EADDRINUSE.yaml", "EADDRINUSE", "10.0.1.1"),
    41029: ("41029-e0-EINVAL.yaml", "EINVAL", "10.99.0.1"),
    41030: ("41030-e0-ENOPROTOOPT.yaml", "ENOPROTOOPT", "10.0.9.1"),
}


def igmp_event(
    event_id: int = 41028, strings: tuple[str, ...] = ("10.0.1.1",), code: int | None = 10048
) -> WinEvent:
    return WinEvent(
        provider="IGMPv2",
        id=event_id,
        level="Error",
        strings=strings,
        error_code=code,
        source=Location("x.xml", 1),
    )


@pytest.mark.parametrize("event_id", sorted(EXPECTED))
def test_each_socket_event_becomes_a_valid_scenario(event_id: int, tmp_path: Path) -> None:
    result = reproduce_export(DATA / f"{event_id}.xml", tmp_path)
    (written,) = result.written
    name, errno, address = EXPECTED[event_id]
    assert written.path == tmp_path / name
    loaded = scenario_loader.load(written.path)  # valid per docs/scenario-format.md
    expected = loaded.expect.events[0]
    assert expected.event.id == event_id
    assert expected.event.interface == "e0"
    wanted_errno = None if errno is None else catalog.errno_number(errno)
    assert expected.event.errno == wanted_errno
    assert expected.event.strings[0] == address
    assert loaded.router.node == "r1" and loaded.router.interface_names == ("e0",)
    assert f"r1:e0 {address}/24" in yaml.safe_dump(dict(loaded.topology.data))
    (fault,) = yaml.safe_load(written.path.read_text())["faults"]
    make_fault(fault)  # the fault engine accepts its parameters


@pytest.mark.parametrize("event_id", sorted(EXPECTED))
def test_csv_samples_give_event_only_scenarios(event_id: int, tmp_path: Path) -> None:
    result = reproduce_export(DATA / f"{event_id}.csv", tmp_path)
    (written,) = result.written
    assert written.path.name == f"{event_id}-e0-unknown-error.yaml"
    loaded = scenario_loader.load(written.path)
    assert loaded.expect.events[0].event.errno is None
    assert "CSV carries no binary data" in loaded.description
    make_fault(yaml.safe_load(written.path.read_text())["faults"][0])


def test_setup_steps_expect_41055_after_the_event(tmp_path: Path) -> None:
    loaded = scenario_loader.load(reproduce_export(DATA / "41028.xml", tmp_path).written[0].path)
    assert [e.event.id for e in loaded.expect.events] == [41028, 41055]
    assert loaded.expect.order == (41028, 41055)
    assert loaded.faults[0].when.kind == "before-start"


@pytest.mark.parametrize(("event_id", "step"), [(41019, "send"), (41012, "receive")])
def test_runtime_steps_fault_after_the_interface_is_up(
    event_id: int, step: str, tmp_path: Path
) -> None:
    loaded = scenario_loader.load(
        reproduce_export(DATA / f"{event_id}.xml", tmp_path).written[0].path
    )
    fault = loaded.faults[0]
    assert fault.when.kind == "after-event"
    assert fault.when.event is not None
    assert (fault.when.event.id, fault.when.event.interface) == (41052, "e0")
    assert fault.params["step"] == step and fault.params["armed"] == "apply"
    assert [e.event.id for e in loaded.expect.events] == [event_id]


def test_receive_scenario_sends_reports_to_receive(tmp_path: Path) -> None:
    loaded = scenario_loader.load(reproduce_export(DATA / "41012.xml", tmp_path).written[0].path)
    assert [(t.node, t.action, t.ifname) for t in loaded.traffic] == [("h1", "join", "e0")]


def test_header_include_runs_on_the_internal_interface(tmp_path: Path) -> None:
    loaded = scenario_loader.load(reproduce_export(DATA / "41030.xml", tmp_path).written[0].path)
    assert [(i.name, i.mode) for i in loaded.router.interfaces] == [("e0", "internal")]


def test_send_to_all_hosts_expects_the_destination_string(tmp_path: Path) -> None:
    loaded = scenario_loader.load(reproduce_export(DATA / "41019.xml", tmp_path).written[0].path)
    assert loaded.expect.events[0].event.strings == ("192.168.10.1", "224.0.0.1")


def test_several_events_one_scenario_per_distinct_event_interface_error(tmp_path: Path) -> None:
    result = reproduce_export(DATA / "several.xml", tmp_path)
    names = [item.path.name for item in result.written]
    assert names == [
        "41028-e0-EADDRINUSE.yaml",
        "41028-e1-ENOBUFS.yaml",
        "41019-e1-EADDRNOTAVAIL.yaml",
        "41029-e1-EADDRINUSE.yaml",
    ]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert len(result.written[0].failure.occurrences) == 3
    reasons = {item.event.id: item.reason for item in result.unmapped}
    assert "10060 (0x274C) has no Linux equivalent" in reasons[41024]
    assert "not in the IGMPv2 catalog" in reasons[41099]
    assert "not a socket-operation event" in reasons[41055]
    assert len(result.written) + len(result.unmapped) == 9  # 11 events, 3 of one failure
    for item in result.written:
        loaded = scenario_loader.load(item.path)
        assert loaded.router.interface_names == ("e0", "e1")
        assert loaded.router.version == 2  # from the export's 41052/41055


def test_non_igmp_and_dvmrp_events_are_listed_not_mapped(tmp_path: Path) -> None:
    result = reproduce_export(DATA / "mixed.xml", tmp_path)
    assert [item.path.name for item in result.written] == ["41029-e0-EINVAL.yaml"]
    assert [(u.event.provider, u.event.id) for u in result.unmapped] == [
        ("Service Control Manager", 7036),
        ("DVMRP", 41028),
    ]
    assert all("is not the IGMPv2 router" in u.reason for u in result.unmapped)


def test_csv_mixed_export(tmp_path: Path) -> None:
    result = reproduce_export(DATA / "mixed.csv", tmp_path)
    assert [item.path.name for item in result.written] == [
        "41028-e0-unknown-error.yaml",
        "41019-e1-unknown-error.yaml",
    ]
    assert [u.event.id for u in result.unmapped] == [7036, 41055]


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (igmp_event(strings=()), "no insertion string %1"),
        (igmp_event(strings=("fe80::1",)), "IPv6"),
        (igmp_event(strings=("eth0",)), "'eth0' is not an IPv4 address"),
        (igmp_event(code=10060), "10060 (0x274C) has no Linux equivalent"),
        (igmp_event(event_id=41052, strings=("2", "e0")), "not a socket-operation event"),
    ],
)
def test_unmappable_events_say_why(event: WinEvent, reason: str) -> None:
    result = field_failure(event)
    assert isinstance(result, str) and reason in result


def test_winsock_codes_map_to_linux_errno_never_minus_10000() -> None:
    failure = field_failure(igmp_event(code=10055))
    assert not isinstance(failure, str)
    assert failure.errno_name == "ENOBUFS"  # 10055 - 10000 = 55 would be wrong
    memory = field_failure(igmp_event(code=8))
    assert not isinstance(memory, str) and memory.errno_name == "ENOMEM"


def test_classify_groups_by_event_interface_and_error() -> None:
    events = [
        igmp_event(),
        igmp_event(),
        igmp_event(code=10055),
        igmp_event(strings=("10.0.2.1",)),
        igmp_event(event_id=41029),
    ]
    failures, unmapped = classify(events)
    assert [(f.event.id, str(f.address), f.errno_name, len(f.occurrences)) for f in failures] == [
        (41028, "10.0.1.1", "EADDRINUSE", 2),
        (41028, "10.0.1.1", "ENOBUFS", 1),
        (41028, "10.0.2.1", "EADDRINUSE", 1),
        (41029, "10.0.1.1", "EADDRINUSE", 1),
    ]
    assert unmapped == []


def test_addresses_private_kept_public_and_clashing_mapped() -> None:
    plan = plan_addresses(
        IPv4Address(a) for a in ("10.0.1.1", "8.8.4.4", "10.0.1.7", "192.0.2.1", "10.0.5.0")
    )
    assert plan.interfaces == {
        IPv4Address("10.0.1.1"): "e0",
        IPv4Address("8.8.4.4"): "e1",
        IPv4Address("10.0.1.7"): "e2",
        IPv4Address("192.0.2.1"): "e3",
        IPv4Address("10.0.5.0"): "e4",
    }
    lab = {str(k): str(v) for k, v in plan.lab.items()}
    assert lab == {
        "10.0.1.1": "10.0.1.1/24",
        "8.8.4.4": "10.99.0.1/24",  # public
        "10.0.1.7": "10.99.1.1/24",  # same /24 as e0
        "192.0.2.1": "192.0.2.1/24",  # documentation range
        "10.0.5.0": "10.99.2.1/24",  # network address of its /24
    }
    peers = {str(v) for v in plan.peers.values()}
    assert "10.0.1.2/24" in peers and "10.99.0.2/24" in peers
    assert not peers & set(lab.values())
    assert "8.8.4.4 -> lab 10.99.0.1" in plan.describe(IPv4Address("8.8.4.4"))


def test_peer_avoids_the_router_address() -> None:
    plan = plan_addresses([IPv4Address("10.0.1.2")])
    assert plan.peers[IPv4Address("10.0.1.2")] == IPv4Interface("10.0.1.1/24")


def test_mapping_is_recorded_in_the_description(tmp_path: Path) -> None:
    loaded = scenario_loader.load(reproduce_export(DATA / "41029.xml", tmp_path).written[0].path)
    assert "field 131.107.0.1 -> lab 10.99.0.1 (e0, mapped)" in loaded.description


@pytest.mark.parametrize(
    ("step", "errno", "kind"),
    [
        (Step.REQUEST_MULTICAST, "EADDRINUSE", "mrt-held"),
        (Step.CREATE_SOCKET, "EPERM", "no-cap-net-raw"),
        (Step.SEND, "ENETUNREACH", None),  # some real cause from the table
        (Step.ROUTER_ALERT, "EINVAL", "step-error"),
        (Step.RECEIVE, "ENETDOWN", "step-error"),
    ],
)
def test_choose_fault_prefers_a_real_cause(step: Step, errno: str, kind: str | None) -> None:
    fault = choose_fault(step, errno)
    if kind is None:
        assert fault["kind"] != "step-error"
    else:
        assert fault["kind"] == kind
    if fault["kind"] == "step-error":
        assert fault == {"kind": "step-error", "step": step.value, "errno": errno}


def test_choose_fault_without_errno_uses_the_steps_real_cause() -> None:
    assert choose_fault(Step.CREATE_SOCKET, None)["kind"] == "no-cap-net-raw"
    assert choose_fault(Step.ROUTER_ALERT, None) == {
        "kind": "step-error",
        "step": "router_alert",
        "errno": "EADDRINUSE",
    }


def test_create_socket_step_error_is_not_scoped_to_an_interface() -> None:
    failure = field_failure(igmp_event(event_id=41024, code=10022))
    assert not isinstance(failure, str)
    document, _ = scenario_for(failure, plan_addresses([failure.address]))
    assert document["faults"][0] == {
        "kind": "step-error",
        "step": "create_socket",
        "errno": "EINVAL",
    }


def test_event_select_step_error_targets_epoll_ctl_on_the_interface() -> None:
    failure = field_failure(igmp_event(event_id=41023, code=10009))
    assert not isinstance(failure, str)
    document, _ = scenario_for(failure, plan_addresses([failure.address]))
    assert document["faults"][0] == {
        "kind": "step-error",
        "step": "event_select",
        "errno": "EBADF",
        "interface": "e0",
        "call": "epoll_ctl",
    }


def test_rerun_overwrites_the_same_files(tmp_path: Path) -> None:
    first = reproduce_export(DATA / "41028.xml", tmp_path).written[0].path.read_text()
    second = reproduce_export(DATA / "41028.xml", tmp_path).written[0].path.read_text()
    assert first == second
    assert first.startswith("# Generated by `faultlab reproduce 41028.xml`")
    assert len(list(tmp_path.iterdir())) == 1


def test_reads_back_the_same_failure_from_xml_and_csv() -> None:
    (xml_failure,), _ = classify(read_export(DATA / "41028.xml"))
    (csv_failure,), _ = classify(read_export(DATA / "41028.csv"))
    assert (xml_failure.event, xml_failure.address) == (csv_failure.event, csv_failure.address)
    assert (xml_failure.errno_name, csv_failure.errno_name) == ("EADDRINUSE", None)
