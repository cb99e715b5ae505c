"""Findings as LSP diagnostics, and the code actions built from them.

Each diagnostic carries its fix in `data` (edits already in the client's position encoding), so
a quick fix needs no lint of its own. A fix is offered only for a diagnostic the server
published for the document's current text, so its edits always apply to that text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from lsprotocol import types

from kerasfix.rules import Finding, Severity, rule_by_code
from kerasfix.rules.engine.model import DOCS_URL, SYNTAX_ERROR_CODE, rule_url
from kerasfix.rules.engine.noqa import add_noqa

from .lsp_text import Lines, changed_region

SOURCE = "kerasfix"
FIX_ALL_KIND = "source.fixAll.kerasfix"
OPEN_DOCS_COMMAND = "kerasfix.openRuleDocs"

_SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
    Severity.HINT: types.DiagnosticSeverity.Hint,
}


def to_diagnostic(finding: Finding, lines: Lines, docs_url: str = DOCS_URL) -> types.Diagnostic:
    """`docs_url`: the base of the rule's page in `codeDescription` (the `docsUrl` setting)."""
    data: dict[str, Any] = {"name": finding.name}
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
        code_description=None if is_syntax else types.CodeDescription(href=rule_url(finding.code, finding.name, docs_url)),
        source=SOURCE,
        tags=[types.DiagnosticTag.Deprecated] if finding.deprecated else None,
        data=data,
    )


class DiagnosticCache:
    """Diagnostics of one document, and their JSON form, reused for findings that did not
    change between lints.

    An edit re-lints one statement and moves the other findings, most of them to where they
    were: converting and serializing thousands of identical diagnostics would cost more than
    the lint. In a pure-ASCII text a finding's code-point positions are its positions in every
    encoding, so an equal finding gives an equal diagnostic; other texts are converted afresh.
    """

    def __init__(self, unstructure: Callable[[Any], Any]) -> None:
        self._unstructure = unstructure
        self._known: dict[tuple, tuple[types.Diagnostic, Any]] = {}
        self._docs_url = DOCS_URL

    def convert(
        self, findings: Sequence[Finding], lines: Lines, docs_url: str = DOCS_URL
    ) -> tuple[list[types.Diagnostic], list[Any]]:
        """The diagnostics, and the same as JSON-ready objects."""
        if docs_url != self._docs_url:
            # Every diagnostic's link changed with the setting.
            self._known, self._docs_url = {}, docs_url
        reuse = lines.text.isascii()
        previous = self._known if reuse else {}
        known: dict[tuple, tuple[types.Diagnostic, Any]] = {}
        diagnostics, wire = [], []
        for finding in findings:
            key = _looks(finding)
            pair = known.get(key) or previous.get(key)
            if pair is None:
                diagnostic = to_diagnostic(finding, lines, docs_url)
                pair = (diagnostic, self._unstructure(diagnostic))
            known[key] = pair
            diagnostics.append(pair[0])
            wire.append(pair[1])
        self._known = known if reuse else {}
        return diagnostics, wire


def _looks(finding: Finding) -> tuple:
    """What a finding's diagnostic is made of: lines and columns, not offsets (an edit above
    moves every offset below it but rarely a line's columns)."""
    fix = finding.fix
    fix_key = None
    if fix is not None:
        fix_key = (
            fix.title,
            fix.applicability,
            tuple((e.start_pos, e.end_pos, e.content) if e.start_pos else (e.start, e.end, e.content) for e in fix.edits),
        )
    return (
        finding.code,
        finding.message,
        finding.span.start_pos,
        finding.span.end_pos,
        finding.severity,
        finding.deprecated,
        finding.note,
        fix_key,
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


def _fix_data(diagnostic: types.Diagnostic, published: Iterable[types.Diagnostic]) -> dict | None:
    """The fix of a diagnostic, if it is one the server published for the current text (a
    client may send diagnostics of an older text, or drop their `data`)."""
    for candidate in published:
        if candidate.code == diagnostic.code and _same_range(candidate.range, diagnostic.range):
            return candidate.data.get("fix") if isinstance(candidate.data, dict) else None
    return None


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
        fix_data = _fix_data(diagnostic, published)
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


def fix_all_edits(text: str, fixed: str, encoding: str) -> list[types.TextEdit]:
    """One edit replacing the smallest region where `fixed` (the text with every fix applied)
    differs from `text`; none when they are equal."""
    if fixed == text:
        return []
    start, old_end, new_end = changed_region(text, fixed)
    return [types.TextEdit(range=Lines(text, encoding).range(start, old_end), new_text=fixed[start:new_end])]


def fix_all_action(uri: str, version: int | None, edits: list[types.TextEdit], unsafe: bool) -> types.CodeAction:
    title = "Fix all kerasfix problems" + (" (including unsafe fixes)" if unsafe else "")
    return types.CodeAction(title=title, kind=FIX_ALL_KIND, edit=_document_edit(uri, version, edits))


def docs_url(code: str, base: str = DOCS_URL) -> str | None:
    rule = rule_by_code(code)
    return rule_url(rule.code, rule.name, base) if rule is not None else None
