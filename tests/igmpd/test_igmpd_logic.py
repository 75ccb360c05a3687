"""Membership timers, querier election, config validation and the event log, without a kernel."""

from __future__ import annotations

import errno
import io
import json
import socket
import struct
from pathlib import Path

import pytest

from harness.catalog import Step
from igmpd import bpf, packets
from igmpd.activation import MulticastRouting
from igmpd.cli import build_parser, config_from
from igmpd.config import ConfigError, Limits, Timers
from igmpd.events import EventLog, RateLimiter
from igmpd.membership import EXCLUDE, INCLUDE, Membership
from igmpd.mroute import MrtUnavailable
from igmpd.querier import Querier
from igmpd.sockets import StepFailed

TIMERS = Timers(query_interval=1.0, query_response_interval=0.5, last_member_query_interval=0.2)
G = socket.inet_aton("239.1.1.1")
S1, S2 = socket.inet_aton("10.0.0.1"), socket.inet_aton("10.0.0.2")


def membership(version: int = 3, **limits: int) -> Membership:
    return Membership(version, TIMERS, Limits(**limits))


def test_v2_report_lives_for_the_group_membership_interval() -> None:
    groups = membership()
    assert groups.report_v1v2(G, "10.0.0.9", 2, now=0.0)
    assert not groups.expire(now=2.4)  # GMI = 2 * 1.0 + 0.5
    assert groups.groups[G].version(3, 2.4) == 2  # older host present
    assert groups.expire(now=2.6) and G not in groups.groups


def test_refresh_extends_without_piling_up_heap_entries() -> None:
    groups = membership()
    for tick in range(1000):
        groups.report_v1v2(G, "10.0.0.9", 2, now=tick * 0.001)
    assert len(groups._heap) == 1
    assert not groups.expire(now=2.5) and G in groups.groups


def test_leave_lowers_to_last_member_query_time() -> None:
    groups = membership()
    groups.report_v1v2(G, "10.0.0.9", 2, now=0.0)
    assert groups.leave(G, now=1.0)
    assert not groups.expire(now=1.39)  # LMQT = 2 * 0.2
    assert groups.expire(now=1.41) and not groups.groups


def test_leave_is_ignored_while_a_v1_host_is_present() -> None:
    groups = membership()
    groups.report_v1v2(G, "10.0.0.9", 1, now=0.0)
    assert not groups.leave(G, now=0.1)


def test_v3_include_sources_expire_one_by_one() -> None:
    groups = membership()
    groups.record(packets.GroupRecord(packets.ALLOW_NEW_SOURCES, G, (S1,)), "10.0.0.9", 0.0)
    groups.record(packets.GroupRecord(packets.ALLOW_NEW_SOURCES, G, (S2,)), "10.0.0.9", 1.0)
    assert groups.groups[G].mode == INCLUDE
    groups.expire(2.6)
    assert set(groups.groups[G].sources) == {S2}
    groups.expire(3.6)
    assert G not in groups.groups


def test_v3_to_include_nothing_asks_for_a_group_specific_query() -> None:
    groups = membership()
    groups.record(packets.GroupRecord(packets.CHANGE_TO_EXCLUDE, G, ()), "10.0.0.9", 0.0)
    assert groups.groups[G].mode == EXCLUDE
    actions = groups.record(packets.GroupRecord(packets.CHANGE_TO_INCLUDE, G, ()), "h", 0.5)
    assert actions.queries == [(G, ())]


def test_v3_block_asks_for_a_group_and_source_specific_query() -> None:
    groups = membership()
    groups.record(packets.GroupRecord(packets.MODE_IS_INCLUDE, G, (S1, S2)), "h", 0.0)
    actions = groups.record(packets.GroupRecord(packets.BLOCK_OLD_SOURCES, G, (S2,)), "h", 0.1)
    assert actions.queries == [(G, (S2,))]


def test_caps_bound_groups_and_sources() -> None:
    groups = membership(max_groups=2, max_sources=3)
    for n in range(5):
        groups.report_v1v2(bytes([239, 0, 0, n]), "h", 2, 0.0)
    sources = tuple(bytes([10, 0, 0, n]) for n in range(10))
    groups.record(packets.GroupRecord(packets.ALLOW_NEW_SOURCES, G, sources), "h", 0.0)
    assert len(groups.groups) == 2 and groups.refused == 4


def test_static_group_never_expires() -> None:
    groups = membership()
    groups.add_static(G)
    groups.expire(1e9)
    assert groups.snapshot(1e9)["239.1.1.1"]["static"] is True


def test_lower_address_wins_the_election_until_it_goes_silent() -> None:
    querier = Querier("10.0.0.2", TIMERS)
    querier.start(0.0)
    assert querier.due(0.0)
    assert not querier.heard_query("10.0.0.3", 0.1)  # higher: ignored
    assert querier.heard_query("10.0.0.1", 0.2) and querier.snapshot() == "10.0.0.1"
    assert not querier.due(1.0)
    assert not querier.due(2.4)  # other-querier-present = 2 * 1.0 + 0.25
    assert querier.due(2.46) and querier.snapshot() == "self"


def test_startup_queries_then_the_query_interval() -> None:
    timers = Timers(query_interval=1.0, query_response_interval=0.5, startup_query_count=3)
    querier = Querier("10.0.0.2", timers)
    querier.start(0.0)
    times = [t / 100 for t in range(0, 400) if querier.due(t / 100)]
    assert times == [0.0, 0.25, 0.5, 1.5, 2.5, 3.5]


def _config(*argv: str):
    return config_from(build_parser().parse_args(list(argv)))


@pytest.mark.parametrize(
    ("argv", "event", "words"),
    [
        (["-i", "e0", "--robustness", "0"], 41050, "robustness 0"),
        (["-i", "e0", "--robustness", "8"], 41050, "robustness 8"),
        (["-i", "e0", "--startup-query-count", "9"], 41051, "startup query count 9"),
        (["-i", "e0", "--static-group", "e0:10.1.1.1"], 41047, "static group 10.1.1.1"),
        (["-i", "e0:bogus"], None, "mode 'bogus'"),
        (["-i", "e0", "-i", "e0"], None, "configured twice"),
        ([], None, "no interface"),
        (["-i", "e0", "--query-interval", "1", "--query-response-interval", "2"], None, "less"),
    ],
)
def test_bad_configuration_is_named(argv: list[str], event: int | None, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _config(*argv)
    assert words in str(caught.value)
    assert (caught.value.event[0] if caught.value.event else None) == event


def test_config_file_toml_with_command_line_override(tmp_path: Path) -> None:
    path = tmp_path / "igmpd.toml"
    path.write_text(
        'interfaces = ["e0", {name = "e1", mode = "internal", version = 2}]\n'
        "query_interval = 2.5\nquery_response_interval = 1\nrobustness = 3\n"
    )
    config = _config("--config", str(path), "--robustness", "4")
    assert [(i.name, i.mode, i.version) for i in config.interfaces] == [
        ("e0", "router", 3),
        ("e1", "internal", 2),
    ]
    assert config.timers.query_interval == 2.5 and config.timers.robustness == 4


def test_config_file_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "igmpd.json"
    path.write_text(json.dumps({"interfaces": ["e0"], "query_intervall": 1}))
    with pytest.raises(ConfigError, match="unknown key 'query_intervall'"):
        _config("--config", str(path))


def test_event_record_has_the_contract_fields() -> None:
    stream = io.StringIO()
    EventLog(stream).emit(
        41028, "e0", ["10.0.1.1"], step="request_multicast", call="MRT_INIT", errno=98
    )
    record = json.loads(stream.getvalue())
    assert record["symbol"] == "IGMPLOG_SET_MCAST_IF_FAILED" and record["level"] == "Error"
    assert record["errno_name"] == "EADDRINUSE" and record["winsock"] == 10048
    assert record["provider"] == "igmpd" and "10.0.1.1" in record["message"]
    assert record["time"].endswith("+00:00") and len(record["time"].split(".")[1]) == 12


def test_rate_limit_keeps_a_burst_then_counts_what_it_holds_back() -> None:
    clock = [0.0]
    stream = io.StringIO()
    log = EventLog(stream, RateLimiter(burst=3, rate=1.0, clock=lambda: clock[0]))
    written = sum(log.emit_limited(41015, "e0", ["a", "b"]) for _ in range(1000))
    assert written == 3
    clock[0] = 1.0
    assert log.emit_limited(41015, "e0", ["a", "b"])
    last = json.loads(stream.getvalue().splitlines()[-1])
    assert last["suppressed"] == 997


def test_v3_groups_without_sources_hold_no_containers_of_their_own() -> None:
    import tracemalloc

    from igmpd.membership import EMPTY

    groups = membership(max_groups=2000)
    addresses = [bytes([239, 1, n >> 8, n & 255]) for n in range(1000)]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for address in addresses:
        groups.record(packets.GroupRecord(packets.MODE_IS_EXCLUDE, address, ()), "h", 0.0)
    per_group = (tracemalloc.get_traced_memory()[0] - before) / len(addresses)
    tracemalloc.stop()
    assert all(g.sources is None and g.excluded is EMPTY for g in groups.groups.values())
    assert per_group < 300, f"{per_group:.0f} B per group"  # was ~500 B (a frozenset each)


def test_stale_heap_entries_of_lowered_timers_do_not_pile_up() -> None:
    groups = membership(version=2)
    for cycle in range(20):
        now = cycle * 0.5
        groups.report_v1v2(G, "10.0.0.9", 2, now)
        groups.leave(G, now + 0.1)
        groups.report_v1v2(G, "10.0.0.9", 2, now + 0.2)
        groups.expire(now + 0.45)
    # Stale entries of lowered timers go once due (within a GMI of 2.5 s: 5 cycles), instead of
    # being re-filed forever: one per leave would pile up.
    assert G in groups.groups and len(groups._heap) <= 6


def test_a_passed_older_host_timer_is_no_longer_a_deadline() -> None:
    groups = membership(version=3)
    groups.report_v1v2(G, "10.0.0.9", 2, now=0.0)  # older host present until 2.5
    to_ex = packets.GroupRecord(packets.CHANGE_TO_EXCLUDE, G, ())
    groups.record(to_ex, "10.0.0.9", 2.0)  # group timer until 4.5
    assert not groups.expire(2.6)
    assert groups.groups[G].version(3, 2.6) == 3
    assert groups.next_deadline() == pytest.approx(4.5, abs=1e-3)  # not a wake-up every ms


def test_streamed_state_is_the_same_json_as_the_plain_one(tmp_path: Path) -> None:
    from igmpd.state import CHUNK, StateFile, Streamed

    entries = [(f"239.0.{n >> 8}.{n & 255}", {"n": n, "s": []}) for n in range(CHUNK + 3)]
    for items in (entries, [], entries[:1]):
        path = tmp_path / "state.json"
        state = {"pid": 1, "interfaces": {"e0": {"groups": Streamed(lambda i=items: iter(i))}}}
        StateFile(str(path)).write(state)
        written = json.loads(path.read_text())
        assert written == {"pid": 1, "interfaces": {"e0": {"groups": dict(items)}}}


def test_a_query_interval_alone_gets_a_response_interval_that_fits() -> None:
    short = _config("--interface", "e0", "--query-interval", "0.5")
    assert short.timers.query_response_interval == 0.25
    assert _config("--interface", "e0").timers.query_response_interval == 10.0
    assert (
        _config("--interface", "e0", "--query-interval", "60").timers.query_response_interval
        == 10.0
    )


# --- --multicast-routing ---------------------------------------------------------------------


def test_multicast_routing_defaults_to_auto_and_the_command_line_wins(tmp_path: Path) -> None:
    assert _config("-i", "e0").multicast_routing == "auto"
    path = tmp_path / "igmpd.toml"
    path.write_text('interfaces = ["e0"]\nmulticast_routing = "off"\n')
    assert _config("--config", str(path)).multicast_routing == "off"
    assert _config("--config", str(path), "--multicast-routing", "on").multicast_routing == "on"


@pytest.mark.parametrize("value", ["yes", True, 1])
def test_multicast_routing_in_a_file_must_be_one_of_the_names(tmp_path: Path, value) -> None:
    path = tmp_path / "igmpd.json"
    path.write_text(json.dumps({"interfaces": ["e0"], "multicast_routing": value}))
    with pytest.raises(ConfigError, match="auto, on, off"):
        _config("--config", str(path))


def test_multicast_routing_on_the_command_line_is_a_choice() -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["-i", "e0", "--multicast-routing", "maybe"])


def _mrt_failure(err: int) -> StepFailed:
    kind = MrtUnavailable if err == errno.ENOPROTOOPT else StepFailed
    return kind(Step.REQUEST_MULTICAST, "MRT_INIT", err)


def test_auto_falls_back_only_on_enoprotoopt_and_only_once() -> None:
    routing = MulticastRouting("auto")
    assert (routing.in_use, routing.path, routing.planned) == (None, "mroute", None)
    assert not routing.fall_back(_mrt_failure(errno.EADDRINUSE))  # another router holds it
    assert routing.in_use is None  # undecided: the next activation asks MRT_INIT again
    assert routing.fall_back(_mrt_failure(errno.ENOPROTOOPT))
    assert (routing.in_use, routing.path, routing.planned) == (False, "packet", "packet")
    assert not routing.fall_back(_mrt_failure(errno.ENOPROTOOPT))  # decided: said once
    assert routing.snapshot() == {"requested": "auto", "in_use": False}


def test_auto_decided_by_a_working_mrt_init_and_on_never_falls_back() -> None:
    routing = MulticastRouting("auto")
    routing.succeeded("mroute")
    assert routing.in_use is True and not routing.fall_back(_mrt_failure(errno.ENOPROTOOPT))
    on = MulticastRouting("on")
    assert on.in_use is True and not on.fall_back(_mrt_failure(errno.ENOPROTOOPT))
    off = MulticastRouting("off")
    assert (off.in_use, off.path) == (False, "packet")


def test_enoprotoopt_before_mrt_init_is_no_reason_to_fall_back() -> None:
    """Only MRT_INIT's own ENOPROTOOPT is MrtUnavailable: the filter or IP_PKTINFO set before
    it failing with that errno (a fault) stays a plain step failure."""
    assert not MulticastRouting("auto").fall_back(
        StepFailed(Step.REQUEST_MULTICAST, "MRT_INIT", errno.ENOPROTOOPT)
    )


def test_the_packet_socket_filter_keeps_igmp_from_the_link_only() -> None:
    """Run bpf.INCOMING_IGMP on a tiny classic-BPF interpreter (the four opcodes it uses)."""
    keep = [(proto, kind) for proto in (2, 6, 17) for kind in range(6) if _run_bpf(proto, kind)]
    assert keep == [(2, 0), (2, 1), (2, 2)]  # IGMP to this host, broadcast, multicast


def _run_bpf(protocol: int, pkttype: int) -> bool:
    program = bpf.INCOMING_IGMP
    pc, a = 0, 0
    packet = bytes(9) + bytes([protocol]) + bytes(10)
    while True:
        code, jt, jf, k = struct.unpack_from("HBBI", program, pc * 8)
        if code == 0x06:
            return k > 0
        if code == 0x30:
            a = packet[k]
        elif code == 0x20:
            assert k == bpf.SKF_AD_PKTTYPE
            a = pkttype
        elif code in (0x15, 0x25):
            pc += jt if (a == k if code == 0x15 else a > k) else jf
        pc += 1
