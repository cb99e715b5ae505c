"""`check --add-noqa`: a `# noqa: CODE` comment on each line with findings, as Ruff adds them."""

from __future__ import annotations

import io
import tokenize
from collections.abc import Iterable
from dataclasses import dataclass

from kerasfix.rules import Finding
from kerasfix.rules.engine.model import NOT_CHECKED_CODE, SYNTAX_ERROR_CODE
from kerasfix.rules.engine.noqa import add_noqa
from kerasfix.rules.engine.positions import LineIndex

# A file that was not parsed has no line a comment could silence.
_UNSILENCEABLE = frozenset({SYNTAX_ERROR_CODE, NOT_CHECKED_CODE})


@dataclass(frozen=True)
class NoqaEdit:
    text: str  # the new text of the file
    added: int  # lines given a new or a longer noqa comment
    # 1-based lines with findings that a comment cannot go on: they end inside a string that
    # goes on over several lines, or with a backslash continuation.
    skipped: tuple[int, ...]


def add_noqa_comments(text: str, findings: Iterable[Finding], python: str | None = None) -> NoqaEdit:
    """`text` with the codes of `findings` added to the noqa comment of the line each starts
    on: the line the engine reads a noqa comment from.

    `python` is the text as the engine parsed it, when that differs from `text` (a notebook
    cell whose IPython lines the engine reads as comments); it has the same lines."""
    by_line: dict[int, set[str]] = {}
    for finding in findings:
        if finding.code not in _UNSILENCEABLE:
            by_line.setdefault(finding.span.start_pos.line, set()).add(finding.code)
    if not by_line:
        return NoqaEdit(text, 0, ())
    # Lines split as the engine splits them, so that a finding's line is the line changed.
    index = LineIndex(text)
    lines = [index.line_text(number) for number in range(len(index.starts))]
    open_ends = _lines_ending_in_code(text if python is None else python)
    added = 0
    skipped = []
    for index in sorted(by_line):
        if index >= len(lines):
            continue
        if index + 1 not in open_ends:
            skipped.append(index + 1)
            continue
        line = lines[index]
        # One code at a time, in order: the engine's `add_noqa` merges each with the comment
        # already there and leaves a code that is present (or a bare `# noqa`) alone.
        for code in sorted(by_line[index]):
            line = add_noqa(line, code)
        if line != lines[index]:
            lines[index] = line
            added += 1
    return NoqaEdit("".join(lines), added, tuple(skipped))


def _lines_ending_in_code(text: str) -> set[int]:
    """The 1-based lines whose end is outside any string and not a backslash continuation:
    tokenize ends each of them with a NEWLINE or NL token."""
    source = text[1:] if text.startswith("\ufeff") else text
    ends = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.NEWLINE, tokenize.NL):
                ends.add(token.start[0])
    except (tokenize.TokenError, SyntaxError):
        pass  # the lines read before the error are still known
    return ends
