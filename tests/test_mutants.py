"""The mutants of `tests/tools/mutants.py` still match the product: each broken snippet
replaces text that is there, once, and names tests that exist."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _mutants():
    spec = importlib.util.spec_from_file_location("mutants", ROOT / "tests" / "tools" / "mutants.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("mutants", module)  # dataclasses look their module up there
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def test_every_mutant_snippet_is_in_the_product_once():
    assert _mutants().check_snippets() == []


def test_every_mutant_names_tests_that_exist():
    for mutant in _mutants().MUTANTS:
        missing = [t for t in mutant.tests if not (ROOT / t.split("::")[0]).is_file()]
        assert missing == [], mutant.name
