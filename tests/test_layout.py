"""The engine's modules import one another without cycles, and the rule families hold rules.

A cycle hidden in a function-level import still makes module order matter (the first import
from the wrong side fails half-initialised), so those count too; only `if TYPE_CHECKING:`
imports, which never run, are left out.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from graphlib import CycleError, TopologicalSorter
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parent.parent / "rules" / "engine"
RULES = ENGINE.parent
MODULES = sorted(p.stem for p in ENGINE.glob("*.py") if p.stem != "__init__")


def _runtime_imports(tree: ast.AST) -> set[str]:
    """Engine modules imported anywhere in the module except under `if TYPE_CHECKING:`."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                found.add(node.module.split(".")[0])
            else:
                found.update(alias.name for alias in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found & set(MODULES)


def engine_graph() -> dict[str, set[str]]:
    return {name: _runtime_imports(ast.parse((ENGINE / f"{name}.py").read_text())) for name in MODULES}


def test_engine_imports_form_no_cycle():
    graph = engine_graph()
    try:
        order = list(TopologicalSorter(graph).static_order())
    except CycleError as error:  # pragma: no cover - the failure message is the point
        pytest.fail(f"import cycle among engine modules: {' -> '.join(error.args[1])}")
    assert set(order) == set(MODULES)


def test_cycle_check_sees_a_function_level_cycle(tmp_path):
    # The check above must be able to fail: a lazy import back into an importer is a cycle.
    graph = engine_graph()
    graph["model"] = graph["model"] | {"settings"}
    with pytest.raises(CycleError):
        list(TopologicalSorter(graph).static_order())


@pytest.mark.parametrize("module", MODULES)
def test_each_engine_module_imports_first(module):
    # Imported first in a fresh interpreter, each module must load whole, whatever the order.
    code = f"import kerasfix.rules.engine.{module}"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]


def test_families_hold_only_rules_helpers_and_no_machinery():
    import importlib
    import inspect

    from kerasfix.rules.engine.registry import FAMILIES
    from kerasfix.rules.engine.rule import Rule

    for family in FAMILIES:
        for path in (RULES / family).glob("*.py"):
            if path.stem.startswith("_"):
                continue  # helpers the family's rules share
            module = importlib.import_module(f"kerasfix.rules.{family}.{path.stem}")
            rules = [
                value for value in vars(module).values()
                if inspect.isclass(value) and issubclass(value, Rule) and value.__module__ == module.__name__
            ]
            assert rules, f"rules/{family}/{path.name} defines no rule: machinery belongs in rules/engine/"
    top = {p.stem for p in RULES.glob("*.py")}
    assert top == {"__init__"}, f"machinery outside rules/engine/: {top - {'__init__'}}"
