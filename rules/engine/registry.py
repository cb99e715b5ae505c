"""Every rule, found by importing the family packages (`imports`, `ops`, ...) once.

A family package lists nothing: each module in it defines rule classes, and every concrete
`Rule` subclass found there is registered. Codes must be unique; tests check that too.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from .rule import Rule
from .syntax import NotCheckedRule, RuleFailedRule, SyntaxErrorRule

# The families sit beside the engine, in `kerasfix.rules`.
_RULES_PACKAGE = __package__.rpartition(".")[0]
FAMILIES = ("imports", "ops", "saving", "layers", "training", "removed", "randomness", "jax")


@lru_cache(maxsize=1)
def all_rules() -> tuple[Rule, ...]:
    found: dict[str, Rule] = {rule.code: rule() for rule in (SyntaxErrorRule, NotCheckedRule, RuleFailedRule)}
    for family in FAMILIES:
        package = importlib.import_module(f"{_RULES_PACKAGE}.{family}")
        for info in pkgutil.iter_modules(package.__path__):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            for value in vars(module).values():
                if (
                    isinstance(value, type)
                    and issubclass(value, Rule)
                    and value.__module__ == module.__name__
                    and "code" in vars(value)
                ):
                    if value.code in found and type(found[value.code]) is not value:
                        raise RuntimeError(f"two rules share the code {value.code}")
                    found[value.code] = value()
    return tuple(sorted(found.values(), key=lambda rule: rule.code))


def rule_by_code(code: str) -> Rule | None:
    code = code.upper()
    for rule in all_rules():
        if rule.code == code or rule.name == code.lower():
            return rule
    return None
