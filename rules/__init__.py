"""kerasfix's engine: parse once, resolve names, run every rule in one traversal, fix.

    from kerasfix.rules import lint, fix, Settings
    findings = lint(source, "train.py", Settings())
    fixed = fix(source, "train.py", Settings(), unsafe=False).source
"""

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .engine.lint import FixResult, apply_fixes, enabled_rules, fix, lint
    from .engine.model import Applicability, Edit, Finding, Fix, Position, Severity, Span
    from .engine.registry import all_rules, rule_by_code
    from .engine.settings import Settings, SettingsError, load_pyproject, settings_for

# Each public name and the engine module that defines it, imported on first use (PEP 562): the
# language server's own process needs the settings and the findings' model, not LibCST and the
# rules, which its engine process loads (importing them costs most of a start-up).
_EXPORTS = {
    **dict.fromkeys(("FixResult", "apply_fixes", "enabled_rules", "fix", "lint"), "lint"),
    **dict.fromkeys(("Applicability", "Edit", "Finding", "Fix", "Position", "Severity", "Span"), "model"),
    **dict.fromkeys(("all_rules", "rule_by_code"), "registry"),
    **dict.fromkeys(("Settings", "SettingsError", "load_pyproject", "settings_for"), "settings"),
}


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.engine.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})


__all__ = [
    "Applicability",
    "Edit",
    "Finding",
    "Fix",
    "FixResult",
    "Position",
    "Settings",
    "SettingsError",
    "Severity",
    "Span",
    "all_rules",
    "apply_fixes",
    "enabled_rules",
    "fix",
    "lint",
    "load_pyproject",
    "rule_by_code",
    "settings_for",
]
