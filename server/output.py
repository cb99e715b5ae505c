"""Printing findings in Ruff's output formats: full, concise, json, sarif, github."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from kerasfix.rules import Finding, all_rules
from kerasfix.rules.engine.model import DOCS_URL, Position, rule_url

FORMATS = ("full", "concise", "json", "sarif", "github")


@dataclass(frozen=True)
class FileReport:
    path: str
    findings: Sequence[Finding]
    text: str | None = None  # the checked text, for code frames
    # Notebooks: the 1-based cell of each finding (positions are within the cell) and each
    # cell's source.
    cells: Sequence[int] | None = None
    cell_texts: dict[int, str] | None = None
    # Unsafe fixes are enabled for this file: its findings with an unsafe fix are fixable too.
    unsafe: bool = False

    def items(self):
        """(finding, cell or None, the text its positions refer to)."""
        for index, finding in enumerate(self.findings):
            if self.cells is not None:
                cell = self.cells[index]
                yield finding, cell, (self.cell_texts or {}).get(cell, "")
            else:
                yield finding, None, self.text or ""

    def where(self, finding: Finding, cell: int | None) -> str:
        row, col = _row_col(finding.start)
        return f"{self.path}:cell {cell}:{row}:{col}" if cell is not None else f"{self.path}:{row}:{col}"


def _row_col(position: Position) -> tuple[int, int]:
    return position.line + 1, position.character + 1


def fixable(finding: Finding, unsafe: bool = False) -> bool:
    """Whether `--fix` applies the finding's fix: a safe one, or any with unsafe fixes enabled."""
    return finding.fix is not None and (finding.fix.is_safe or unsafe)


def _marker(finding: Finding) -> str:
    return " [*]" if finding.fix is not None and finding.fix.is_safe else (" [-]" if finding.fix else "")


def concise(reports: Sequence[FileReport]) -> str:
    lines = []
    for report in reports:
        for f, cell, _ in report.items():
            lines.append(f"{report.where(f, cell)}: {f.code}{_marker(f)} {f.message}")
    return "".join(line + "\n" for line in lines)


def full(reports: Sequence[FileReport]) -> str:
    out: list[str] = []
    for report in reports:
        for f, cell, text in report.items():
            lines = text.splitlines()
            out.append(f"{report.where(f, cell)}: {f.code}{_marker(f)} {f.message}")
            if lines:
                out.extend(_frame(lines, f))
            if f.note:
                out.append(f"  = note: {f.note}")
            if f.fix is not None:
                kind = "" if f.fix.is_safe else " (unsafe: use --unsafe-fixes)"
                out.append(f"  = help: {f.fix.title}{kind}")
            out.append("")
    return "".join(line + "\n" for line in out)


def _frame(lines: list[str], f: Finding) -> list[str]:
    first, last = f.start.line, max(f.end.line, f.start.line)
    if f.end.line > f.start.line and f.end.character == 0:
        last -= 1
    last = min(last, first + 4, len(lines) - 1)
    if first >= len(lines):
        return []
    width = len(str(last + 1))
    pad = " " * width
    frame = [f"{pad} |"]
    for index in range(first, last + 1):
        text = lines[index].replace("\t", " ")
        frame.append(f"{index + 1:>{width}} | {text}")
        start = f.start.character if index == first else len(text) - len(text.lstrip())
        end = f.end.character if index == f.end.line else len(text)
        frame.append(f"{pad} | {' ' * start}{'^' * max(end - start, 1)}" + (f" {f.code}" if index == last else ""))
    frame.append(f"{pad} |")
    return frame


def _location(position: Position) -> dict:
    row, col = _row_col(position)
    return {"row": row, "column": col}


def as_json(reports: Sequence[FileReport], docs_url: str = DOCS_URL) -> str:
    """Ruff's JSON; `url` is each rule's page under `docs_url` (the `docs-url` setting)."""
    items = []
    for report in reports:
        for f, cell, _ in report.items():
            fix = None
            if f.fix is not None:
                fix = {
                    "applicability": f.fix.applicability.value,
                    "message": f.fix.title,
                    "edits": [
                        {
                            "content": e.content,
                            "location": _location(e.start_pos),
                            "end_location": _location(e.end_pos),
                            # In a notebook, an edit's positions are within its own cell.
                            **({"cell": getattr(e, "cell", cell)} if cell is not None else {}),
                        }
                        for e in f.fix.edits
                    ],
                }
            items.append(
                {
                    "cell": cell,
                    "code": f.code,
                    "name": f.name,
                    "message": f.message,
                    "note": f.note,
                    "severity": f.severity.value,
                    # Absolute, as in Ruff (standard input without a name stays `-`).
                    "filename": report.path if report.path == "-" else os.path.abspath(report.path),
                    "location": _location(f.start),
                    "end_location": _location(f.end),
                    "fix": fix,
                    "noqa_row": f.start.line + 1,
                    "url": rule_url(f.code, f.name, docs_url),
                }
            )
    return json.dumps(items, indent=2, ensure_ascii=False) + "\n"


_SARIF_LEVEL = {"error": "error", "warning": "warning", "info": "note", "hint": "note"}


def sarif(reports: Sequence[FileReport], version: str, docs_url: str = DOCS_URL) -> str:
    rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.message},
            "fullDescription": {"text": rule.docs(rows=False)},
            "helpUri": rule_url(rule.code, rule.name, docs_url),
        }
        for rule in all_rules()
    ]
    results = []
    for report in reports:
        for f, cell, _ in report.items():
            row, col = _row_col(f.start)
            end_row, end_col = _row_col(f.end)
            results.append(
                {
                    "ruleId": f.code,
                    "level": _SARIF_LEVEL[f.severity.value],
                    "message": {"text": f.message if cell is None else f"cell {cell}: {f.message}"},
                    "locations": [
                        {
                            "physicalLocation": {
                                "artifactLocation": {"uri": report.path},
                                "region": {
                                    "startLine": row,
                                    "startColumn": col,
                                    "endLine": end_row,
                                    "endColumn": end_col,
                                },
                            }
                        }
                    ],
                }
            )
    document = {
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "kerasfix",
                        "version": version,
                        "informationUri": "https://kerasfix.readthedocs.io/",
                        "rules": rules,
                    }
                },
                "results": results,
            }
        ],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _github_escape(text: str, property_value: bool = False) -> str:
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    if property_value:
        text = text.replace(":", "%3A").replace(",", "%2C")
    return text


def github(reports: Sequence[FileReport]) -> str:
    lines = []
    for report in reports:
        for f, cell, _ in report.items():
            row, col = _row_col(f.start)
            end_row, end_col = _row_col(f.end)
            if cell is not None:
                # Rows inside a cell are not rows of the .ipynb file: annotate the file only.
                level = "error" if f.severity.value == "error" else "warning"
                title = _github_escape(f"kerasfix ({f.code})", True)
                message = _github_escape(f"{report.where(f, cell)}: {f.code} {f.message}")
                lines.append(f"::{level} title={title},file={_github_escape(report.path, True)}::{message}")
                continue
            level = "error" if f.severity.value == "error" else "warning"
            props = (
                f"title={_github_escape(f'kerasfix ({f.code})', True)},"
                f"file={_github_escape(report.path, True)},line={row},col={col},"
                f"endLine={end_row},endColumn={end_col}"
            )
            lines.append(f"::{level} {props}::{_github_escape(f'{report.path}:{row}:{col}: {f.code} {f.message}')}")
    return "".join(line + "\n" for line in lines)


def render(reports: Sequence[FileReport], fmt: str, version: str, docs_url: str = DOCS_URL) -> str:
    """The report in format `fmt`; `docs_url` is the base of the rule links (json, sarif)."""
    if fmt == "concise":
        return concise(reports)
    if fmt == "json":
        return as_json(reports, docs_url)
    if fmt == "sarif":
        return sarif(reports, version, docs_url)
    if fmt == "github":
        return github(reports)
    return full(reports)


def _statistics_rows(reports: Sequence[FileReport]) -> list[dict]:
    """One row per code, most frequent first: its count and how many of its findings `--fix`
    would fix (`fixable`: all of them, as in Ruff)."""
    counts: Counter[str] = Counter()
    fixable_count: Counter[str] = Counter()
    names: dict[str, str] = {}
    for report in reports:
        for f in report.findings:
            counts[f.code] += 1
            names[f.code] = f.name
            if fixable(f, report.unsafe):
                fixable_count[f.code] += 1
    return [
        {
            "code": code,
            "name": names[code],
            "count": count,
            "fixable": fixable_count[code] == count,
            "fixable_count": fixable_count[code],
        }
        for code, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def statistics(reports: Sequence[FileReport]) -> str:
    """Ruff's `--statistics` table: `[*]` when every finding of the code has a safe fix, `[-]`
    when some have, `[ ]` when none has."""
    rows = _statistics_rows(reports)
    if not rows:
        return ""
    width = len(str(max(row["count"] for row in rows)))
    lines = []
    for row in rows:
        marker = "[*]" if row["fixable"] else "[-]" if row["fixable_count"] else "[ ]"
        lines.append(f"{row['count']:>{width}}\t{row['code']}\t{marker} {row['name']}")
    return "".join(line + "\n" for line in lines)


def statistics_json(reports: Sequence[FileReport]) -> str:
    """`--statistics --output-format json`: Ruff's fields `code`, `name`, `count`, `fixable`
    (every finding of the code has a fix) and `fixable_count`."""
    return json.dumps(_statistics_rows(reports), indent=2, ensure_ascii=False) + "\n"
