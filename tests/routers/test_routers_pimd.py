"""pimd in a namespace (private /run): a host's IGMPv3 join is learned; no CAP_NET_RAW ends it."""

from __future__ import annotations

from pathlib import Path

import pytest
from routers_helpers import explain, run_scenario, skip_unless_installed

pytestmark = pytest.mark.netns


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_pimd_learns_a_join_with_its_pid_file_in_the_workdir(tmp_path: Path) -> None:
    skip_unless_installed("pimd")
    verdict = run_scenario(
        tmp_path,
        "pimd",
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
    folder = next((tmp_path / "artifacts").iterdir())
    # pimd creates /var/run/pimd/ at start (and removes its pid file at exit): seen here, the
    # bind mount worked and nothing was written to the host's /run.
    assert (folder / "run" / "pimd").is_dir(), "pimd's /run must be the workdir's run/ folder"


@pytest.mark.mrt  # every router but igmpd does MRT_INIT
def test_pimd_exits_255_with_eperm_without_cap_net_raw(tmp_path: Path) -> None:
    skip_unless_installed("pimd")
    verdict = run_scenario(
        tmp_path,
        "pimd",
        """
        faults:
          - {kind: no-cap-net-raw, when: before-start}
        expect:
          events:
            - {id: 41024, errno: EPERM, within: 3s}
          router: {exit: 255, within: 3s}
        """,
    )
    assert verdict.passed, explain(verdict)
