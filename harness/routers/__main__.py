"""``python -m harness.routers --list``: the registered router kinds and what each needs.

One line per kind, tab-separated: kind, Debian package (``-`` for none), how the install script
gets it (``apt``, ``unpack`` or ``-``), the programs it needs (comma-separated, ``-`` for none).
For shell scripts and CI files that must not keep a list of routers of their own.
"""

from __future__ import annotations

import argparse

from harness.routers import ADAPTERS


def lines() -> list[str]:
    """The ``--list`` lines, in registration order."""
    rows = []
    for kind, adapter in ADAPTERS.items():
        install = ("unpack" if adapter.unpacked else "apt") if adapter.package else "-"
        programs = ",".join(adapter.programs) or "-"
        rows.append("\t".join((kind, adapter.package or "-", install, programs)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.routers", description=__doc__)
    parser.add_argument("--list", action="store_true", help="print the router kinds")
    parser.add_argument(
        "--kinds", action="store_true", help="print only the kinds compare runs, comma-separated"
    )
    args = parser.parse_args(argv)
    if args.kinds:
        from harness.routers import comparable_kinds

        print(",".join(comparable_kinds()))
        return 0
    print("\n".join(lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
