"""Findings as LSP diagnostics, and the code actions built from them.

Each diagnostic carries its fix in `data` (edits already in the client's position encoding and
the document version they apply to), so a quick fix needs no lint of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from lsprotocol import types

from kerasfix.rules import Finding, Severity, fix, rule_by_code
from kerasfix.rules.model import SYNTAX_ERROR_CODE, rule_url
from kerasfix.rules.noqa import add_noqa

from .lsp_linting import changed_region
from .lsp_text import Lines

SOURCE = "kerasfix"
FIX_ALL_KIND = "source.fixAll.kerasfix"
OPEN_DOCS_COMMAND = "kerasfix.openRuleDocs"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def to_diagnostic(finding: Finding, lines: Lines, version: int | None) -> types.Diagnostic:
    data: dict[str, Any] = {"version": version, "name": finding.name}
    if finding.note:
        data["note"] = finding.note
    if finding.fix is not None:
        data["fix"] = {
            "title": finding.fix.title,
            "safe": finding.fix.is_safe,
            "edits": [_edit_data(lines.range(e.start, e.end), e.content) for e in finding.fix.edits],
        }
    is_syntax = finding.code == SYNTAX_ERROR_CODE
    return types.Diagnostic(
        range=lines.range(finding.span.start, finding.span.end),
        message=finding.message,
        severity=_SEVERITY[finding.severity],
        code=finding.code,
        code_description=None if is_syntax else types.CodeDescription(href=finding.url),
        source=SOURCE,
        tags=[types.DiagnosticTag.Deprecated] if finding.deprecated else None,
        data=data,
    )


def _edit_data(where: types.Range, text: str) -> list[Any]:
    return [where.start.line, where.start.character, where.end.line, where.end.character, text]


def _text_edit(data: Sequence[Any]) -> types.TextEdit:
    start_line, start_char, end_line, end_char, text = data
    return types.TextEdit(
        range=types.Range(types.Position(start_line, start_char), types.Position(end_line, end_char)),
        new_text=text,
    )


def _document_edit(uri: str, version: int | None, edits: list[types.TextEdit]) -> types.WorkspaceEdit:
    return types.WorkspaceEdit(
        document_changes=[
            types.TextDocumentEdit(
                text_document=types.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version),
                edits=edits,
            )
        ]
    )


def _same_range(a: types.Range, b: types.Range) -> bool:
    return a.start == b.start and a.end == b.end


def _fix_data(diagnostic: types.Diagnostic, published: Iterable[types.Diagnostic], version: int | None) -> dict | None:
    """The fix of a diagnostic: from its own `data` when it describes the current version, else
    from the diagnostic we published at the same place (clients that drop `data`)."""
    data = diagnostic.data if isinstance(diagnostic.data, dict) else None
    if data is None:
        for candidate in published:
            if candidate.code == diagnostic.code and _same_range(candidate.range, diagnostic.range):
                data = candidate.data
                break
    if not data or data.get("version") != version:
        return None
    return data.get("fix")


def quick_fixes(
    uri: str,
    version: int | None,
    lines: Lines,
    diagnostics: Sequence[types.Diagnostic],
    published: Sequence[types.Diagnostic],
    unsafe_allowed: bool,
) -> list[types.CodeAction | types.Command]:
    """A fix, a "disable for this line" and a "show documentation" action per finding."""
    actions: list[types.CodeAction | types.Command] = []
    noqa_done: set[tuple[int, str]] = set()
    docs_done: set[str] = set()
    for diagnostic in diagnostics:
        if diagnostic.source != SOURCE or not isinstance(diagnostic.code, str):
            continue
        code = diagnostic.code
        if code == SYNTAX_ERROR_CODE:
            continue
        fix_data = _fix_data(diagnostic, published, version)
        if fix_data is not None and (fix_data["safe"] or unsafe_allowed):
            title = fix_data["title"] if fix_data["safe"] else f"{fix_data['title']} (unsafe fix)"
            actions.append(
                types.CodeAction(
                    title=f"{code}: {title}",
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[diagnostic],
                    is_preferred=bool(fix_data["safe"]),
                    edit=_document_edit(uri, version, [_text_edit(e) for e in fix_data["edits"]]),
                )
            )
        line = diagnostic.range.start.line
        if (line, code) not in noqa_done and line < len(lines.starts):
            noqa_done.add((line, code))
            current = lines.line_text(line)
            updated = add_noqa(current, code)
            if updated != current:
                end = types.Position(line, lines.position(lines.starts[line] + len(current)).character)
                actions.append(
                    types.CodeAction(
                        title=f"Disable {code} for this line",
                        kind=types.CodeActionKind.QuickFix,
                        diagnostics=[diagnostic],
                        edit=_document_edit(
                            uri, version, [types.TextEdit(types.Range(types.Position(line, 0), end), updated)]
                        ),
                    )
                )
        if code not in docs_done and rule_by_code(code) is not None:
            docs_done.add(code)
            # A bare Command (allowed in a code action result): every client runs it.
            actions.append(types.Command(title=f"Show documentation for {code}", command=OPEN_DOCS_COMMAND, arguments=[code]))
    return actions


def fix_all_edits(text: str, path: str | None, settings, unsafe: bool, encoding: str) -> list[types.TextEdit]:
    """One edit replacing the smallest region that applying every fix changes; none when
    nothing is fixable."""
    fixed = fix(text, path, settings, unsafe=unsafe).source
    if fixed == text:
        return []
    change = changed_region(text, fixed)
    lines = Lines(text, encoding)
    return [
        types.TextEdit(
            range=lines.range(change.start, change.start + change.length),
            new_text=fixed[change.start : change.start + change.new_length],
        )
    ]


def fix_all_action(uri: str, version: int | None, edits: list[types.TextEdit], unsafe: bool) -> types.CodeAction:
    title = "Fix all kerasfix problems" + (" (including unsafe fixes)" if unsafe else "")
    return types.CodeAction(title=title, kind=FIX_ALL_KIND, edit=_document_edit(uri, version, edits))


def docs_url(code: str) -> str | None:
    rule = rule_by_code(code)
    return rule_url(rule.code, rule.name) if rule is not None else None
