"""An editor's incremental lint, with every rule, equals a fresh whole-file lint.

`IncrementalLinter` (what the language server runs on each edit) re-lints only the top-level
statements an edit touched and keeps the other findings. Its answer must be the answer of a
whole-file lint of the same text: same codes, ranges, messages and fix edits. Checked with
every registered rule on every rule's examples and on the shipped programs, for an edit inside
each statement (a comment, a blank line, a changed number, the statement deleted and put
back), each linted from the state the previous version left (so the next edit also undoes it),
and at last the original text again.
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

import pytest

from kerasfix.rules import Settings, all_rules, lint
from kerasfix.rules.engine.incremental import IncrementalLinter
from kerasfix.rules.engine.model import SYNTAX_ERROR_CODE

TESTS = Path(__file__).parent
PROGRAMS = sorted((TESTS / "examples").glob("*.py")) + sorted((TESTS / "programs" / "keras2").glob("*.py"))
RULES = [r for r in all_rules() if r.code != SYNTAX_ERROR_CODE]
# Every rule, with the oldest Keras 3 and every backend, so version- and backend-gated rules
# run too.
SETTINGS = Settings(select=("ALL",), keras_version=(3, 0, 0))


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    """A project folder holding nothing else: what surrounds the tests cannot change the
    rules' answers (some depend on where the project saves models)."""
    root = tmp_path_factory.mktemp("incremental")
    (root / "pyproject.toml").write_text("")
    return root


def _line_starts(text: str) -> list[int]:
    starts = [0]
    for line in text.splitlines(keepends=True):
        starts.append(starts[-1] + len(line))
    return starts


def _numbers(text: str) -> list[tuple[int, int]]:
    """(line, end column) of each number token."""
    found = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NUMBER and token.string[-1].isdigit():
                found.append(token.end)
    except (tokenize.TokenError, SyntaxError):
        pass
    return found


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except (SyntaxError, ValueError):
        return False
    return True


KINDS = ("comment", "blank line", "number", "deleted and put back")
# In the programs, one statement in this many inside functions and classes is edited.
NESTED = 8


def _versions(text: str, stmt: ast.stmt, kind: str, starts: list[int], numbers) -> list[str]:
    lines = text.splitlines(keepends=True)
    first, last = stmt.lineno, stmt.end_lineno or stmt.lineno
    if kind == "number":
        inside = [(ln, col) for ln, col in numbers if (first, stmt.col_offset) <= (ln, col) <= (last, stmt.end_col_offset or 0)]
        if not inside:
            kind = "comment"
        else:
            ln, col = inside[0]
            at = starts[ln - 1] + col
            return [text[:at] + "0" + text[at:]]  # 2 -> 20, 0.5 -> 0.50
    if kind == "comment":
        at = starts[last - 1] + len(lines[last - 1].rstrip("\r\n"))
        return [text[:at] + "  # edited" + text[at:]]
    if kind == "blank line":
        return [text[: starts[first - 1]] + "\n" + text[starts[first - 1] :]]
    return [text[: starts[first - 1]] + text[starts[last] :], text]


def edits(text: str, programs: bool = False) -> list[tuple[str, list[str]]]:
    """Versions of `text` edited inside its statements, to be linted in turn: (what was edited,
    the versions). Each top-level statement of an example gets every kind of edit; in a
    program (`programs`), each top-level statement and each `NESTED`th statement inside a
    function or class gets one, the kinds taking turns. Only versions that parse are kept."""
    starts = _line_starts(text)
    numbers = _numbers(text)
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return []  # an example of text that does not parse: only its first lint is compared
    if programs:
        inner = [n for top in tree.body for n in ast.walk(top) if isinstance(n, ast.stmt) and n is not top]
        picked = list(tree.body) + inner[::NESTED]
        chosen = [(stmt, KINDS[i % len(KINDS)]) for i, stmt in enumerate(picked)]
    else:
        chosen = [(stmt, kind) for stmt in tree.body for kind in KINDS]
    out = []
    for stmt, kind in chosen:
        versions = [v for v in _versions(text, stmt, kind, starts, numbers) if v.strip() and _parses(v)]
        if versions:
            out.append((f"line {stmt.lineno} {kind}", versions))
    return out


def _shown(f) -> str:
    fix = [(e.start, e.end, e.content) for e in f.fix.edits] if f.fix else None
    return f"{f.code} at {f.span.start}-{f.span.end} (line {f.span.start_pos.line + 1}) {f.message[:50]!r} fix={fix}"


def check(name: str, text: str, path: str, programs: bool = False) -> list[str]:
    """Lint each edited version from the state the previous one left (an edit followed by the
    next undoes it: the findings of both statements change), and each against a whole-file
    lint. Returns how each version was served."""
    linter = IncrementalLinter(path, SETTINGS)
    assert linter.lint(text) == lint(text, path, SETTINGS)
    modes = []
    for label, versions in [*edits(text, programs), ("the original text again", [text])]:
        for version in versions:
            got = linter.lint(version)
            modes.append(linter.last_mode)
            expected = lint(version, path, SETTINGS)
            if got != expected:
                missing = [_shown(f) for f in expected if f not in got]
                stale = [_shown(f) for f in got if f not in expected]
                pytest.fail(
                    f"{name}: {label}, re-linted as {linter.last_mode!r}: missing {missing}; stale or wrong {stale}",
                    pytrace=False,
                )
    return modes


EXAMPLES = [
    pytest.param(rule, i, example, id=f"{rule.code}-{i}")
    for rule in RULES
    for i, example in enumerate(rule.examples)
]


@pytest.mark.parametrize("rule, index, example", EXAMPLES)
def test_rule_example_edited_statement_by_statement(rule, index, example, project):
    check(f"{rule.code} example {index}", example.source, str(project / "example.py"))


@pytest.mark.parametrize("program", PROGRAMS, ids=lambda p: p.name)
def test_program_edited_statement_by_statement(program, project):
    path = str(project / program.name)
    modes = check(program.name, program.read_text(encoding="utf-8"), path, programs=True)
    assert len(modes) > 10, "the program was hardly edited"
