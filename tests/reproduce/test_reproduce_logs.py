"""`faultlab reproduce LOGFILE`: pasted router log lines -> router, call, errno, cause, scenario.

The lines are made here from each router's own format strings (igmpproxy's my_log "%s; Errno(%d):
%s", smcroute's smclog, pimd's logit "%s: %s", FRR's zlog_warn in pim_mroute.c), then wrapped in
the noise a ticket adds: syslog and journal prefixes, docker timestamps, CRLF, ANSI colours and
"> " quote marks. Nothing here runs a router.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness import scenario_loader
from harness.catalog import Step
from harness.faults.table import rows
from harness.reproduce.causes import choose
from harness.reproduce.choose import choose_fault
from harness.reproduce.fieldlog import read_log
from harness.reproduce.logtext import clean
from harness.reproduce.logwrite import reproduce_log
from harness.reproduce.nevermeets import NEVER_MEETS
from harness.reproduce.platforms import detect, to_linux

ROOT = Path(__file__).parents[2]

# (router, message as the router's format string renders it, call, Linux errno name)
MESSAGES: list[tuple[str, str, str, str]] = [
    ("igmpproxy", "MRT_INIT failed; Errno(92): Protocol not available", "MRT_INIT", "ENOPROTOOPT"),
    (
        "igmpproxy",
        "MC-Router API already in use; Errno(98): Address already in use",
        "MRT_INIT",
        "EADDRINUSE",
    ),
    ("igmpproxy", "MRT_ADD_VIF; Errno(98): Address already in use", "MRT_ADD_VIF", "EADDRINUSE"),
    (
        "igmpproxy",
        "can't join group 239.255.255.250 on interface br-lan; Errno(105): No buffer space "
        "available",
        "IP_ADD_MEMBERSHIP",
        "ENOBUFS",
    ),
    (
        "igmpproxy",
        "sendto to 224.0.0.1 on 192.168.1.1; Errno(1): Operation not permitted",
        "sendto",
        "EPERM",
    ),
    (
        "smcroute",
        "IPv4 multicast routing API already in use: Address already in use",
        "MRT_INIT",
        "EADDRINUSE",
    ),
    ("smcroute", "Kernel does not even support IGMP, skipping ...", "MRT_INIT", "ENOPROTOOPT"),
    (
        "smcroute",
        "Failed adding VIF for iface eth3: Address already in use",
        "MRT_ADD_VIF",
        "EADDRINUSE",
    ),
    (
        "smcroute",
        "Failed initializing IPv4 multicast routing API: Operation not permitted",
        "socket",
        "EPERM",
    ),
    (
        "smcroute",
        "Failed initializing IPv4 multicast routing API: Protocol not available",
        "MRT_INIT",
        "ENOPROTOOPT",
    ),
    ("pimd", "Another multicast routing application is already running.", "MRT_INIT", "EADDRINUSE"),
    (
        "pimd",
        "Cannot enable multicast routing in kernel: Protocol not available",
        "MRT_INIT",
        "ENOPROTOOPT",
    ),
    (
        "pimd",
        "setsockopt MRT_ADD_VIF on vif 2: Address already in use",
        "MRT_ADD_VIF",
        "EADDRINUSE",
    ),
    (
        "frr",
        "[X7TC8-XJ95M] pim_mroute.c pim_mroute_set: failure: setsockopt(fd=14,PIM_IPPROTO,"
        "MRT_INIT=1): errno=98: Address already in use",
        "MRT_INIT",
        "EADDRINUSE",
    ),
    (
        "frr",
        "pim_mroute.c pim_mroute_set: failure: setsockopt(fd=11,IPPROTO_IP,MRT_INIT=1): "
        "errno=92: Protocol not available",
        "MRT_INIT",
        "ENOPROTOOPT",
    ),
    (
        "frr",
        "pim_mroute_add_vif: failure: setsockopt(fd=11,PIM_IPPROTO,MRT_ADD_VIF,vif_index=4,"
        "ifaddr=10.1.1.1,flag=0): errno=98: Address already in use",
        "MRT_ADD_VIF",
        "EADDRINUSE",
    ),
]
MESSAGES += [
    (
        "igmpproxy",
        "setsockopt IP_MULTICAST_IF 192.168.1.1; Errno(99): Cannot assign requested address",
        "IP_MULTICAST_IF",
        "EADDRNOTAVAIL",
    ),
    # musl's strerror (OpenWrt): "Address in use", not "Address already in use"
    (
        "smcroute",
        "IPv4 multicast routing API already in use: Address in use",
        "MRT_INIT",
        "EADDRINUSE",
    ),
    (
        "frr",
        "pim_igmp_join_source: setsockopt(fd=20) failure for IGMP group 232.1.1.1 source "
        "10.0.0.1 ifindex 3 on interface eth0: errno=105: No buffer space available",
        "IP_ADD_MEMBERSHIP",
        "ENOBUFS",
    ),
    (
        "frr",
        "Send IGMPv3 query failed due to 224.0.0.1 on eth1: group=* msg_size=12: errno=1: "
        "Operation not permitted",
        "sendto",
        "EPERM",
    ),
]
MESSAGES += [
    # pimd's send_igmp(): logit(..., errno, "Sendto to %s on %s", dst, src)
    ("pimd", "Sendto to 224.0.0.1 on 192.0.2.1: Permission denied", "sendto", "EACCES"),
    # an older glibc's wording of EADDRNOTAVAIL
    (
        "smcroute",
        "Failed adding VIF for iface eth1: Cannot assign the requested address",
        "MRT_ADD_VIF",
        "EADDRNOTAVAIL",
    ),
]
TAGS = {"igmpproxy": "igmpproxy", "smcroute": "smcroute", "pimd": "pimd", "frr": "pimd"}
# How a line reaches a ticket: {tag} is the program, {msg} the router's message.
WRAPPINGS = [
    "{msg}",
    "Dec  6 12:00:01 gw {tag}[812]: {msg}",
    "> Dec 06 12:00:01 gw {tag}[812]: {msg}\r",
    "2026-12-06T12:00:01.123456789Z {msg}",
    "2026-12-06T12:00:01+0100 gw {tag}[812]: {msg}",
    "Dec  6 12:00:01 gw daemon.err {tag}[812]: {msg}",  # a facility.level before the program
    "1765022401.123456 gw {tag}[812]: {msg}",  # journalctl -o short-unix
    "[   12.345678] gw {tag}[812]: {msg}",  # journalctl -o short-monotonic
    "    MESSAGE={msg}",  # journalctl -o verbose
    "\x1b[31m<27>Dec  6 12:00:01 gw {tag}[812]: {msg}\x1b[0m",
    "> > <27>1 2026-12-06T12:00:01.000Z gw {tag} 812 - - {msg}",
]


@pytest.mark.parametrize("wrapping", WRAPPINGS)
@pytest.mark.parametrize(("router", "message", "call", "errno"), MESSAGES)
def test_each_routers_line_gives_router_call_and_errno_through_any_noise(
    router: str, message: str, call: str, errno: str, wrapping: str
) -> None:
    text = wrapping.format(tag=TAGS[router], msg=message)
    log = read_log(text, "ticket.txt")
    assert log.router == router, log.why
    (failure,) = log.failures
    assert (failure.call, failure.errno_name) == (call, errno)


def test_clean_keeps_the_program_and_time_and_drops_the_noise() -> None:
    line = clean("> \x1b[1mDec  6 12:00:01 gw igmpproxy[812]: sendto to 224.0.0.1\x1b[0m\r\n")
    assert (line.text, line.tag, line.time) == (
        "sendto to 224.0.0.1",
        "igmpproxy",
        "Dec  6 12:00:01",
    )
    assert clean("2019/05/03 12:00:01 PIMD: pim_mroute.c x").tag == "PIMD"


def test_a_repeated_line_is_one_failure_with_a_count_and_one_scenario(tmp_path: Path) -> None:
    text = "\n".join(
        f"Dec  6 12:{minute:02d}:01 gw igmpproxy[812]: can't join group 224.0.0.2 on interface "
        "eth1; Errno(105): No buffer space available"
        for minute in range(0, 60, 3)
    )
    log = read_log(text, "ticket.txt")
    (failure,) = log.failures
    assert failure.count == 20 and failure.repeat_seconds() == 180
    written = reproduce_log(log, tmp_path)
    assert len(written) == 1 and len(list(tmp_path.iterdir())) == 1
    scenario = scenario_loader.load(written[0].path)
    assert scenario.router.kind == "igmpproxy"
    assert [f.kind for f in scenario.faults] == ["igmp-max-memberships"]
    (expected,) = scenario.expect.events
    assert (expected.event.id, expected.event.errno, expected.at_least) == (41028, 105, 1)


def test_retries_seconds_apart_and_an_exit_become_expectations(tmp_path: Path) -> None:
    retries = "\n".join(
        f"12:00:0{second}.000 Cannot join group 224.0.0.22 on interface 10.0.2.1 (ifindex 3): "
        "No buffer space available"
        for second in (1, 3, 5)
    )
    (retry,) = reproduce_log(read_log(retries, "a.txt", router="pimd"), tmp_path / "a")
    assert scenario_loader.load(retry.path).expect.events[0].at_least == 2
    exits = (
        "Dec  6 12:00:01 gw igmpproxy[9]: MRT_INIT failed; Errno(92): Protocol not available\n"
        "Dec  6 12:00:01 gw systemd[1]: igmpproxy.service: Main process exited, code=exited, "
        "status=255/EXCEPTION\n"
    )
    (exited,) = reproduce_log(read_log(exits, "b.txt"), tmp_path / "b")
    loaded = scenario_loader.load(exited.path)
    assert loaded.expect.router is not None and loaded.expect.router.exit == 255
    assert loaded.faults[0].kind == "step-error"
    assert "CONFIG_IP_MROUTE" in exited.path.read_text()  # the comment says which cause, and why


def test_freebsd_numbers_are_read_as_freebsd_and_told_in_linux_terms() -> None:
    pfsense = (
        "Dec  6 12:00:01 pfSense igmpproxy[812]: MRT_INIT failed; Errno(42): Protocol not available"
    )
    log = read_log(pfsense, "pf.txt")
    assert log.platform == "freebsd" and "pfSense" in log.platform_why
    (failure,) = log.failures
    assert (
        failure.errno_name == "ENOPROTOOPT" and "42 is ENOPROTOOPT on FreeBSD" in failure.errno_note
    )
    # no hint, but 48 beside "Address already in use" fits FreeBSD's numbering only
    bare = "MC-Router API already in use; Errno(48): Address already in use"
    assert detect([bare])[0] == "freebsd"
    assert read_log(bare, "x").failures[0].errno_name == "EADDRINUSE"
    # told outright: --platform freebsd reads a bare number the FreeBSD way
    frr = "pim_mroute_set: failure: setsockopt(fd=3,IPPROTO_IP,MRT_INIT=1): errno=48"
    assert read_log(frr, "x", platform="freebsd").failures[0].errno_name == "EADDRINUSE"
    assert read_log(frr, "x", platform="linux").failures[0].errno_name == "ELNRNG"
    # a bare 48 names nothing a socket call returns on Linux: read as FreeBSD's
    guessed = read_log(frr, "x")
    assert guessed.platform == "freebsd" and "ELNRNG on Linux" in guessed.platform_why
    assert guessed.failures[0].errno_name == "EADDRINUSE"
    assert to_linux(55, "freebsd")[0] == 105  # ENOBUFS


def test_lines_it_cannot_map_are_listed_with_the_reason() -> None:
    text = "\n".join(
        [
            "2019/05/03 12:00:01 PIMD: pim_mroute.c pim_mroute_add: failure: "
            "setsockopt(fd=9,IPPROTO_IP,MRT_ADD_MFC): errno=22: Invalid argument",
            "2019/05/03 12:00:02 PIMD: something else failed badly",
            "2019/05/03 12:00:03 PIMD: PIM INTERFACE UP: on interface eth0",
        ]
    )
    log = read_log(text, "frr.txt")
    assert log.router == "frr" and not log.failures
    mfc, other = log.unmapped
    assert (mfc.call, mfc.errno, mfc.line.number) == ("MRT_ADD_MFC", 22, 1)
    assert "faultlab breaks it yet" in mfc.reason
    assert other.line.number == 2 and "no pattern of frr" in other.reason
    assert log.quiet == 1  # the healthy line is counted, not dropped silently
    smcroute = read_log("smcroute[5]: failed adding IPv4 multicast route: Invalid argument", "s")
    assert smcroute.unmapped[0].call == "MRT_ADD_MFC"
    vif = read_log(
        "smcroute[5]: Failed deleting VIF for iface lo: Resource temporarily unavailable", "s"
    )
    assert (vif.unmapped[0].call, vif.unmapped[0].errno) == ("MRT_DEL_VIF", 11)
    mfc = read_log(
        "pimd[3]: Failed adding MFC entry src 192.0.2.3 grp 239.1.1.1: Invalid argument", "p"
    )
    assert (mfc.router, mfc.unmapped[0].call) == ("pimd", "MRT_ADD_MFC")


def test_igmpd_event_lines_are_read_too(tmp_path: Path) -> None:
    line = '{"id": 41028, "errno": 105, "interface": "e0", "call": "IP_ADD_MEMBERSHIP 224.0.0.22"}'
    log = read_log(line, "events.jsonl")
    assert log.router == "igmpd"
    (failure,) = log.failures
    assert (failure.call, failure.errno_name, failure.interface) == (
        "IP_ADD_MEMBERSHIP",
        "ENOBUFS",
        "e0",
    )


def test_an_unknown_router_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "reproduce", "-"],
        input="hello world\nnothing failed here\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "nor a log line of a router faultlab knows" in done.stderr
    assert not (tmp_path / "reproduced").exists()


def test_stdin_log_writes_scenarios_and_prints_the_cause(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "harness.cli", "reproduce", "-", "-o", "out"],
        input="Dec  6 12:00:01 gw smcroute[7]: IPv4 multicast routing API already in use: "
        "Address already in use\n",
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "[mrt-held: a real cause]" in done.stdout
    assert "net/ipv4/ipmr.c" in done.stdout  # the evidence of the chosen cause
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["smcroute-MRT_INIT-EADDRINUSE.yaml"]


def test_choose_reads_the_fault_table_and_lists_the_other_causes() -> None:
    joined = choose("igmpproxy", "IP_ADD_MEMBERSHIP", "ENOBUFS")
    assert joined.fault == {"kind": "igmp-max-memberships", "value": 0} and joined.real
    assert any("optmem-max" in other for other in joined.others)
    no_mrt = choose("pimd", "MRT_INIT", "ENOPROTOOPT")
    assert no_mrt.fault == {
        "kind": "step-error",
        "step": "request_multicast",
        "call": "MRT_INIT",
        "errno": "ENOPROTOOPT",
    }
    assert "CONFIG_IP_MROUTE" in no_mrt.cause and "include/linux/mroute.h" in no_mrt.evidence
    assert choose("frr", "MRT_ADD_MFC", "EINVAL").fault is None


def test_a_cause_igmpd_never_meets_is_never_chosen() -> None:
    """The Windows 41019 WSAENETUNREACH chose route-removed, which igmpd never meets."""
    assert choose_fault(Step.SEND, "ENETUNREACH")["kind"] == "link-down"
    sent = choose("igmpd", "sendto", "ENETUNREACH")
    assert sent.fault is not None and sent.fault["kind"] == "link-down"
    assert any(item.startswith("route-removed") for item in sent.not_met)
    proxy = choose("igmpproxy", "sendto", "ENETUNREACH")  # it sets IP_MULTICAST_IF too
    assert proxy.fault is not None and proxy.fault["kind"] == "address-removed"
    assert choose("smcroute", "sendto", "ENETUNREACH").fault == {
        "kind": "route-removed",
        "dst": "224.0.0.0/4",
    }
    """docs/matrix.md's "Fault-table rows left out" rows are NEVER_MEETS' igmpd rows."""
    text = (ROOT / "docs" / "matrix.md").read_text()
    section = text.split("## Fault-table rows left out", 1)[1].split("\n## ", 1)[0]
    shown = set(re.findall(r"^\| (\w+) \| `([\w-]+)`", section, re.MULTILINE))
    data = {(row.step.value, row.fault) for row in NEVER_MEETS if row.router == "igmpd"}
    assert data <= shown
    assert shown - data == {("create_socket", "no-cap-net-raw")}  # a recovery, not a cause


def test_every_real_row_of_the_fault_table_has_its_evidence() -> None:
    missing = [(r.kind, r.call) for r in rows() if r.mechanism == "real" and not r.evidence]
    assert missing == []


def test_run_all_sends_what_needs_multicast_routing_to_one_guest(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The Windows 41028 mrt-held scenario was skipped on a host without MRT; now it (and every
    other scenario that needs only what a kernel-lab guest has) runs in one guest boot."""
    from harness.reproduce import run

    needs = {Path("mrt.yaml"): ["mrt"], Path("here.yaml"): [], Path("other.yaml"): ["nft"]}
    monkeypatch.setattr(run, "missing_features", lambda path: needs[path])
    natively: list[Path] = []
    guests: list[tuple[list[Path], str]] = []

    def native(path: Path, artifacts: Path, slow: float) -> run.RunOutcome:
        natively.append(path)
        return run.RunOutcome(path, True, "passed", "natively")

    def guest(paths: list[Path], kernel: str, root: Path, slow: float) -> dict:
        guests.append((list(paths), kernel))
        return {p: run.RunOutcome(p, True, "passed", "kernel lab") for p in paths}

    monkeypatch.setattr(run, "_run_native", native)
    monkeypatch.setattr(run, "_run_guest", guest)
    monkeypatch.setattr(run, "lab_kernel", lambda: "/boot/vmlinuz-lab")
    outcomes = run.run_all(list(needs), tmp_path, echo=lambda line: None)
    assert [o.where for o in outcomes] == ["kernel lab", "natively", "natively"]
    assert guests == [([Path("mrt.yaml")], "/boot/vmlinuz-lab")]
    assert natively == [Path("here.yaml"), Path("other.yaml")]  # skipped there, with its reason
    monkeypatch.setattr(run, "lab_kernel", lambda: None)
    (alone,) = run.run_all([Path("mrt.yaml")], tmp_path, echo=lambda line: None)
    assert not alone.passed and "scripts/install-kernel-lab.sh" in alone.summary


@pytest.mark.parametrize(
    ("prefix", "tag"),
    [
        ("Fri Dec  6 11:58:19 2026 user.warn igmpproxy[6946]: ", "igmpproxy"),  # OpenWrt logread
        ("Dec  6 19:51:12 | igmpproxy | 34024 | ", "igmpproxy"),  # a web UI's log table
        # a syslog server's relay: time, facility.level, the sender's address, then the line
        (
            "2026-12-06 10:55:24\tUser.Warning\t192.0.2.1\tDec  6 10:55:24 gw igmpproxy[62]: ",
            "igmpproxy",
        ),
    ],
)
def test_more_transports_and_igmpproxys_other_join_wording(prefix: str, tag: str) -> None:
    """igmpproxy 0.2/0.4 word the join "MRT_ADD_MEMBERSHIP failed" (my_log "%s failed")."""
    line = clean(prefix + "MRT_ADD_MEMBERSHIP failed; Errno(105): No buffer space available")
    assert line.tag == tag and line.text.startswith("MRT_ADD_MEMBERSHIP failed")
    (failure,) = read_log(
        prefix + "MRT_ADD_MEMBERSHIP failed; Errno(19): No such device", "t"
    ).failures
    assert (failure.call, failure.errno_name) == ("IP_ADD_MEMBERSHIP", "ENODEV")
    (drop,) = read_log(
        prefix + "MRT_DROP_MEMBERSHIP failed; Errno(99): Address not available", "t"
    ).unmapped
    assert drop.call == "IP_DROP_MEMBERSHIP" and drop.errno == 99  # musl's text for EADDRNOTAVAIL


def test_two_routers_fighting_over_the_mrt_socket_give_a_failure_each(tmp_path: Path) -> None:
    """A line's program tag names its router, even in another router's log."""
    text = "\n".join(
        [
            "Dec  6 10:00:01 gw smcroute[1402]: Ready, waiting for client request",
            "Dec  6 10:00:05 gw igmpproxy[812]: MC-Router API already in use; Errno(98): "
            "Address already in use",
            "Dec  6 10:00:06 gw smcroute[1402]: IPv4 multicast routing API already in use: "
            "Address already in use",
        ]
    )
    log = read_log(text, "both.txt")
    assert sorted((f.router, f.call, f.errno_name) for f in log.failures) == [
        ("igmpproxy", "MRT_INIT", "EADDRINUSE"),
        ("smcroute", "MRT_INIT", "EADDRINUSE"),
    ]
    written = reproduce_log(log, tmp_path)
    kinds = {scenario_loader.load(item.path).router.kind for item in written if item.path}
    assert kinds == {"igmpproxy", "smcroute"}


def test_a_teams_own_router_is_recognised_from_its_profile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A profile on the --routers-dir path is read both ways too: its tag and its patterns name
    it, its lines become failures, and the scenario runs that router kind."""
    monkeypatch.setenv("FAULTLAB_ROUTERS_DIR", str(ROOT / "examples" / "myquerier" / "routers"))
    text = (
        "Dec  6 12:00:01 gw myquerier[812]: ERROR: cannot create socket on e0: "
        "[Errno 105] No buffer space available\n"
        "Dec  6 12:00:02 gw myquerier[812]: ERROR: cannot send query on e1: "
        "[Errno 1] Operation not permitted\n"
    )
    log = read_log(text, "ticket.txt")
    assert log.router == "myquerier", log.why
    found = {(f.call, f.errno, f.interface) for f in log.failures}
    assert found == {("socket", 105, "e0"), ("sendto", 1, "e1")}
    written = [item.path for item in reproduce_log(log, tmp_path) if item.path is not None]
    assert len(written) == 2
    assert {scenario_loader.load(path).router.kind for path in written} == {"myquerier"}


def test_without_the_profile_on_the_path_the_same_lines_name_no_router(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FAULTLAB_ROUTERS_DIR", raising=False)
    monkeypatch.chdir(ROOT / "tests")
    log = read_log("ERROR: cannot create socket on e0: [Errno 105] No buffer space\n", "t.txt")
    assert log.router is None
