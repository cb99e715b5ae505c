"""The migration report as Markdown: a summary short enough for a pull-request comment."""

from __future__ import annotations

from kerasfix.rules.engine.model import rule_url

from .report_summary import status_text

# The files listed; the HTML report lists them all.
TOP_FILES = 10


def _cell(text: str) -> str:
    """Text safe inside a table cell (a `|` would end the cell)."""
    return text.replace("\\", "\\\\").replace("|", "\\|")


def _code(text: str) -> str:
    return f"`{_cell(text)}`" if "`" not in text else f"`` {_cell(text)} ``"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    # Columns of counts are right-aligned.
    columns = [[row[i] for row in rows] for i in range(len(header))]
    numeric = [any(c.isdigit() for c in cells) and all(c.isdigit() or c == "-" for c in cells) for cells in columns]
    align = ["--:" if right else "---" for right in numeric]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(align) + " |",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def render(summary: dict) -> str:
    names = {row["code"]: row["name"] for row in summary["statistics"]}

    def rule(code: str) -> str:
        return f"[{code}]({rule_url(code, names[code], summary['docs_url'])})"

    lines = [
        "## Keras 3 migration report",
        "",
        f"{_plural(summary['total'], 'finding')} in {summary['files_with_findings']} of "
        f"{_plural(summary['files_checked'], 'file')} checked: {summary['fix_count']} fixable with `--fix`, "
        f"{summary['unsafe_count']} more with `--unsafe-fixes`, {summary['manual_count']} to fix by hand.",
        "",
        "### Backends",
        "",
        *_table(
            ["Backend", "Status", "Findings", "Manual", "Blocked by"],
            [
                [
                    row["label"],
                    status_text(row),
                    str(row["count"]) if row["targeted"] else "-",
                    str(row["manual"]) if row["targeted"] else "-",
                    ", ".join(f"{rule(b['code'])} ({b['count']})" for b in row["blockers"][:5]) or "-",
                ]
                for row in summary["backends"]
            ],
        ),
    ]
    if summary["families"]:
        lines += [
            "",
            "### Rule families",
            "",
            *_table(
                ["Family", "Findings", "`--fix`", "`--unsafe-fixes`", "Manual"],
                [
                    [f"{row['family']} {row['label']}", str(row["count"]), str(row["fix"]), str(row["unsafe"]),
                     str(row["manual"])]
                    for row in summary["families"]
                ],
            ),
            "",
            "### Top files",
            "",
            *_table(
                ["File", "Findings", "`--fix`", "`--unsafe-fixes`", "Manual"],
                [
                    [_code(row["path"]), str(row["count"]), str(row["fix"]), str(row["unsafe"]), str(row["manual"])]
                    for row in summary["files"][:TOP_FILES]
                ],
            ),
        ]
        if len(summary["files"]) > TOP_FILES:
            lines += ["", f"And {_plural(len(summary['files']) - TOP_FILES, 'more file')}."]
        lines += [
            "",
            "### Rules",
            "",
            *_table(
                ["Rule", "Name", "Findings", "Fixable"],
                [
                    [rule(row["code"]), row["name"], str(row["count"]), str(row["fixable_count"])]
                    for row in summary["statistics"]
                ],
            ),
        ]
    if summary["unchecked"]:
        lines += ["", "### Not checked", ""]
        lines += [f"- {_code(row['path'])}: {_cell(row['reason'])}" for row in summary["unchecked"]]
    return "\n".join(lines) + "\n"
