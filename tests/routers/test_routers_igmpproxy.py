"""igmpproxy in a namespace: a downstream host's join is learned; a held MRT socket ends it.

igmpproxy learns a group from the host's unsolicited report, so the baseline does not wait for
its startup queries (6-13 s apart).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from routers_helpers import explain, run_scenario, skip_unless_installed

pytestmark = pytest.mark.netns


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_igmpproxy_learns_a_downstream_join(tmp_path: Path) -> None:
    skip_unless_installed("igmpproxy")
    verdict = run_scenario(
        tmp_path,
        "igmpproxy",
        """
        traffic:
          - {node: h2, join: 239.1.1.1, ifname: e0, at: 0.2s}
        expect:
          state:
            groups: {e1: [239.1.1.1]}
            within: 3s
          router: {running: true}
        """,
    )
    assert verdict.passed, explain(verdict)


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_igmpproxy_exits_255_with_errno_98_when_mrt_is_held(tmp_path: Path) -> None:
    skip_unless_installed("igmpproxy")
    verdict = run_scenario(
        tmp_path,
        "igmpproxy",
        """
        faults:
          - {kind: mrt-held, when: before-start}
        expect:
          events:
            - {id: 41028, errno: EADDRINUSE, within: 3s}
          router: {exit: 255, within: 3s}
        """,
    )
    assert verdict.passed, explain(verdict)
