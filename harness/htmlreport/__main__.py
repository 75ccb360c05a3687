"""``python -m harness.htmlreport ARTIFACTS [-o FILE]``: the report of an earlier run, again.

Reads the run's ``results.json`` and each scenario's folder; useful after changing the report,
or for a run whose report was not written (an interrupted CI job).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.htmlreport import REPORT_NAME, timed_write


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.htmlreport", description=__doc__)
    parser.add_argument("artifacts", type=Path, help="a run's artifacts folder (has results.json)")
    parser.add_argument("-o", "--out", type=Path, help=f"default ARTIFACTS/{REPORT_NAME}")
    args = parser.parse_args(argv)
    if not (args.artifacts / "results.json").is_file():
        print(
            f"{args.artifacts}: no results.json (not a faultlab run's artifacts)", file=sys.stderr
        )
        return 2
    path, seconds = timed_write(args.out or args.artifacts / REPORT_NAME, None)
    print(f"report: {path} ({path.stat().st_size / 1024:.0f} KiB, {seconds:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
