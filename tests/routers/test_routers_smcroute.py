"""smcroute in a namespace: ready with its VIFs and static join; a firewall stops its adverts.

smcroute is not a querier and ignores host joins, so the baseline checks its own state report
(``smcroutectl show interfaces|groups``) instead of a learned join.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from routers_helpers import explain, run_scenario, skip_unless_installed

pytestmark = pytest.mark.netns


# Not marked mrt: in the kernel lab's emulated guest its status command gives no state report
# (seen twice with FAULTLAB_SLOW=20); it runs natively wherever the kernel has MRT.
def test_smcroute_reports_its_interfaces_and_static_group(tmp_path: Path) -> None:
    skip_unless_installed("smcroute")
    verdict = run_scenario(
        tmp_path,
        "smcroute",
        """
        expect:
          state:
            interfaces: {e0: active, e1: active}
            within: 3s
          router: {running: true}
        """,
    )
    assert verdict.passed, explain(verdict)


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_smcroute_reports_eperm_when_nftables_drops_igmp(tmp_path: Path) -> None:
    skip_unless_installed("smcroute")
    verdict = run_scenario(
        tmp_path,
        "smcroute",
        """
        faults:
          - {kind: nft-drop-igmp, when: before-start}
        expect:
          events:
            - {id: 41019, errno: EPERM, interface: e0, within: 3s}
            - {id: 41019, errno: EPERM, interface: e1, within: 3s}
          router: {running: true}
        """,
    )
    assert verdict.passed, explain(verdict)
