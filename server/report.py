"""The `kerasfix report` command: a migration report (HTML, or Markdown for a pull request).

It checks the files exactly as `kerasfix check` does (the same discovery, settings and worker
processes) and condenses the findings into what a migration plan needs: which backends the
project can run on and what blocks the others, the findings per rule family and per file, and
what `--fix` and `--unsafe-fixes` would change. The numbers per rule are `check --statistics`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from kerasfix.rules import Finding, Settings, SettingsError, rule_by_code
from kerasfix.rules.engine.model import DOCS_URL
from kerasfix.rules.engine.rule import BACKENDS
from kerasfix.rules.engine.settings import PyprojectError

from . import cli, output
from .files import SUFFIXES, discover

FORMATS = ("html", "markdown")

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
    own = getattr(finding, "backends", None)  # findings carry them from kerasfix 0.1.1 on
    if own is not None:
        return own
    rule = rule_by_code(finding.code)
    return rule.backends if rule is not None else BACKENDS


def family(code: str) -> str:
    return f"{code[:4]}xx"


# ----- checking ------------------------------------------------------------------------------


def collect(args: argparse.Namespace) -> Checked:
    """Check `args.paths` as `kerasfix check` would; raises SettingsError/PyprojectError."""
    overrides = cli._overrides(args)
    config = Path(args.config) if args.config else None
    if config is not None and not config.is_file():
        raise SettingsError(f"--config {config}: no such file")
    cache = cli.SettingsCache(overrides, config)
    unchecked: list[tuple[str, str]] = []
    files: list[tuple[Path, Settings]] = []
    docs_url = cache.for_path(Path(args.paths[0] if args.paths else ".").absolute()).docs_url
    for raw in args.paths or ["."]:
        root = Path(raw)
        root_settings = cache.for_path(root.absolute())
        for path, problem in discover([root], root_settings.is_excluded, (*SUFFIXES, ".ipynb")):
            if problem is not None:
                unchecked.append((str(path), problem))
                continue
            settings = cache.for_path(path.absolute())
            if path != root and settings.is_excluded(path):
                continue
            files.append((path, settings))
    jobs = args.jobs or os.cpu_count() or 1
    outcomes = cli._run_files(files, "check", args.unsafe_fixes, jobs, show_progress=True)
    reports = []
    for outcome in outcomes:
        if outcome.error is not None:
            unchecked.append((outcome.path, outcome.error))
            continue
        reports.append(
            output.FileReport(
                outcome.path, outcome.findings, outcome.text, outcome.cells, outcome.cell_texts, outcome.unsafe
            )
        )
    targets = frozenset().union(*(settings.target_backends for _, settings in files)) if files else BACKENDS
    return Checked(reports, unchecked, targets, docs_url)


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
        "version": cli.VERSION,
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


# ----- the command ---------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: the current folder)")
    parser.add_argument(
        "--format", choices=FORMATS, default="html", help="html (a self-contained page) or markdown (default: html)"
    )
    parser.add_argument("--output-file", "-o", metavar="PATH", help="write the report to this file instead of stdout")
    parser.add_argument("--unsafe-fixes", action="store_true", help="count unsafe fixes as applied by --fix")
    parser.add_argument("--select", action="append", help="comma-separated codes or prefixes to enable; repeatable")
    parser.add_argument("--extend-select", action="append", help="codes to enable on top of the configuration")
    parser.add_argument("--ignore", action="append", help="comma-separated codes or prefixes to disable; repeatable")
    parser.add_argument("--target-backends", action="append", help="comma-separated subset of jax,tensorflow,torch")
    parser.add_argument("--keras-version", help="the oldest Keras 3 the code must run on (e.g. 3.0.5)")
    parser.add_argument("--config", help="a pyproject.toml to use instead of the nearest one")
    parser.add_argument("--jobs", "-j", type=int, default=0, help="processes to use (default: all cores)")


def run(args: argparse.Namespace) -> int:
    if args.jobs < 0:
        print("kerasfix: error: --jobs must be 0 (all cores) or more", file=sys.stderr)
        return cli.EXIT_ERROR
    try:
        checked = collect(args)
    except (SettingsError, PyprojectError) as error:
        print(f"kerasfix: error: {error}", file=sys.stderr)
        return cli.EXIT_ERROR
    for path, reason in checked.unchecked:
        print(f"kerasfix: error: {path}: {reason}", file=sys.stderr)
    summary = summarize(checked)
    target = Path(args.output_file) if args.output_file else None
    if args.format == "markdown":
        from .report_markdown import render
        text = render(summary)
    else:
        from .report_html import render
        # Links to the files are relative to where the page is.
        base = target.absolute().parent if target else Path.cwd()
        text = render(summary, checked.reports, base)
    if target is None:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        except OSError as error:
            print(f"kerasfix: error: --output-file {target}: {error.strerror or error}", file=sys.stderr)
            return cli.EXIT_ERROR
    # As `check`: files that could not be checked make the result incomplete.
    return cli.EXIT_ERROR if checked.unchecked else cli.EXIT_CLEAN


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="kerasfix report", description="Write a Keras 3 migration report.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
