"""Issue 6.3, bad scenario input: what tests/scenario/test_scenario_bad_corpus.py leaves out.

That test proves each file of tests/data/bad-scenarios fails `faultlab validate` at its line with
exit 2. Here: the corpus covers every kind of mistake the issue lists, and `faultlab run` on it
(the command that would build labs) creates nothing at all. "Nothing" is observed from inside
the process with an audit hook (PEP 578): no process started or forked, no socket opened (a
lab needs netlink), no file or folder written, created or removed; so the proof holds even
while other runs build namespaces on the same machine.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

CORPUS = Path(__file__).parents[1] / "data" / "bad-scenarios"

#: Each kind of mistake the issue names, and a pattern its message must show in the corpus.
KINDS = {
    "YAML syntax error": r": YAML syntax: ",
    "wrong type": r": expected (an integer|a list)",
    "unknown key with a did-you-mean": r": unknown key '\w+' in .*; did you mean '\w+'\?",
    "unknown node": r": unknown node '\w+'",
    "unknown interface": r": node '\w+' has no interface '\w+'",
    "overlapping addresses": r": .* overlaps .* on \w+:\w+|is already on \w+:\w+",
    "unknown fault kind with a did-you-mean": r"\.kind: '[\w-]+' is not a fault kind; did you mean",
    "unknown errno name with a did-you-mean": r"\.errno: '\w+' is unknown; did you mean '\w+'",
    "impossible deadline": r"(deadline|window) .* is longer than the scenario's timeout|"
    r"a deadline must be more than 0",
    "fault that would touch the host": r"would change the host|never touches the host",
}

AUDITED_RUN = """\
import os, sys
WATCHED = {"subprocess.Popen", "os.fork", "os.forkpty", "os.posix_spawn", "os.system",
           "os.exec", "os.mkdir", "os.rename", "os.remove", "os.rmdir", "os.symlink", "os.link",
           "os.truncate", "shutil.rmtree", "shutil.move", "socket.__new__"}
WRITING = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
seen = []
done = False

def hook(event, args):
    if done:
        return
    if event in WATCHED:
        seen.append(f"{event} {args!r:.200}")
    elif event == "open":
        path, mode, flags = args
        if (mode and any(c in mode for c in "wax+")) or (flags or 0) & WRITING:
            seen.append(f"open for writing {path!r}")

sys.addaudithook(hook)
from harness.cli import main
code = main(sys.argv[1:])
done = True
print("AUDIT " + __import__("json").dumps(seen))
sys.exit(code)
"""


def _validate_all() -> str:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "validate", str(CORPUS)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    return result.stderr


def test_the_corpus_covers_every_kind_of_mistake() -> None:
    files = sorted(CORPUS.glob("*.yaml"))
    assert len(files) >= 30
    messages = _validate_all()
    missing = [kind for kind, pattern in KINDS.items() if not re.search(pattern, messages)]
    assert missing == [], f"no bad scenario for: {missing}\n{messages}"
    assert "Traceback" not in messages
    reported = {line.split(":", 1)[0] for line in messages.splitlines()}
    assert {Path(name).name for name in reported} == {path.name for path in files}


@pytest.mark.parametrize("how", ["every file", "the folder"])
def test_faultlab_run_on_bad_input_creates_nothing(tmp_path: Path, how: str) -> None:
    files = sorted(CORPUS.glob("*.yaml"))
    paths = [str(path) for path in files] if how == "every file" else [str(CORPUS)]
    script = tmp_path / "audited_run.py"
    script.write_text(AUDITED_RUN)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    result = subprocess.run(
        [sys.executable, str(script), "run", *paths, "--no-progress"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=workdir,
        env={"PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(workdir)},
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert all(re.match(r"\S+\.yaml:\d+:\d+: \S", line) for line in lines), lines
    assert {Path(line.split(":", 1)[0]).name for line in lines} == {p.name for p in files}
    audit = [line for line in result.stdout.splitlines() if line.startswith("AUDIT ")]
    assert len(audit) == 1, result.stdout
    assert json.loads(audit[0].removeprefix("AUDIT ")) == []  # nothing started, opened, written
    assert list(workdir.iterdir()) == []  # no artifacts folder, no temporary file


def test_the_audit_hook_sees_a_run_that_builds(tmp_path: Path) -> None:
    """The audit is not blind: the netlink socket a lab would open is recorded."""
    script = tmp_path / "audited.py"
    script.write_text(
        AUDITED_RUN.replace(
            "from harness.cli import main\ncode = main(sys.argv[1:])",
            "import socket\nsocket.socket(socket.AF_NETLINK, socket.SOCK_RAW, 0).close()\ncode = 0",
        )
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=60
    )
    audit = json.loads(result.stdout.splitlines()[-1].removeprefix("AUDIT "))
    assert any(item.startswith("socket.__new__") for item in audit), audit
