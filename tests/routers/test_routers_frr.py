"""FRR (zebra + pimd, private PID and mount namespace): a join is learned; MRT_INIT held.

Under a held MRT socket FRR's pimd reports errno=98 and keeps running (and querying), but
never learns a group: its behaviour, not its log, shows the damage.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from routers_helpers import explain, run_scenario, skip_unless_installed

pytestmark = pytest.mark.netns


# Not marked mrt: in the kernel lab's emulated guest its status command gives no state report
# (seen twice with FAULTLAB_SLOW=20); it runs natively wherever the kernel has MRT.
def test_frr_learns_a_join_on_each_interface(tmp_path: Path) -> None:
    skip_unless_installed("frr")
    verdict = run_scenario(
        tmp_path,
        "frr",
        """
        traffic:
          - {node: h2, join: 239.1.1.1, ifname: e0, at: 0.5s}
          - {node: h1, join: 239.2.2.2, ifname: e0, at: 0.5s}
        expect:
          state:
            interfaces: {e0: active, e1: active}
            groups: {e0: [239.2.2.2], e1: [239.1.1.1]}
            within: 4s
          router: {running: true}
        """,
    )
    assert verdict.passed, explain(verdict)


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_frr_reports_errno_98_and_keeps_running_when_mrt_is_held(tmp_path: Path) -> None:
    skip_unless_installed("frr")
    verdict = run_scenario(
        tmp_path,
        "frr",
        """
        faults:
          - {kind: mrt-held, when: before-start}
        expect:
          events:
            - {id: 41028, errno: EADDRINUSE, within: 4s}
          router: {running: true}
        """,
    )
    assert verdict.passed, explain(verdict)
