"""faultlab doctor on this machine, for real: all present as root, and each removal reported.

The capability tests run ``python -m harness.doctor`` as a child whose capabilities were
dropped (util-linux setpriv, libcap capsh) and check the line and the exit code it gives.
"""

from __future__ import annotations

import errno
import json
import os
import shlex
import shutil
import subprocess
import sys

import pytest
from doctor_helpers import child_env, needs_root, needs_tools
from kernel_probe import kernel_has_mrt

from harness import features
from harness.errors import ExitCode
from harness.features import ESSENTIAL, LAB_FEATURES, Feature, Status

pytestmark = [needs_root, pytest.mark.netns]


def run_doctor(prefix: list[str]) -> subprocess.CompletedProcess[str]:
    """``python -m harness.doctor --json`` behind ``prefix`` (a capability-dropping wrapper)."""
    argv = [*prefix, sys.executable, "-m", "harness.doctor", "--json"]
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env())


def by_name(stdout: str) -> dict[str, dict[str, str]]:
    return {item["name"]: item for item in json.loads(stdout)}


def leftover_doctor_namespaces() -> list[str]:
    names = os.listdir("/run/netns") if os.path.isdir("/run/netns") else []
    return [name for name in names if name.endswith("-doctor")]


def test_every_feature_is_present_here_as_root(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness import probes

    named: list[str] = []

    def recorded() -> str:
        named.append(real())
        return named[-1]

    real = probes.doctor_netns_name
    monkeypatch.setattr(probes, "doctor_netns_name", recorded)
    results = features.run_checks()
    status = {check.name: check.status for check in results}
    for feature in (Feature.PRIVILEGE, Feature.HOST_ROOT, *LAB_FEATURES):
        expected = Status.OK if feature != Feature.MRT or kernel_has_mrt() else Status.MISSING
        assert status[feature] is expected, [c.line() for c in results if c.name == feature]
    assert features.exit_code(results) is ExitCode.OK
    # its own throwaway namespace is gone (other runs' doctors may probe at the same time)
    assert named and not set(named) & set(leftover_doctor_namespaces())


def test_router_checks_agree_with_the_filesystem() -> None:
    from harness.routers import ADAPTERS

    for check in features.run_checks():
        if check.name.startswith("router:"):
            adapter = ADAPTERS[check.name.removeprefix("router:")]
            present = all(
                shutil.which(p, path=os.pathsep.join([*adapter.program_dirs, "/usr/sbin"]))
                or shutil.which(p)
                for p in adapter.programs
            )
            assert (check.status is Status.OK) == bool(present), check.line()


def test_cli_prints_one_line_per_check_and_exits_0() -> None:
    argv = [sys.executable, "-m", "harness.doctor"]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env())
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    lines = [line for line in proc.stdout.splitlines() if not line.startswith(" ")]
    expected = features.known_features()
    names = [line.split()[1] for line in lines[: len(expected)]]
    assert sorted(names) == sorted(expected)
    assert all(line.split()[0] in {"ok", "missing", "degraded"} for line in lines[: len(expected)])
    assert "faultlab can run" in lines[len(expected)]


@needs_tools
def test_without_cap_net_raw_raw_socket_is_missing_and_exit_is_3() -> None:
    proc = run_doctor(["setpriv", "--inh-caps=-net_raw", "--bounding-set=-net_raw"])
    assert proc.returncode == ExitCode.ENVIRONMENT, proc.stdout + proc.stderr
    checks = by_name(proc.stdout)
    assert checks["raw-socket"]["status"] == "missing"
    assert errno.errorcode[errno.EPERM] in checks["raw-socket"]["detail"]
    assert "CAP_NET_RAW" in checks["raw-socket"]["fix"]
    assert checks["netns"]["status"] == "ok"  # only what was removed is reported


@pytest.mark.skipif(shutil.which("capsh") is None, reason="needs libcap's capsh")
def test_without_cap_net_admin_veth_and_nftables_are_missing_and_exit_is_3() -> None:
    command = shlex.join([sys.executable, "-m", "harness.doctor", "--json"])
    argv = ["capsh", "--drop=cap_net_admin", "--", "-c", command]  # capsh runs bash -c
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=child_env())
    assert proc.returncode == ExitCode.ENVIRONMENT, proc.stdout + proc.stderr
    checks = by_name(proc.stdout)
    assert checks["veth"]["status"] == "missing"
    assert "CAP_NET_ADMIN" in checks["veth"]["fix"]
    assert checks["nftables"]["status"] == "missing"
    assert checks["raw-socket"]["status"] == "ok"


def test_essential_features_are_the_ones_without_which_nothing_runs() -> None:
    assert {Feature.PRIVILEGE, Feature.NETNS, Feature.VETH, Feature.RAW_SOCKET} == ESSENTIAL


def test_a_probe_child_killed_at_its_deadline_leaves_no_namespace() -> None:
    before = set(leftover_doctor_namespaces())
    results = features.run_lab_probes(enter_userns=False, deadline=0.0)
    assert [c.name for c in results] == list(LAB_FEATURES)
    assert all(c.status is Status.MISSING for c in results)
    assert "probe" in results[0].detail
    assert set(leftover_doctor_namespaces()) <= before


def test_sysctl_keys_are_probed_in_a_namespace_of_their_own() -> None:
    assert features.sysctl_check("net.ipv4.igmp_max_memberships").status is Status.OK
    absent = features.sysctl_check("net.core.no_such_key")
    assert absent.status is Status.MISSING
    assert "cannot be written inside a network namespace" in absent.detail
