"""The migration report as one self-contained HTML page: inline CSS and SVG, no script, nothing
fetched. Every text from the project (paths, messages) goes through `html.escape`.

The summary the page is drawn from is embedded as JSON (`<script type="application/json"
id="kerasfix-report">`), and the tables carry their numbers as `data-*` attributes, so that
tools (and the tests) read the numbers without scraping the text.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from html import escape
from pathlib import Path
from urllib.parse import quote

from kerasfix.rules.engine.model import rule_url

from . import output
from .report_summary import FIX, MANUAL, UNSAFE, fix_kind, status_text

COLORS = {FIX: "#2e7d32", UNSAFE: "#ef8f00", MANUAL: "#c62828"}
KIND_LABELS = {FIX: "--fix", UNSAFE: "--unsafe-fixes", MANUAL: "manual"}
STATUS_CLASS = {
    "no findings": "ok",
    "fixable with --fix": "ok",
    "fixable with --unsafe-fixes": "warn",
    "blocked": "bad",
    "not targeted": "off",
}
# Bars drawn in the per-file chart; the table below it lists every file.
CHART_FILES = 15

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d1d1f;background:#f6f7f9}
main{max-width:1180px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 10px}
.lead{color:#444;margin:0 0 16px}
.cards{display:grid;grid-template-columns:repeat(3,1fr);gap:12px}
.card{background:#fff;border-radius:8px;padding:14px 16px;border-top:4px solid #999;box-shadow:0 1px 2px #0002}
.card.ok{border-color:#2e7d32}.card.warn{border-color:#ef8f00}
.card.bad{border-color:#c62828}.card.off{border-color:#bbb}
.card h3{margin:0;font-size:16px}.card .status{font-weight:600;margin:4px 0}
.card.ok .status{color:#2e7d32}.card.warn .status{color:#b26a00}
.card.bad .status{color:#c62828}.card.off .status{color:#777}
.card ul{margin:6px 0 0;padding-left:18px}
table{border-collapse:collapse;background:#fff;width:100%;box-shadow:0 1px 2px #0002}
th,td{text-align:left;padding:5px 10px;border-bottom:1px solid #e4e6ea;vertical-align:top}
th{background:#eef0f3;font-weight:600}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
code{font:12.5px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
a{color:#0b57d0;text-decoration:none}a:hover{text-decoration:underline}
.chart{background:#fff;box-shadow:0 1px 2px #0002;margin-bottom:10px;display:block}
.legend span{display:inline-block;margin-right:14px}
.legend i{display:inline-block;width:10px;height:10px;margin-right:5px}
details{background:#fff;margin:4px 0;box-shadow:0 1px 2px #0002}summary{padding:6px 10px;cursor:pointer}
details table{box-shadow:none}.kind-fix{color:#2e7d32}.kind-unsafe{color:#b26a00}.kind-manual{color:#c62828}
"""


def render(summary: dict, reports: Sequence[output.FileReport], base: Path) -> str:
    """The page for `summary`; findings link to their files relative to the folder `base`."""
    names = {row["code"]: row["name"] for row in summary["statistics"]}
    docs = summary["docs_url"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>Keras 3 migration report</title>",
        f"<style>{CSS}</style>",
        f'<script type="application/json" id="kerasfix-report">{_json(summary)}</script>',
        "</head><body><main>",
        "<h1>Keras 3 migration report</h1>",
        f'<p class="lead" data-total="{summary["total"]}" data-fixable="{summary["fixable"]}">'
        f"{summary['total']} findings in {summary['files_with_findings']} of {summary['files_checked']} files "
        f"checked: <b>{summary['fix_count']}</b> fixed by <code>--fix</code>, <b>{summary['unsafe_count']}</b> more "
        f"by <code>--unsafe-fixes</code>, <b>{summary['manual_count']}</b> to fix by hand. "
        f"kerasfix {escape(summary['version'])}.</p>",
        "<h2>Backends</h2>",
        _backends(summary["backends"], names, docs),
        _families(summary["families"]),
        _files(summary["files"]),
        _rules(summary["statistics"], docs),
        _findings(reports, base, docs),
        _unchecked(summary["unchecked"]),
        "</main></body></html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


def _json(data: dict) -> str:
    # Inside <script> only `</script` ends the element: escaping <, > and & keeps any text out
    # of the HTML parser's way while staying the same JSON.
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("&", "\\u0026").replace("<", "\\u003c").replace(">", "\\u003e")


def _rule_link(code: str, name: str, docs_url: str) -> str:
    return f'<a href="{escape(rule_url(code, name, docs_url))}"><code>{escape(code)}</code></a>'


def _backends(rows: list[dict], names: dict[str, str], docs: str) -> str:
    cards = []
    for row in rows:
        blockers = "".join(
            f"<li>{_rule_link(b['code'], names[b['code']], docs)} {escape(names[b['code']])}: {b['count']}</li>"
            for b in row["blockers"][:6]
        )
        more = len(row["blockers"]) - 6
        if more > 0:
            blockers += f"<li>and {more} more rules</li>"
        detail = (
            f"{row['count']} findings: {row[FIX]} by <code>--fix</code>, {row[UNSAFE]} by "
            f"<code>--unsafe-fixes</code>, {row[MANUAL]} by hand"
        )
        if not row["targeted"]:
            detail = "Not in <code>target-backends</code>: its rules were not run."
        cards.append(
            f'<div class="card {STATUS_CLASS[row["status"]]}" data-backend="{escape(row["backend"])}" '
            f'data-status="{escape(row["status"])}" data-count="{row["count"]}" data-manual="{row[MANUAL]}">'
            f"<h3>{escape(row['label'])}</h3><div class=\"status\">{escape(status_text(row))}</div>"
            f"<div>{detail}</div>"
            + (f"<ul>{blockers}</ul>" if blockers else "")
            + "</div>"
        )
    return f'<div class="cards">{"".join(cards)}</div>'


def _legend() -> str:
    items = "".join(
        f'<span><i style="background:{COLORS[kind]}"></i>{escape(KIND_LABELS[kind])}</span>' for kind in COLORS
    )
    return f'<div class="legend">{items}</div>'


def _stacked_bars(rows: list[tuple[str, dict]], label_width: int) -> str:
    """A horizontal bar per row, split into the findings `--fix`, `--unsafe-fixes` and a person
    would handle; bars are scaled to the largest row."""
    bar_height, gap, width, count_width = 18, 6, 1100, 60
    largest = max((sum(row[k] for k in COLORS) for _, row in rows), default=0) or 1
    scale = (width - label_width - count_width) / largest
    height = len(rows) * (bar_height + gap) + gap
    shapes = []
    for index, (label, row) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        shapes.append(
            f'<text x="{label_width - 8}" y="{y + 13}" text-anchor="end" font-size="12">{escape(label)}</text>'
        )
        x = float(label_width)
        for kind, color in COLORS.items():
            if row[kind]:
                w = row[kind] * scale
                shapes.append(
                    f'<rect x="{x:.1f}" y="{y}" width="{max(w, 1):.1f}" height="{bar_height}" fill="{color}">'
                    f"<title>{escape(label)}: {row[kind]} {escape(KIND_LABELS[kind])}</title></rect>"
                )
                x += w
        total = sum(row[k] for k in COLORS)
        shapes.append(f'<text x="{x + 6:.1f}" y="{y + 13}" font-size="12">{total}</text>')
    return (
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="100%" viewBox="0 0 {width} {height}" '
        f'role="img" font-family="system-ui,sans-serif">{"".join(shapes)}</svg>'
    )


def _families(rows: list[dict]) -> str:
    if not rows:
        return ""
    chart = _stacked_bars([(f"{row['family']} {row['label']}", row) for row in rows], 230)
    body = "".join(
        f'<tr data-family="{escape(row["family"])}" data-count="{row["count"]}"><td>{escape(row["family"])}</td>'
        f"<td>{escape(row['label'])}</td>{_counts(row)}</tr>"
        for row in rows
    )
    return (
        f"<h2>Findings by rule family</h2>{_legend()}{chart}"
        f"<table><tr><th>Family</th><th>About</th>{_count_headers()}</tr>{body}</table>"
    )


def _counts(row: dict) -> str:
    return "".join(f'<td class="n">{row[key]}</td>' for key in ("count", FIX, UNSAFE, MANUAL))


def _count_headers() -> str:
    return (
        '<th class="n">Findings</th><th class="n"><code>--fix</code></th>'
        '<th class="n"><code>--unsafe-fixes</code></th><th class="n">Manual</th>'
    )


def _anchor(path: str) -> str:
    return "file-" + "".join(c if c.isalnum() else "-" for c in path)


def _files(rows: list[dict]) -> str:
    if not rows:
        return ""
    chart = _stacked_bars([(_shorten(row["path"]), row) for row in rows[:CHART_FILES]], 330)
    body = "".join(
        f'<tr data-file="{escape(row["path"])}" data-count="{row["count"]}">'
        f'<td><a href="#{escape(_anchor(row["path"]))}"><code>{escape(row["path"])}</code></a></td>{_counts(row)}</tr>'
        for row in rows
    )
    shown = f" (the {CHART_FILES} worst in the chart)" if len(rows) > CHART_FILES else ""
    return (
        f"<h2>Findings by file, worst first{shown}</h2>{_legend()}{chart}"
        f"<table><tr><th>File</th>{_count_headers()}</tr>{body}</table>"
    )


def _shorten(path: str, limit: int = 48) -> str:
    return path if len(path) <= limit else "…" + path[-(limit - 1):]


def _rules(rows: list[dict], docs: str) -> str:
    if not rows:
        return ""
    body = "".join(
        f'<tr data-code="{escape(row["code"])}" data-count="{row["count"]}" data-fixable="{row["fixable_count"]}">'
        f"<td>{_rule_link(row['code'], row['name'], docs)}</td><td>{escape(row['name'])}</td>"
        f'<td class="n">{row["count"]}</td><td class="n">{row["fixable_count"]}</td></tr>'
        for row in rows
    )
    return (
        "<h2>Findings by rule</h2>"
        '<table id="rules"><tr><th>Rule</th><th>Name</th><th class="n">Findings</th>'
        f'<th class="n">Fixed by <code>--fix</code></th></tr>{body}</table>'
    )


def _findings(reports: Sequence[output.FileReport], base: Path, docs: str) -> str:
    ordered = sorted((r for r in reports if r.findings), key=lambda r: (-len(r.findings), r.path))
    if not ordered:
        return ""
    sections = []
    for report in ordered:
        # A URL: a `#`, `?` or `%` in a file name must not be read as URL syntax.
        href = escape(quote(Path(os.path.relpath(Path(report.path).absolute(), base)).as_posix()))
        rows = []
        for finding, cell, _ in report.items():
            row = finding.start.line + 1
            where = f"cell {cell}, line {row}" if cell is not None else f"line {row}"
            # A notebook's rows are within a cell, not lines of the file: link the file only.
            link = href if cell is not None else f"{href}#L{row}"
            kind = fix_kind(finding, report.unsafe)
            rows.append(
                f'<tr><td><a href="{link}">{escape(where)}</a></td>'
                f"<td>{_rule_link(finding.code, finding.name, docs)}</td><td>{escape(finding.message)}</td>"
                f'<td class="kind-{kind}">{escape(KIND_LABELS[kind])}</td></tr>'
            )
        sections.append(
            f'<details id="{escape(_anchor(report.path))}"><summary><code>{escape(report.path)}</code>: '
            f"{_plural(len(report.findings), 'finding')}</summary><table><tr><th>Where</th><th>Rule</th>"
            f"<th>Message</th><th>Fix</th></tr>{''.join(rows)}</table></details>"
        )
    return "<h2>Every finding</h2>" + "".join(sections)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _unchecked(rows: list[dict]) -> str:
    if not rows:
        return ""
    items = "".join(f"<li><code>{escape(row['path'])}</code>: {escape(row['reason'])}</li>" for row in rows)
    return f"<h2>Files not checked</h2><ul>{items}</ul>"
