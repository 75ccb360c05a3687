"""Registries own their facts: router kinds and fault kinds are listed once, in their classes.

The schema, the doctor, ``faultlab compare``, ``faultlab reproduce`` and the fault table's docs
read harness.routers.ADAPTERS and harness.faults.FAULT_KINDS; the install script, tox.ini and the
CI file must agree with them. No kernel, no root: pure checks.
"""

from __future__ import annotations

import configparser
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from harness import features, schema
from harness.catalog import Step
from harness.cli import build_parser
from harness.compare import window_for
from harness.faults import FAULT_KINDS, Fault, make_fault
from harness.faults import table as fault_table
from harness.faults.table import FaultRow, kinds_without_rows, render_markdown
from harness.routers import ADAPTERS, CommandAdapter, comparable_kinds, installable
from harness.routers import register as register_router
from harness.routers import unregister as unregister_router
from harness.routers.__main__ import lines as router_lines
from harness.routers.__main__ import missing_lines
from harness.routers.__main__ import programs as router_programs
from harness.routers.base import ScenarioKey
from harness.yamlsource import parse

ROOT = Path(__file__).resolve().parents[2]


# -- a made-up router and a made-up fault kind, registered for one test -------------------------


class ToyRouterAdapter(CommandAdapter):
    """A ``command``-style adapter for a router that does not exist: ``toyrouterd``."""

    name: ClassVar[str] = "toyrouter"
    programs: ClassVar[tuple[str, ...]] = ("toyrouterd",)
    program_dirs: ClassVar[tuple[str, ...]] = ("/nonexistent/toyrouter/sbin",)
    package: ClassVar[str] = "toyrouter"
    compare_window: ClassVar[float] = 6.5
    querier: ClassVar[bool] = False
    comparable: ClassVar[bool] = True


class KnobRouterAdapter(CommandAdapter):
    """A router kind with a ``router:`` key of its own (``knob``, needed), besides command's."""

    name: ClassVar[str] = "knobrouter"
    own_keys: ClassVar[Mapping[str, ScenarioKey]] = {
        **CommandAdapter.own_keys,
        "knob": ScenarioKey({"type": "integer", "minimum": 1}, needed="N (at least 1)"),
    }


class ToyFault(Fault):
    """Make up a cause: nothing happens (a test's own kind)."""

    kind: ClassVar[str] = "toy-fault"
    steps: ClassVar[tuple[Step, ...]] = (Step.BIND,)
    mechanism: ClassVar[str] = "exact"
    summary: ClassVar[str] = "a made-up cause"
    params: ClassVar[dict[str, dict[str, Any]]] = {"strength": {"type": "integer", "minimum": 1}}
    required: ClassVar[tuple[str, ...]] = ("strength",)
    not_before_start: ClassVar[str] = "it is made up"

    def __init__(self, strength: int) -> None:
        self.strength = strength


TOY_ROW = FaultRow(
    "toy-fault",
    {"strength": 3},
    Step.BIND,
    "a made-up cause of a made-up router",
    "bind",
    "EADDRNOTAVAIL",
    True,
    "bind e0",
)

TOY_SCENARIO = """\
name: a made-up router under a made-up fault
topology:
  nodes: [r1, h1]
  links:
    - {a: "r1:e0 10.0.1.1/24", b: "h1:e0 10.0.1.2/24"}
router: {kind: toyrouter, node: r1, interfaces: [e0], argv: [toyrouterd]}
faults:
  - {kind: toy-fault, node: r1, strength: 3}
expect:
  events:
    - {id: 41025}
"""


@pytest.fixture
def made_up() -> Iterator[None]:
    """The toy adapter and the toy fault kind (with its table row), unregistered afterwards."""
    register_router(ToyRouterAdapter)
    FAULT_KINDS[ToyFault.kind] = ToyFault
    fault_table.add_rows(TOY_ROW)
    try:
        yield
    finally:
        fault_table.remove_rows(TOY_ROW)
        del FAULT_KINDS[ToyFault.kind]
        unregister_router(ToyRouterAdapter.name)


def test_a_new_router_and_fault_kind_need_no_edit_of_schema_doctor_compare_or_docs(
    made_up: None, tmp_path: Path
) -> None:
    # the schema: both kinds offered, the fault's parameters checked, a scenario using them valid
    built = schema.build_schema()
    assert "toyrouter" in built["properties"]["router"]["properties"]["kind"]["enum"]
    fault = built["properties"]["faults"]["items"]
    assert "toy-fault" in fault["properties"]["kind"]["enum"]
    file = tmp_path / "toy.yaml"
    file.write_text(TOY_SCENARIO)
    assert schema.validate(parse(file)) == []
    bad = parse(file, TOY_SCENARIO.replace("strength: 3", "strenght: 3"))
    assert any("did you mean 'strength'" in message for _, message in schema.validate(bad))
    assert make_fault({"kind": "toy-fault", "strength": 2}).describe().startswith("toy-fault")

    # the doctor: a router:<kind> check looking for its program where the adapter says
    assert "router:toyrouter" in features.known_features()
    check = features.router_check("toyrouter")
    assert check.status is features.Status.MISSING
    assert "toyrouterd not found" in check.detail
    assert features.missing(["router:toyrouter"]).startswith("router:toyrouter missing")

    # compare: in the default router list, with its own window, judged as a non-querier
    assert "toyrouter" in comparable_kinds()
    assert window_for("toyrouter") == 6.5
    args = build_parser().parse_args(["compare"])
    assert "toyrouter" in args.routers.split(",")
    assert "toyrouter\ttoyrouter\tapt\ttoyrouterd" in router_lines()

    # the docs generator: the row, with the mechanism its class gives
    assert (
        "| bind | `toy-fault` (strength: 3) | a made-up cause of a made-up router | bind | "
        "EADDRNOTAVAIL | 41025 IGMPLOG_BIND_FAILED | exact | yes |"
    ) in render_markdown()
    assert kinds_without_rows() == []


def test_the_registration_was_undone() -> None:
    assert "toyrouter" not in ADAPTERS and "toy-fault" not in FAULT_KINDS
    assert (
        "toyrouter"
        not in schema.build_schema()["properties"]["router"]["properties"]["kind"]["enum"]
    )
    assert "toy-fault" not in render_markdown()


# -- the fault table has a row for every fault kind ---------------------------------------------


def test_every_fault_kind_has_a_row_in_the_fault_table() -> None:
    assert kinds_without_rows() == [], "add its row to harness/faults/table.py"


def test_a_fault_kind_without_a_row_is_caught() -> None:
    FAULT_KINDS[ToyFault.kind] = ToyFault
    try:
        assert kinds_without_rows() == ["toy-fault"]
    finally:
        del FAULT_KINDS[ToyFault.kind]


def test_every_row_names_a_registered_kind_with_its_mechanism() -> None:
    for row in fault_table.rows():
        assert row.kind in FAULT_KINDS, row
        assert row.mechanism == FAULT_KINDS[row.kind].mechanism


def test_reproduce_knows_which_faults_cannot_apply_before_start_from_the_classes() -> None:
    late = {kind for kind, cls in FAULT_KINDS.items() if not cls.can_apply_before_start()}
    assert late == {"fd-limit", "address-gone", "address-removed", "device-gone", "link-deleted"}


# -- the schema has every router kind -------------------------------------------------------------


def test_every_router_kind_is_in_the_generated_and_the_shipped_schema() -> None:
    shipped = schema.SCHEMA_FILE.read_text()
    import json

    for built in (schema.build_schema(), json.loads(shipped)):
        assert built["properties"]["router"]["properties"]["kind"]["enum"] == list(ADAPTERS)


def test_a_router_kind_missing_from_the_schema_is_caught(made_up: None) -> None:
    import json

    shipped = json.loads(schema.SCHEMA_FILE.read_text())
    enum = shipped["properties"]["router"]["properties"]["kind"]["enum"]
    assert set(ADAPTERS) - set(enum) == {"toyrouter"}


# -- the install script, tox.ini and the CI files read the registry, keep no list -------------


def _router_words() -> set[str]:
    """Every kind, package and program of the bundled routers (what a copied list would name)."""
    words = set()
    for kind, adapter in installable().items():
        words |= {kind, adapter.package or kind, *adapter.programs}
    return words


def test_the_install_script_reads_the_registry(made_up: None) -> None:
    script = (ROOT / "scripts/install-routers.sh").read_text()
    unpack_dir = '"${FAULTLAB_PIMD_DIR:-/opt/faultlab/pimd}"'  # the adapters' PIMD_DIR, one folder
    code = [
        line.replace(unpack_dir, "")
        for line in script.splitlines()
        if not line.lstrip().startswith("#")
    ]
    assert "-m harness.routers" in script and "--missing" in script and "--programs" in script
    named = {word for line in code for word in re.findall(r"[\w-]+", line)} & _router_words()
    assert named == set(), f"the install script names routers itself: {sorted(named)}"
    # a new packaged router is installed without an edit: --missing lists it (its programs are
    # nowhere here), as the apt or unpack line the script's loop reads
    missing = [line.split("\t") for line in missing_lines()]
    assert ["toyrouter", "toyrouter", "apt", "toyrouterd"] in missing
    assert all(
        ADAPTERS[kind].package and not ADAPTERS[kind].program_paths() for kind, *_ in missing
    )
    assert "toyrouterd" in router_programs()


def test_tox_compares_the_routers_compare_runs_by_default(made_up: None) -> None:
    tox = configparser.ConfigParser(interpolation=None)
    tox.read(ROOT / "tox.ini")
    command = tox["testenv:compare"]["commands"]
    default = re.search(r"--routers=\{env:FAULTLAB_ROUTERS:([^}]*)\}", command).group(1)
    assert default == ""  # no list in tox.ini: compare's own default, from the registry
    args = build_parser().parse_args(["compare", "--routers="])
    assert args.routers == ""
    from harness.compare import cmd_compare

    with pytest.raises(Exception):  # noqa: B017, PT011 - it stops after resolving the routers
        cmd_compare(_Stop(args))
    assert args.routers.split(",") == list(comparable_kinds())
    assert "toyrouter" in args.routers


class _Stop:
    """The parsed arguments, raising on the first attribute compare reads after ``routers``."""

    def __init__(self, args: Any) -> None:
        self.__dict__["_args"] = args

    def __getattr__(self, name: str) -> Any:
        if name == "kernels":
            raise RuntimeError("stop: the routers are resolved")
        return getattr(self._args, name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self._args, name, value)


def test_the_ci_files_install_the_routers_through_the_registry() -> None:
    calls = []
    for path in sorted((ROOT / "ci").rglob("*.y*ml")):
        text = path.read_text()
        calls += [(path.name, line) for line in text.splitlines() if "install-routers.sh" in line]
        for line in text.splitlines():
            named = re.search(r"Install the optional routers \(([^)]+)\)", line)
            if named:
                listed = {name.strip() for name in named.group(1).split(",")}
                assert not listed & _router_words(), f"{path.name}: a copied router list"
    runs = [(name, line) for name, line in calls if "sh scripts/install-routers.sh" in line]
    assert len(runs) >= 4  # both GitHub workflows (three jobs) and both GitLab pipelines
    for name, line in runs:
        assert "FAULTLAB_PYTHON=.tox/py/bin/python" in line, f"{name}: {line.strip()}"


def test_a_router_kind_owns_its_scenario_keys(tmp_path: Path) -> None:
    """Its adapter's ``own_keys``: the schema offers them, the loader asks for the needed ones
    on that kind and refuses them on any other (a key two kinds own is refused naming both)."""
    from harness.errors import ScenarioError
    from harness.scenario_loader import load

    scenario = TOY_SCENARIO.replace("faults:\n  - {kind: toy-fault, node: r1, strength: 3}\n", "")
    register_router(KnobRouterAdapter)
    try:
        router = schema.build_schema()["properties"]["router"]["properties"]
        assert router["knob"] == {"type": "integer", "minimum": 1}
        file = tmp_path / "knob.yaml"
        file.write_text(scenario.replace("kind: toyrouter", "kind: knobrouter, knob: 2"))
        assert load(file).router.kind == "knobrouter"
        file.write_text(scenario.replace("kind: toyrouter", "kind: knobrouter"))
        with pytest.raises(ScenarioError, match="kind 'knobrouter' needs knob: N"):
            load(file)
        file.write_text(scenario.replace("kind: toyrouter", "kind: igmpd, knob: 2"))
        with pytest.raises(ScenarioError) as info:
            load(file)
        said = str(info.value)
        assert "router.knob is for kind 'knobrouter' only" in said
        assert "router.argv is for kind 'command' or 'knobrouter' only" in said
    finally:
        unregister_router(KnobRouterAdapter.name)
    assert "knob" not in schema.build_schema()["properties"]["router"]["properties"]
