"""`reproduce LOGFILE` then a real run: each router's own line, reproduced by that router.

Needs the bundled routers (scripts/install-routers.sh) and multicast routing: on a host without
it these are skipped with the reason, and `tox -e kernels` (or `faultlab reproduce --run`, which
goes to the kernel lab by itself) runs them where it exists.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.reproduce.fieldlog import read_log
from harness.reproduce.logwrite import reproduce_log
from harness.reproduce.run import run_reproduction
from harness.runner import slow_factor
from tests.routers.routers_helpers import skip_unless_installed

pytestmark = [pytest.mark.netns, pytest.mark.mrt, pytest.mark.slow]

# One line per router in its own format (the format strings of its source), as a ticket quotes it.
LINES = {
    "igmpproxy": "> Dec  6 12:00:01 gw igmpproxy[812]: MC-Router API already in use; Errno(98): "
    "Address already in use",
    "smcroute": "Dec 06 12:00:01 gw smcrouted[402]: IPv4 multicast routing API already in use: "
    "Address already in use",
    "pimd": "12:00:01.301 Cannot enable multicast routing in kernel: Protocol not available",
    "frr": "2026/12/06 12:00:01 PIM: [X7TC8-XJ95M] pim_mroute.c pim_mroute_set: failure: "
    "setsockopt(fd=14,PIM_IPPROTO,MRT_INIT=1): errno=98: Address already in use",
}


@pytest.mark.parametrize("router", sorted(LINES))
def test_a_routers_field_line_is_reproduced_by_that_router(router: str, tmp_path: Path) -> None:
    skip_unless_installed(router)
    log = read_log(LINES[router], "ticket.txt")
    assert log.router == router
    (written,) = reproduce_log(log, tmp_path / "out")
    assert written.path is not None
    reproduced, summary = run_reproduction(written.path, tmp_path / "artifacts", slow_factor())
    if summary.startswith("skipped"):
        pytest.skip(summary)
    assert reproduced, summary
