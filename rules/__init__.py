"""kerasfix's engine: parse once, resolve names, run every rule in one traversal, fix.

    from kerasfix.rules import lint, fix, Settings
    findings = lint(source, "train.py", Settings())
    fixed = fix(source, "train.py", Settings(), unsafe=False).source
"""

from .engine.lint import FixResult, apply_fixes, enabled_rules, fix, lint
from .engine.model import Applicability, Edit, Finding, Fix, Position, Severity, Span
from .engine.registry import all_rules, rule_by_code
from .engine.settings import Settings, SettingsError, load_pyproject, settings_for

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
