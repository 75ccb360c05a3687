"""docs/architecture.md stays true: its "Where does X go" table and its module table name files
and registries that exist, and a router's row is its profile, its test and its doc (plus the
registration line), never a list kept in a script, tox.ini or a CI file (issue 23)."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs/architecture.md").read_text()
PATH = re.compile(r"^[\w.-]+(/[\w.<>-]*)+$|^[\w.-]+\.(py|md|sh|ini|yaml|yml|json)$")
#: A registry: a table in capitals (``FAULT_KINDS``) or a registration function.
IDENT = re.compile(r"^([A-Z][A-Z_]+|_register\w*\(\))$")
TOPS = ("igmpcatalog/", "igmpd/", "netns/", "harness/")


def _section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def where_rows() -> dict[str, list[str]]:
    """What to add -> the cells of its row (touch, then)."""
    rows = {}
    for line in _section("Where does X go").splitlines():
        found = re.match(r"^\| \*\*(.+?)\*\* \|(.*)\|\s*$", line)
        if found:
            rows[found.group(1)] = [cell.strip() for cell in found.group(2).split(" | ")]
    return rows


def _ticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def _exists(path: str) -> bool:
    """A named file or folder; ``<router>``-style placeholders stand for any name."""
    if "<" in path:
        folder = ROOT / path.split("<", 1)[0]
        return folder.is_dir()
    return (ROOT / path).exists()


def test_the_table_names_every_change_the_issue_measures() -> None:
    rows = where_rows()
    for wanted in (
        "a fault kind",
        "a router",
        "an expectation",
        "an event id for an existing step",
    ):
        assert wanted in rows, f"docs/architecture.md: no row for {wanted!r}"


def test_every_file_and_folder_the_table_names_exists() -> None:
    missing = [
        f"{what}: {path}"
        for what, cells in where_rows().items()
        for path in _ticked(" ".join(cells))
        if PATH.match(path) and not _exists(path)
    ]
    assert missing == []


def test_every_registry_the_table_names_is_defined_in_a_file_of_its_row() -> None:
    """``FAULT_KINDS``, ``ADAPTERS``, ``EXTENSIONS``, ``_register_bundled()`` ...: each is defined
    (``NAME =``, ``NAME:`` or ``def name(``) in one of the Python files its row names."""
    undefined = []
    for what, cells in where_rows().items():
        ticked = _ticked(" ".join(cells))
        files = [ROOT / p for p in ticked if PATH.match(p) and p.endswith(".py") and "<" not in p]
        texts = [f.read_text() for f in files if f.is_file()]
        for name in (t for t in ticked if IDENT.match(t)):
            bare = name.removesuffix("()")
            pattern = (
                rf"^(def {bare}\(|{bare}\s*[:=])" if name.endswith("()") else rf"^{bare}\s*[:=]"
            )
            if not any(re.search(pattern, text, re.M) for text in texts):
                undefined.append(f"{what}: {name}")
    assert undefined == []


def test_a_router_is_its_profile_its_test_and_its_doc() -> None:
    touch = where_rows()["a router"][0]
    named = [p for p in _ticked(touch) if PATH.match(p)]
    profiles = [p for p in named if p.startswith("harness/routers/profiles/")]
    tests = [p for p in named if p.startswith("tests/")]
    docs = [p for p in named if p.startswith("docs/") and p != "docs/your-router.md"]
    assert len(profiles) == 1 and len(tests) == 1 and len(docs) == 1, named
    kept_lists = [p for p in named if p.startswith(("scripts/", "ci/")) or p == "tox.ini"]
    assert kept_lists == [], "a router's list in a script, tox.ini or CI: read the registry"
    # the rest is the optional hook module, nothing else: no registration line to add
    rest = set(named) - {*profiles, *tests, *docs, "docs/your-router.md"}
    assert rest <= {"harness/routers/<router>.py"}, rest


def test_every_module_of_the_module_table_exists() -> None:
    missing = []
    for line in _section("One job per module").splitlines():
        if not line.startswith("| `"):
            continue
        first = line.split(" | ", 1)[0]
        ticked = _ticked(first)
        base = ""
        for name in ticked:
            if name.startswith(TOPS):
                base = name.split("/", 1)[0]
                path = name
            else:  # beside the row's first path: `harness/report.py`, `htmlreport/`
                path = f"{base}/{name}"
            if not (ROOT / path).exists():
                missing.append(path)
    assert missing == []
