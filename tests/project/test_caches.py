"""Module-level caches are named, typed and reset by tests (issue 23: no hidden channels).

Every memo the harness keeps at module level is a ``harness.caches.Cache`` or a function cache
registered with ``harness.caches.register``; the tests' autouse fixture resets the "test" ones.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

from harness import caches

ROOT = Path(__file__).resolve().parents[2]
#: Module-level mutable values that are not memos: an explicit add/remove API, or a file kept by
#: the expectation-kinds work (its two schema caches are registered when it lands).
NOT_MEMOS = {
    "harness/faults/table.py": {"_ADDED"},
    "harness/caches.py": {"_REGISTERED"},
    "harness/expectations/base.py": {"KINDS"},  # a registry (register/unregister), not a memo
}
UNREGISTERED_CACHES = {"harness/schema.py": {"_parameter_schemas", "_build_schema"}}


def _empty(value: ast.expr | None) -> bool:
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, ast.List | ast.Set):
        return not value.elts
    return (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("dict", "list", "set")
        and not value.args
        and not value.keywords
    )


def _sources() -> list[tuple[str, ast.Module, str]]:
    found = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        text = path.read_text()
        found.append((str(path.relative_to(ROOT)), ast.parse(text), text))
    return found


def test_no_module_level_memo_is_a_bare_dict_or_list() -> None:
    bare = []
    for name, tree, _text in _sources():
        for node in tree.body:
            if isinstance(node, ast.Assign | ast.AnnAssign) and _empty(node.value):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = {ast.unparse(t) for t in targets}
                if not names <= NOT_MEMOS.get(name, set()):
                    bare.append(f"{name}:{node.lineno} {', '.join(sorted(names))}")
    assert bare == [], "use harness.caches.cache(name, scope) for these memos"


def test_every_function_cache_is_registered() -> None:
    missing = []
    for name, tree, text in _sources():
        for node in tree.body:
            if not isinstance(node, ast.FunctionDef):
                continue
            cached = any("cache" in ast.unparse(d) for d in node.decorator_list)
            if not cached or node.name in UNREGISTERED_CACHES.get(name, set()):
                continue
            if f"{node.name}.cache_clear" not in text:
                missing.append(f"{name}:{node.lineno} {node.name}")
    assert missing == [], "register these with harness.caches.register(name, fn.cache_clear, ...)"


def test_the_registry_names_each_cache_and_resets_by_scope() -> None:
    for module in (
        "harness.features",
        "harness.routers.profile",
        "harness.explore.run",
        "harness.faults.supervisor",
        "harness.kernellab.launcher",
        "harness.reproduce.routerlogs",
    ):
        importlib.import_module(module)
    scopes = caches.registered()
    assert scopes["routers.profile.CLASSES"] == "test"
    assert scopes["features.checks"] == "run"
    from harness.routers import profile, profile_load

    profile.CLASSES[Path("/nowhere.yaml")] = ("x", "y")  # type: ignore[assignment]
    profile_load.PROFILES[(Path("/nowhere.yaml"), False)] = (0, "x")  # type: ignore[assignment]
    cleared = caches.reset("test")
    assert "routers.profile.CLASSES" in cleared and "features.checks" not in cleared
    assert not profile.CLASSES and not profile_load.PROFILES


def test_a_name_is_registered_once() -> None:
    name = f"tests.project.once-{id(object())}"
    made = caches.cache(name, "test")
    with pytest.raises(ValueError, match="registered twice"):
        caches.cache(name, "test")
    made.clear()
