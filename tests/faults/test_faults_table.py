"""Every row of the fault table, proven on this kernel with the probe in a real namespace."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import features
from harness.faults import make_fault
from harness.faults.table import ROWS, FaultRow, render_markdown


def _id(row: FaultRow) -> str:
    scope = f"-on-{row.params['interface']}" if "interface" in row.params else ""
    return f"{row.kind}{scope}-{row.step.value}-{row.call.split()[0]}"


def _params() -> list[object]:
    """Each row; rows whose fault needs multicast routing carry the ``mrt`` marker."""
    return [
        pytest.param(
            row,
            id=_id(row),
            marks=[pytest.mark.mrt] if "mrt" in make_fault(row.fault_spec()).features() else [],
        )
        for row in ROWS
    ]


@pytest.mark.parametrize("row", _params())
def test_row_yields_its_errno_at_its_step_and_clear_restores_it(row, start_probe, fault_ctx):
    fault = make_fault(row.fault_spec())
    missing = fault.requires()
    if missing:
        pytest.skip(f"{row.kind} needs: {'; '.join(missing)}")
    absent = features.missing(fault.features())  # e.g. mrt where the kernel has no MRT
    if absent:
        pytest.skip(f"{row.kind}: {absent}")
    probe = start_probe(fault)
    for command in row.setup:
        assert probe.errno(command) is None, f"setup {command!r} failed before the fault"
    ctx = fault_ctx(probe)
    fault.apply(ctx)
    report = probe.run(row.check)
    assert report["step"] == row.step.value
    assert report["call"] in row.call, f"{report['call']} is not the call the table lists"
    assert report["errno_name"] == row.errno, f"{row.kind}: {report}"
    if not row.recoverable:
        return
    fault.clear(ctx)
    for command in (*row.setup, row.check):
        assert probe.errno(command) is None, f"{command!r} still fails after clear"


def test_docs_faults_md_is_generated_from_the_table():
    docs = Path(__file__).resolve().parents[2] / "docs" / "faults.md"
    assert docs.read_text() == render_markdown(), "run: python -m harness.faults.table"


def test_every_catalog_socket_step_has_a_row():
    from harness.catalog import Step

    assert {row.step for row in ROWS} == set(Step)
