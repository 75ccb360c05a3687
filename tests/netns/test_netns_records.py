"""Run records and the undo stack: the bookkeeping that makes teardown and sweeping safe."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netns import registry
from netns.registry import RunRecord
from netns.undo import UndoStack


def test_claim_is_exclusive_and_records_round_trip(tmp_path: Path) -> None:
    record = RunRecord.for_this_process("abc123", ["flabc123-r1"], None)
    assert registry.claim(record, tmp_path)
    assert not registry.claim(RunRecord.for_this_process("abc123", [], None), tmp_path)
    assert registry.load("abc123", tmp_path) == record
    assert registry.run_ids(tmp_path) == ["abc123"]
    registry.delete("abc123", tmp_path)
    assert registry.load("abc123", tmp_path) is None
    assert list(tmp_path.iterdir()) == []


def test_owner_identity_includes_the_start_time() -> None:
    record = RunRecord.for_this_process("abc123", [], None)
    assert record.owner_alive()
    assert not RunRecord("abc123", os.getpid(), record.owner_start_time + 1).owner_alive()


def test_a_dead_owner_is_dead() -> None:
    child = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    assert registry.process_start_time(int(child.stdout)) is None


def test_a_corrupt_record_reads_as_missing(tmp_path: Path) -> None:
    (tmp_path / "abc123.json").write_text("{not json")
    assert registry.load("abc123", tmp_path) is None


def test_undo_runs_every_step_and_raises_all_failures() -> None:
    ran: list[str] = []
    stack = UndoStack("lab x")

    def fail(what: str) -> None:
        ran.append(what)
        raise OSError(f"{what} refused")

    stack.push("first", lambda: ran.append("first"))
    stack.push("second", lambda: fail("second"))
    stack.push("third", lambda: fail("third"))
    with pytest.raises(ExceptionGroup) as info:
        stack.unwind()
    assert ran == ["third", "second", "first"]
    assert [str(e) for e in info.value.exceptions] == ["third refused", "second refused"]
    assert info.value.exceptions[0].__notes__ == ["while undoing: third"]
    assert len(stack) == 0
    stack.unwind()  # nothing left: a second unwind is a no-op


def test_a_ctrl_c_in_one_undo_step_does_not_skip_the_next() -> None:
    ran: list[str] = []
    stack = UndoStack("lab x", note="while tearing down", message="teardown failed")

    def interrupt() -> None:
        raise KeyboardInterrupt

    stack.push("first", lambda: ran.append("first"))
    stack.push("second", interrupt)
    with pytest.raises(BaseExceptionGroup) as info:
        stack.unwind()
    assert ran == ["first"]
    assert info.value.message == "teardown failed"
    assert isinstance(info.value.exceptions[0], KeyboardInterrupt)
    assert info.value.exceptions[0].__notes__ == ["while tearing down: second"]
