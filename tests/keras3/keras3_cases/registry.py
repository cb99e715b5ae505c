"""All cases, from every family module."""

from __future__ import annotations

from kerasfix.rules import rule_by_code

from . import Case, backend_functions, datasets, imports, layers, ops, outputs, randomness, saving, traced, training

FAMILIES = (imports, ops, backend_functions, datasets, outputs, saving, layers, training, randomness, traced)
ALL_CASES: list[Case] = [case for family in FAMILIES for case in family.CASES]
# Cases whose rule does not exist (renamed or removed): tests/keras3/test_rules_keras3.py fails
# on them rather than dropping what they prove.
ORPHANS: list[str] = [case.id for case in ALL_CASES if rule_by_code(case.rule) is None]
