"""Every rule's code and name, read from a table (`data/rule_names.toml`) rather than from the
rules themselves: settings are checked, and links to a rule's page made, where importing the
rules (and LibCST with them) would cost most of a start-up, as in the language server's own
process. `tests/tools/gen_rule_names.py` writes the table from the registry; a test keeps the two
equal.
"""

from __future__ import annotations

from functools import lru_cache

from .tables import load_toml


@lru_cache(maxsize=1)
def rule_names() -> dict[str, str]:
    """Each rule's code (`KER601`) and its name (`optimizer-lr-argument`), in code order."""
    return dict(load_toml("rule_names.toml")["rules"])


def known_code(code: str) -> str | None:
    """The code of the rule called `code` (a code in any case, or a rule's name), or None."""
    upper = code.upper()
    names = rule_names()
    if upper in names:
        return upper
    lower = code.lower()
    return next((known for known, name in names.items() if name == lower), None)
