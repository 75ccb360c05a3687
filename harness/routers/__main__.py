"""``python -m harness.routers --list``: the registered router kinds and what each needs.

One line per kind, tab-separated: kind, Debian package (``-`` for none), how the install script
gets it (``apt``, ``unpack`` or ``-``), the programs it needs (comma-separated, ``-`` for none).
For shell scripts and CI files that must not keep a list of routers of their own.

``--kinds``: the kinds ``faultlab compare`` runs by default, comma-separated (tox's compare env).
``--missing``: the ``--list`` lines of the routers with a package whose programs this machine
lacks, found as the doctor finds them (scripts/install-routers.sh installs those).
``--programs``: every program of every router, one per line (the daemons the script watches).
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


def missing_lines() -> list[str]:
    """The ``--list`` lines of the packaged routers whose programs are not all found here."""
    return [
        line
        for line, adapter in zip(lines(), ADAPTERS.values(), strict=True)
        if adapter.package and not adapter.program_paths()
    ]


def programs() -> list[str]:
    """Every router's programs, once each, in registration order."""
    return list(dict.fromkeys(name for adapter in ADAPTERS.values() for name in adapter.programs))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m harness.routers", description=__doc__)
    parser.add_argument("--list", action="store_true", help="print the router kinds")
    parser.add_argument(
        "--kinds", action="store_true", help="print only the kinds compare runs, comma-separated"
    )
    parser.add_argument(
        "--missing", action="store_true", help="print the --list lines of routers to install"
    )
    parser.add_argument("--programs", action="store_true", help="print every router program")
    args = parser.parse_args(argv)
    if args.missing:
        for line in missing_lines():
            print(line)
        return 0
    if args.programs:
        print("\n".join(programs()))
        return 0
    if args.kinds:
        from harness.routers import comparable_kinds

        print(",".join(comparable_kinds()))
        return 0
    print("\n".join(lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
