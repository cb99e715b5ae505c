"""Findings as LSP diagnostics, and the code actions built from them.

Each diagnostic carries its fix in `data` (edits already in the client's position encoding), so
a quick fix needs no lint of its own. A fix is offered only for a diagnostic the server
published for the document's current text, so its edits always apply to that text.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from lsprotocol import types

from kerasfix.rules.engine.codes import known_code, rule_names
from kerasfix.rules.engine.model import Finding, Severity
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
    data: dict[str, Any] = {"id": diagnostic_id(finding), "name": finding.name}
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


def diagnostic_id(finding: Finding) -> str:
    """The id in a diagnostic's `data`: clients echo `data` back unchanged, while some (Neovim
    0.7-0.10) send the range in bytes rather than in the negotiated encoding. Made of the code
    and the span in code points, it names the same finding in every lint of a text, and none
    once an edit moved it."""
    start, end = finding.span.start_pos, finding.span.end_pos
    return f"{finding.code}@{start.line}:{start.character}-{end.line}:{end.character}"


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


def _before(a: types.Position, b: types.Position) -> bool:
    return (a.line, a.character) < (b.line, b.character)


def _overlap(a: types.Range, b: types.Range) -> bool:
    """Whether two ranges share a character, or an empty one touches the other."""
    start = b.start if _before(a.start, b.start) else a.start
    end = a.end if _before(a.end, b.end) else b.end
    if a.start == a.end or b.start == b.end:
        return not _before(end, start)
    return _before(start, end)


def published_for(diagnostic: types.Diagnostic, published: Sequence[types.Diagnostic]) -> types.Diagnostic | None:
    """The published diagnostic a client's diagnostic stands for, if the server published it
    for the current text (a client may send diagnostics of an older text).

    By the id in `data`: the client's range may be in other units (Neovim 0.7-0.10 sends byte
    columns). A client that drops `data` gets the published one of the same code whose range is
    the same, or else overlaps it.
    """
    data = diagnostic.data
    if isinstance(data, dict) and "id" in data:
        # An id of an older text finds nothing: its fix would not apply to this one.
        return next((p for p in published if isinstance(p.data, dict) and p.data.get("id") == data["id"]), None)
    same_code = [p for p in published if p.code == diagnostic.code]
    for candidate in same_code:
        if candidate.range == diagnostic.range:
            return candidate
    return next((p for p in same_code if _overlap(p.range, diagnostic.range)), None)


def _fix_data(diagnostic: types.Diagnostic, published: Sequence[types.Diagnostic]) -> dict | None:
    """The fix of a diagnostic the server published for the current text."""
    candidate = published_for(diagnostic, published)
    if candidate is None or not isinstance(candidate.data, dict):
        return None
    return candidate.data.get("fix")


def fix_title(code: str, fix: dict) -> str:
    """A fix's action title: what the edit does, and for an unsafe fix that it may change what
    the program does."""
    if fix["safe"]:
        return f"{code}: {fix['title']}"
    return f"{code}: Unsafe fix: {fix['title']} (may change behaviour)"


def quick_fixes(
    uri: str,
    version: int | None,
    lines: Lines,
    diagnostics: Sequence[types.Diagnostic],
    published: Sequence[types.Diagnostic],
    unsafe_allowed: bool,
) -> list[types.CodeAction | types.Command]:
    """A fix, a "disable for this line" and a "show documentation" action per finding.

    An unsafe fix is offered too, whatever `unsafe_allowed` says (it governs fix-all only):
    titled as unsafe and never preferred, it is applied only by someone who picked it."""
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
        if fix_data is not None:
            actions.append(
                types.CodeAction(
                    title=fix_title(code, fix_data),
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
        if code not in docs_done and known_code(code) is not None:
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
    known = known_code(code)
    return rule_url(known, rule_names()[known], base) if known is not None else None
