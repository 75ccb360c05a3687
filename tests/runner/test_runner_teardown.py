"""The runner's teardown: netns's undo stack, so every step runs on every exit path.

No namespaces: ``_build`` is replaced by one that only pushes teardown steps, as the real one does.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from harness import runner
from harness.scenario_loader import load
from tests.scenario_samples import MRT_HELD

Step = tuple[str, Callable[[], None]]


@pytest.fixture
def scenario(tmp_path: Path):  # noqa: ANN201
    path = tmp_path / "mrt-held.yaml"
    path.write_text(MRT_HELD)
    return load(path)


@pytest.fixture
def options(tmp_path: Path) -> runner.RunOptions:
    return runner.RunOptions(artifacts_dir=tmp_path / "artifacts")


def build_with(monkeypatch: pytest.MonkeyPatch, steps: list[Step]) -> None:
    """Make the session build nothing but push ``steps`` (first pushed, last undone)."""

    def build(live: runner.Session) -> None:
        for what, step in steps:
            live.stack.push(what, step)

    monkeypatch.setattr(runner, "_build", build)
    monkeypatch.setattr(runner, "_missing", lambda *_: ([], ()))


def interrupt() -> None:
    raise KeyboardInterrupt


def refuse() -> None:
    raise OSError("link refused deletion")


def test_a_ctrl_c_in_one_step_does_not_skip_the_others(monkeypatch, scenario, options) -> None:
    ran: list[str] = []
    build_with(
        monkeypatch,
        [
            ("tear down the lab", lambda: ran.append("lab")),
            ("stop following events", interrupt),
            ("stop the router", lambda: ran.append("router")),
        ],
    )
    with pytest.raises(KeyboardInterrupt) as info, runner.session(scenario, options):
        pass
    assert ran == ["router", "lab"]  # the lab was torn down after the Ctrl-C
    group = info.value.__cause__
    assert isinstance(group, BaseExceptionGroup) and group.message == "teardown failed"
    assert group.exceptions[0].__notes__ == ["while tearing down: stop following events"]


def test_every_failure_surfaces_together_with_the_same_words(
    monkeypatch, scenario, options
) -> None:
    ran: list[str] = []
    build_with(
        monkeypatch,
        [
            ("tear down the lab", lambda: ran.append("lab")),
            ("stop capture h1:e0", refuse),
            ("stop the router", refuse),
        ],
    )
    with pytest.raises(ExceptionGroup) as info, runner.session(scenario, options):
        pass
    assert ran == ["lab"]
    assert runner._describe_group(info.value) == (
        "teardown failed: OSError: link refused deletion (while tearing down: stop the router)"
        " | OSError: link refused deletion (while tearing down: stop capture h1:e0)"
    )


def test_an_interrupt_inside_the_labs_own_group_still_reads_as_an_interrupt(
    monkeypatch, scenario, options
) -> None:
    def lab_teardown() -> None:
        raise BaseExceptionGroup("teardown of lab fl1: 1 step(s) failed", [KeyboardInterrupt()])

    ran: list[str] = []
    build_with(
        monkeypatch,
        [("close fault mrt-held", lambda: ran.append("fault")), ("lab", lab_teardown)],
    )
    with pytest.raises(KeyboardInterrupt), runner.session(scenario, options):
        pass
    assert ran == ["fault"]
