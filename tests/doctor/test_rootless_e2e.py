"""Rootless mode for real: uid 65534 runs the doctor and a full scenario in its own namespaces.

The unprivileged user is made with util-linux setpriv (uid/gid 65534, no groups, no
capabilities). Everything it builds lives in the user, mount and network namespaces its process
creates, so nothing may be left on the host afterwards: the tests check /run/netns too.
"""

from __future__ import annotations

import json
import os
import random
import string
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from doctor_helpers import NOBODY, REPO, SCENARIO, needs_root, needs_tools, nobody_env
from kernel_probe import kernel_has_mrt

from harness.errors import ExitCode
from harness.features import LAB_FEATURES

pytestmark = [needs_root, needs_tools, pytest.mark.netns]

Wrap = Callable[[list[str]], list[str]]

RUN_ONE = """\
import json, sys
from pathlib import Path
from harness import rootless
mode = rootless.ensure()
import netns.lab
given = []
def known_run_id():  # a known run id, to look for the lab's names on the host afterwards
    given.append(sys.argv[3])
    return sys.argv[3]
netns.lab.new_run_id = known_run_id
from harness.runner import RunOptions, run
from harness.scenario_loader import load
verdict = run(load(sys.argv[1]), RunOptions(artifacts_dir=Path(sys.argv[2])))
print(json.dumps({"mode": mode, "uid_map": Path("/proc/self/uid_map").read_text().split(),
                  "status": verdict.status, "reason": verdict.skipped_reason,
                  "error": verdict.error, "run_ids_given": len(given)}))
"""

BLOCK_USERNS = """\
import os, sys
import pyseccomp as sc
CLONE_NEWUSER = 0x10000000
flt = sc.SyscallFilter(sc.ALLOW)
flt.add_rule(sc.ERRNO(1), "unshare", sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
flt.load()
os.execvp(sys.argv[1], sys.argv[1:])
"""


def run_child(argv: list[str], cwd: Path, checkout: Path) -> subprocess.CompletedProcess[str]:
    """``argv`` (already wrapped to run as uid 65534) importing faultlab from ``checkout``."""
    env = {**nobody_env(checkout), "HOME": str(cwd), "XDG_CACHE_HOME": str(cwd / ".cache")}
    return subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env, cwd=cwd)


def netns_on_host() -> set[str]:
    return set(os.listdir("/run/netns")) if os.path.isdir("/run/netns") else set()


def test_doctor_as_uid_65534_finds_every_lab_feature_in_its_own_namespace(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    proc = run_child(
        as_nobody([sys.executable, "-m", "harness.doctor", "--json"]),
        nobody_dir,
        reachable_checkout,
    )
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    checks = {item["name"]: item for item in json.loads(proc.stdout)}
    assert checks["privilege"]["status"] == "ok"
    assert f"uid {NOBODY}" in checks["privilege"]["detail"]
    for feature in LAB_FEATURES:
        expected = "ok" if feature != "mrt" or kernel_has_mrt() else "missing"
        assert checks[feature]["status"] == expected, checks[feature]
    assert checks["host-root"]["status"] == "degraded"  # what rootless mode costs


def test_a_full_scenario_passes_as_uid_65534_end_to_end(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    work = nobody_dir / "work"
    (work / "scenario.yaml").write_text(SCENARIO)
    (work / "run_one.py").write_text(RUN_ONE)
    run_id = "".join(random.choices(string.ascii_lowercase + string.digits, k=6))
    script = [str(work / "run_one.py"), str(work / "scenario.yaml"), str(work / "art"), run_id]
    argv = [sys.executable, *script]
    proc = run_child(as_nobody(argv), work, reachable_checkout)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["mode"] == "rootless"
    assert result["uid_map"] == ["0", str(NOBODY), "1"]  # root inside maps to nobody outside
    assert result["status"] == "passed", f"{result['status']}: {result['error']}"
    verdicts = list((work / "art").rglob("verdict.json"))
    assert len(verdicts) == 1 and verdicts[0].stat().st_uid == NOBODY
    assert json.loads(verdicts[0].read_text())["passed"] is True
    assert result["run_ids_given"] == 1  # the lab was built under the known run id
    leaked = [name for name in netns_on_host() if name.startswith(f"fl{run_id}")]
    assert not leaked  # the lab's namespaces lived and died in the private /run/netns


def test_faultlab_run_as_uid_65534_passes_and_writes_its_reports(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    work = nobody_dir / "work"
    (work / "scenario.yaml").write_text(SCENARIO)
    art = work / "art"
    argv = [sys.executable, "-m", "harness.cli", "run", str(work / "scenario.yaml"),
            "--artifacts", str(art), "--junit-xml", str(art / "junit.xml"), "--no-progress"]  # fmt: skip
    proc = run_child(as_nobody(argv), work, reachable_checkout)
    assert proc.returncode == ExitCode.OK, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout
    junit = (art / "junit.xml").read_text()
    assert 'failures="0"' in junit and 'errors="0"' in junit and 'skipped="0"' in junit
    assert "| pass |" in (art / "summary.md").read_text()


def test_without_user_namespaces_an_unprivileged_user_gets_exit_3_and_the_fix(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    blocker = nobody_dir / "block_userns.py"
    blocker.write_text(BLOCK_USERNS)
    argv = [sys.executable, "-m", "harness.doctor", "--json"]
    proc = run_child(
        [sys.executable, str(blocker), *as_nobody(argv)], nobody_dir, reachable_checkout
    )
    assert proc.returncode == ExitCode.ENVIRONMENT, proc.stdout + proc.stderr
    checks = {item["name"]: item for item in json.loads(proc.stdout)}
    assert checks["privilege"]["status"] == "missing"
    assert "EPERM" in checks["privilege"]["detail"]
    assert "sudo" in checks["privilege"]["fix"]
    assert all(checks[feature]["detail"].startswith("needs privilege") for feature in LAB_FEATURES)


def test_rootless_enter_refuses_with_the_reason_when_user_namespaces_are_blocked(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    blocker = nobody_dir / "block_userns.py"
    blocker.write_text(BLOCK_USERNS)
    code = textwrap.dedent(
        """
        from harness import rootless
        from harness.errors import EnvironmentProblem
        try:
            rootless.ensure()
        except EnvironmentProblem as exc:
            print(exc)
        """
    )
    proc = run_child(
        [sys.executable, str(blocker), *as_nobody([sys.executable, "-c", code])],
        nobody_dir,
        reachable_checkout,
    )
    assert "not root and cannot create a user namespace" in proc.stdout, proc.stderr
    assert "EPERM" in proc.stdout and "sudo" in proc.stdout


def test_the_unshare_wrapper_gives_the_same_mode(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path
) -> None:
    from harness import rootless

    code = "from harness import rootless; m = rootless.ensure(); import os; print(m, os.path.isdir('/run/netns'), os.access('/run/netns', os.W_OK))"
    argv = rootless.wrapper_argv([sys.executable, "-c", code])
    proc = run_child(as_nobody(argv), nobody_dir, reachable_checkout)
    assert proc.stdout.split() == ["rootless", "True", "True"], proc.stderr


def test_uid_65534_imports_faultlab_from_a_copy_it_can_read_wherever_the_clone_sits(
    as_nobody: Wrap, nobody_dir: Path, reachable_checkout: Path, nobody_can_import: Path
) -> None:
    """The tests above import faultlab as uid 65534 from a world-readable copy of the
    checkout's packages, so a clone in a 0700 folder (``mktemp -d``, a private home) passes."""
    code = "import harness, igmpd.__main__; print(harness.__file__)"
    proc = run_child(as_nobody([sys.executable, "-c", code]), nobody_dir, reachable_checkout)
    assert proc.returncode == 0, proc.stderr
    imported = Path(proc.stdout.strip())
    assert imported == nobody_can_import
    assert imported.is_relative_to(reachable_checkout) and not imported.is_relative_to(REPO)
