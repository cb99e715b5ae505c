"""All cases, from every family module."""

from __future__ import annotations

from kerasfix.rules import rule_by_code

from . import Case, backend_functions, imports, layers, ops, randomness, saving, traced, training

FAMILIES = (imports, ops, backend_functions, saving, layers, training, randomness, traced)
DECLARED: list[Case] = [case for family in FAMILIES for case in family.CASES]
# A case waits for its rule to land: it is collected once `kerasfix rule CODE` exists.
ALL_CASES: list[Case] = [case for case in DECLARED if rule_by_code(case.rule) is not None]
