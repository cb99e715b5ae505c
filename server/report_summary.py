"""The numbers of the migration report, computed once for both its formats: per backend, rule
family, file and rule, each split by what fixing would do with the findings."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass

from kerasfix.rules import Finding, rule_by_code
from kerasfix.rules.engine.model import DOCS_URL
from kerasfix.rules.engine.rule import BACKENDS

from . import output
from .cli import VERSION

BACKEND_LABELS = {"jax": "JAX", "torch": "PyTorch", "tensorflow": "TensorFlow"}

# The rule families, by the first digit of the code (rules/README.md lists the packages).
FAMILIES = {
    "0": "files not parsed",
    "1": "imports and namespaces",
    "2": "TensorFlow ops",
    "3": "saving and loading",
    "4": "layers and state",
    "5": "training",
    "6": "removed APIs",
    "7": "randomness",
    "8": "JAX",
}

# What fixing does with a finding: `--fix` applies it (a safe fix, or an unsafe one where
# unsafe fixes are enabled), `--unsafe-fixes` would apply it, or it needs a person.
FIX, UNSAFE, MANUAL = "fix", "unsafe", "manual"


@dataclass(frozen=True)
class Checked:
    """What a check of the paths found: one report per checked file, and the files it could not check."""

    reports: list[output.FileReport]
    unchecked: list[tuple[str, str]]
    targets: frozenset[str]
    # The base of the rules' pages (the `docs-url` setting of the first path).
    docs_url: str = DOCS_URL


def fix_kind(finding: Finding, unsafe: bool) -> str:
    if output.fixable(finding, unsafe):
        return FIX
    return UNSAFE if finding.fix is not None else MANUAL


def finding_backends(finding: Finding) -> frozenset[str]:
    """The backends on which the finding's problem shows: its own where it carries them
    (narrower than its rule's), else those its rule declares."""
    if finding.backends is not None:
        return finding.backends
    rule = rule_by_code(finding.code)
    return rule.backends if rule is not None else BACKENDS


def family(code: str) -> str:
    return f"{code[:4]}xx"


# ----- the summary both formats render -------------------------------------------------------


def _kinds() -> dict[str, int]:
    return {FIX: 0, UNSAFE: 0, MANUAL: 0}


def summarize(checked: Checked) -> dict:
    """Every number the report shows, as plain data (the HTML embeds it as JSON)."""
    kinds = _kinds()
    families: dict[str, dict[str, int]] = {}
    backends = {name: {"kinds": _kinds(), "rules": Counter(), "manual_rules": Counter()} for name in BACKENDS}
    files = []
    for report in checked.reports:
        own = _kinds()
        for finding in report.findings:
            kind = fix_kind(finding, report.unsafe)
            kinds[kind] += 1
            own[kind] += 1
            families.setdefault(family(finding.code), _kinds())[kind] += 1
            for name in finding_backends(finding):
                backends[name]["kinds"][kind] += 1
                backends[name]["rules"][finding.code] += 1
                if kind == MANUAL:
                    backends[name]["manual_rules"][finding.code] += 1
        if report.findings:
            files.append({"path": report.path, "count": len(report.findings), **own})
    # Worst first: the most findings, then the most manual ones, then by name.
    files.sort(key=lambda row: (-row["count"], -row[MANUAL], row["path"]))
    return {
        "version": VERSION,
        "docs_url": checked.docs_url,
        "files_checked": len(checked.reports),
        "files_with_findings": len(files),
        "total": sum(kinds.values()),
        "fixable": kinds[FIX],
        **{f"{kind}_count": count for kind, count in kinds.items()},
        "statistics": json.loads(output.statistics_json(checked.reports)),
        "backends": [
            _backend_row(name, backends[name], name in checked.targets)
            for name in sorted(BACKENDS, key=list(BACKEND_LABELS).index)
        ],
        "families": [
            {"family": key, "label": FAMILIES.get(key[3], "other"), "count": sum(row.values()), **row}
            for key, row in sorted(families.items())
        ],
        "files": files,
        "unchecked": [{"path": path, "reason": reason} for path, reason in checked.unchecked],
    }


def _backend_row(name: str, data: dict, targeted: bool) -> dict:
    kinds = data["kinds"]
    if not targeted:
        status = "not targeted"
    elif kinds[MANUAL]:
        status = "blocked"
    elif kinds[UNSAFE]:
        status = "fixable with --unsafe-fixes"
    elif kinds[FIX]:
        status = "fixable with --fix"
    else:
        status = "no findings"
    return {
        "backend": name,
        "label": BACKEND_LABELS[name],
        "targeted": targeted,
        "status": status,
        "count": sum(kinds.values()),
        **kinds,
        # The rules whose findings need a person on this backend, most findings first.
        # (none on a backend that is not targeted: it is not part of the plan).
        "blockers": [
            {"code": code, "count": count} for code, count in _most_common(data["manual_rules"]) if targeted
        ],
    }


def status_text(row: dict) -> str:
    """A backend's status in words."""
    if row["status"] == "blocked":
        need = "finding needs" if row[MANUAL] == 1 else "findings need"
        return f"Blocked: {row[MANUAL]} {need} manual work"
    if row["status"] == "no findings":
        return "Ready: no findings"
    if row["status"] == "not targeted":
        return "Not targeted"
    return f"Ready once {row['status'][len('fixable with '):]} is applied"


def _most_common(counter: Counter) -> list[tuple[str, int]]:
    return sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
