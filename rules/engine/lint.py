"""`lint` and `fix`: the whole engine as the CLI and the language server call it."""

from __future__ import annotations

import gc
import re
import sys
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterator

import libcst as cst

from . import python_ast
from .backend_scope import in_backend_scope
from .context import Context
from .edits import FixSpec, Replace
from .model import (
    NOT_CHECKED_CODE,
    SYNTAX_ERROR_CODE,
    Applicability,
    Edit,
    Finding,
    Fix,
    Span,
)
from .names import import_bindings
from .noqa import suppressed
from .positions import LineIndex, locate
from .project import project_for
from .registry import all_rules
from .rule import Rule
from .settings import Settings, parse_version
from .syntax import MAX_FILE_SIZE, NotCheckedRule, SyntaxErrorRule, Unparsable, check_parsable, check_size
from .walker import SOURCE_TEXT, build_dispatch, walk

# A file none of whose words is one of these cannot hold a finding (unless it subclasses a
# project's Keras class, see `relevant`): skip it without parsing.
RELEVANT = re.compile(r"keras|tensorflow|\btf\b|flax|jax|orbax")


def relevant(source: str, path: str | None) -> bool:
    """Whether the text may hold a finding: it names Keras, TensorFlow, JAX or Flax, or, in a
    project, one of its classes derives from a Keras class of another module (`class
    PairDistance(BaseLayer)` after `from .base import BaseLayer`, naming no Keras at all). The
    second is asked of the project index, which reads the module as last saved or overlaid."""
    if RELEVANT.search(source):
        return True
    if path is None or "class" not in source:
        return False
    project = project_for(path)
    name = project.name if project is not None else None
    if name is None:
        return False
    try:
        info = project.index.module(name)  # type: ignore[union-attr]
        return info is not None and any(project.is_keras_class(f"{name}.{klass}") for klass in info.classes)  # type: ignore[union-attr]
    except (OSError, RecursionError, ValueError):
        return False

# Deep nesting (hundreds of brackets) needs more than Python's default 1,000 frames.
_RECURSION_LIMIT = 20_000

BOM = "\ufeff"

# The findings the engine itself reports, never a rule: the file could not be checked.
_STRING_NODES = (cst.SimpleString, cst.ConcatenatedString, cst.FormattedString)
_ENGINE_RULES = {SYNTAX_ERROR_CODE: SyntaxErrorRule, NOT_CHECKED_CODE: NotCheckedRule}
ENGINE_CODES = frozenset(_ENGINE_RULES)


@dataclass(frozen=True)
class FixResult:
    source: str
    applied: int
    remaining: list[Finding]
    # Findings whose fix was dropped because it did not leave valid Python.
    rejected: int = 0
    # The findings of the text before any fix (the first pass's lint).
    initial: list[Finding] = field(default_factory=list)


def enabled_rules(settings: Settings) -> tuple[Rule, ...]:
    return _enabled_rules(settings.select, settings.extend_select, settings.ignore,
                          settings.target_backends, settings.keras_version)


@lru_cache(maxsize=64)
def _enabled_rules(select, extend_select, ignore, backends, keras_version) -> tuple[Rule, ...]:
    probe = Settings(select=select, extend_select=extend_select, ignore=ignore)
    chosen = []
    for rule in all_rules():
        if rule.code in ENGINE_CODES or not probe.enabled(rule.code):
            continue
        if not rule.backends & backends:
            continue
        if rule.fixed_in and keras_version >= parse_version(rule.fixed_in):
            continue
        if rule.introduced_in and keras_version < parse_version(rule.introduced_in):
            continue
        chosen.append(rule)
    return tuple(chosen)


@lru_cache(maxsize=64)
def dispatch_table(rules: tuple[Rule, ...]):
    """The rules to call for each node type, built once per selection of rules."""
    return build_dispatch(rules)


@contextmanager
def engine_conditions() -> Iterator[None]:
    """No garbage collection during a lint (it only finds young trees to walk again), and room
    for deeply nested code."""
    was_enabled = gc.isenabled()
    gc.disable()
    limit = sys.getrecursionlimit()
    if limit < _RECURSION_LIMIT:
        sys.setrecursionlimit(_RECURSION_LIMIT)
    try:
        yield
    finally:
        if limit < _RECURSION_LIMIT:
            sys.setrecursionlimit(limit)
        if was_enabled:
            gc.enable()


def lint(
    source: str,
    path: str | None = None,
    settings: Settings | None = None,
    *,
    rules: Sequence[Rule] | None = None,
) -> list[Finding]:
    """Every finding in `source`, sorted by position. Never raises for bad input: a file that
    does not parse gives one syntax-error finding.

    `rules` replaces the registered rule set (for testing a rule or the engine alone)."""
    settings = settings or Settings()
    if not relevant(source, path):
        return []
    with engine_conditions():
        # The tree is built and dropped inside `_lint`: freed before the garbage collector is
        # on again, it is never traversed by a collection.
        return _lint(source, path, settings, rules)


def _lint(source: str, path: str | None, settings: Settings, rules: Sequence[Rule] | None) -> list[Finding]:
    shift = 1 if source.startswith(BOM) else 0
    text = source[shift:]
    try:
        module = parse_module(text, settings.max_file_size)
    except cst.ParserSyntaxError as error:
        return [syntax_finding(source, text, shift, error)]
    except Unparsable as error:
        return [unparsable(source, error.why, error.offset + shift, error.code)]
    except (RecursionError, MemoryError) as error:
        return [unparsable(source, exhausted_while("parsing", error))]
    except UnicodeError as error:
        # A lone surrogate (from a bad decode) cannot be handed to the parser.
        why = f"it holds text that is not valid Unicode ({error.reason})"
        return [unparsable(source, why, 0, SYNTAX_ERROR_CODE)]
    ctx = Context(module, settings, path, project=project_for(path))
    try:
        ctx.shared[SOURCE_TEXT] = text
        run_rules(ctx, rules)
        if not ctx.pending:
            return []
        return finish(ctx, text, shift, LineIndex(source), None)
    except (RecursionError, MemoryError) as error:
        return [unparsable(source, exhausted_while("checking", error))]
    finally:
        # Shared facts may hold the context (a fact finder keeps its `ctx`): that cycle would
        # keep the whole tree alive until the garbage collector finds it.
        ctx.shared.clear()


def exhausted_while(step: str, error: BaseException) -> str:
    """Why a file was not checked when Python ran out of stack or memory during `step`."""
    if isinstance(error, MemoryError):
        return f"memory ran out while {step} it"
    return f"it is nested too deeply for {step} it (RecursionError)"


def parse_module(text: str, max_size: int = MAX_FILE_SIZE) -> cst.Module:
    """LibCST's parse, refused (`Unparsable`) for text over `max_size` characters, or that
    would crash or stall it."""
    check_size(text, max_size)
    check_parsable(text)
    return cst.parse_module(text)


def run_rules(ctx: Context, rules: Sequence[Rule] | None = None) -> None:
    chosen = enabled_rules(ctx.settings) if rules is None else tuple(rules)
    walk(ctx.module, ctx, dispatch_table(chosen))


@dataclass(frozen=True)
class ImportSite:
    """Where fixes add imports (an offset in the whole text) and what the module imports."""

    offset: int | None
    existing: frozenset[tuple[str, str]]


def finish(
    ctx: Context,
    text: str,
    shift: int,
    lines: LineIndex,
    import_site: ImportSite | None,
) -> list[Finding]:
    """Findings for the rules' reports: located in `text` (the parsed text, which starts at
    offset `shift` of the whole text `lines` describes), noqa applied, fixes rendered.

    `import_site` is given when `text` is only a part of the file; otherwise it is found in the
    module."""
    module, settings, path = ctx.module, ctx.settings, ctx.path
    pending = [p for p in ctx.pending if not settings.ignored_for_path(p.rule.code, path)]
    pending = in_backend_scope(ctx, pending, text)
    if not pending:
        return []
    anchor = None
    if import_site is None and any(p.fix and p.fix.imports for p in pending):
        anchor = import_anchor(module)
    requests: list[tuple[cst.CSTNode, Sequence[cst.CSTNode]]] = []
    for item in pending:
        requests.append((item.node, item.chain))
        if item.end is not None:
            requests.append((item.end, item.chain))
        if item.fix is not None:
            for edit in item.fix.edits:
                requests.append((edit.node, item.chain))
                if isinstance(edit, Replace) and edit.end is not None:
                    requests.append((edit.end, item.chain))
    if anchor is not None:
        requests.append((anchor[0], (module,)))
    offsets = locate(module, text, requests)
    if import_site is None:
        at = None
        if anchor is not None and id(anchor[0]) in offsets:
            where = offsets[id(anchor[0])]
            at = (where[1] if anchor[1] else where[0]) + shift
        import_site = ImportSite(at, frozenset(existing_imports(module)))
    findings: list[Finding] = []
    seen: set[tuple[str, int, int]] = set()
    for item in pending:
        where = offsets.get(id(item.node))
        if where is None:
            continue
        if item.end is not None:
            end_where = offsets.get(id(item.end))
            if end_where is None:
                continue
            where = (where[0], end_where[1])
        start, end = where[0] + shift, where[1] + shift
        start_pos = lines.position(start)
        if suppressed(lines.line_text(start_pos.line), item.rule.code):
            continue
        key = (item.rule.code, start, end)
        if key in seen:
            continue
        seen.add(key)
        fix = None
        if item.fix is not None:
            fix = _render_fix(module, item.fix, offsets, shift, lines, import_site)
        findings.append(
            Finding(
                code=item.rule.code,
                name=item.rule.name,
                message=item.message,
                span=Span(start, end, start_pos, lines.position(end)),
                severity=settings.severity_for(item.rule.code, item.rule.severity),
                fix=fix,
                # The removed API itself, not a string literal a rule points at (a saving
                # call's path): editors strike deprecated code through.
                deprecated=item.rule.deprecated and not isinstance(item.node, _STRING_NODES),
                note=item.note,
                backends=item.rule.backends if item.backends is None else item.rule.backends & item.backends,
            )
        )
    findings.sort(key=lambda f: (f.span.start, f.code))
    return findings


def _render_fix(
    module: cst.Module,
    spec: FixSpec,
    offsets: dict[int, tuple[int, int]],
    shift: int,
    lines: LineIndex,
    import_site: ImportSite,
) -> Fix | None:
    newline = module.default_newline
    edits: list[Edit] = []
    for edit in spec.edits:
        where = offsets.get(id(edit.node))
        if where is None:
            return None
        if isinstance(edit, Replace):
            start, end = where
            if edit.end is not None:
                end_where = offsets.get(id(edit.end))
                if end_where is None:
                    return None
                end = end_where[1]
            content = edit.content
            if isinstance(content, cst.CSTNode):
                content = module.code_for_node(content)
            else:
                content = _newlines(content, newline)
        else:
            start = end = where[1] if edit.after else where[0]
            content = _newlines(edit.text, newline)
        edits.append(Edit(start + shift, end + shift, content))
    missing = [line for line in spec.imports if _import_key(line) - import_site.existing]
    if missing:
        if import_site.offset is None:
            return None
        at = import_site.offset
        # First, so that the stable sort puts it before any other insertion at the same place
        # (a decorator added to a class right after the imports goes after the new import).
        edits.insert(0, Edit(at, at, "".join(line + newline for line in missing)))
    edits.sort(key=lambda e: (e.start, e.end))
    positioned = tuple(
        Edit(e.start, e.end, e.content, lines.position(e.start), lines.position(e.end)) for e in edits
    )
    return Fix(spec.title, spec.applicability, positioned)


def _newlines(text: str, newline: str) -> str:
    if newline == "\n" or "\n" not in text:
        return text
    return re.sub(r"\r?\n", newline, text)


@lru_cache(maxsize=1024)
def _import_key(line: str) -> frozenset[tuple[str, str]]:
    """The names an import line of a fix binds; the lines are a few fixed texts, parsed once."""
    try:
        statement = cst.parse_statement(line)
    except cst.ParserSyntaxError:
        return frozenset()
    keys: set[tuple[str, str]] = set()
    for small in getattr(statement, "body", ()):
        if isinstance(small, (cst.Import, cst.ImportFrom)):
            keys.update(import_bindings(small))
    return frozenset(keys)


def existing_imports(module: cst.Module) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for stmt in module.body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, (cst.Import, cst.ImportFrom)):
                    keys.update(import_bindings(small))
    return keys


def _is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def import_anchor(module: cst.Module) -> tuple[cst.CSTNode, bool] | None:
    """Where new imports go: after the module's leading imports (or its docstring), else before
    the first statement. The bool says "after the node"."""
    body = list(module.body)
    if not body:
        return None
    index = 1 if _is_docstring(body[0]) else 0
    last: cst.CSTNode | None = body[0] if index == 1 else None
    while index < len(body):
        stmt = body[index]
        if isinstance(stmt, cst.SimpleStatementLine) and all(
            isinstance(s, (cst.Import, cst.ImportFrom)) for s in stmt.body
        ):
            last = stmt
            index += 1
        else:
            break
    if last is not None:
        return last, True
    first = body[0]
    if isinstance(first, cst.SimpleStatementLine):
        return first.body[0], False
    return first, False


def syntax_finding(source: str, text: str, shift: int, error: cst.ParserSyntaxError) -> Finding:
    """A finding at the place Python's own parser names (it is more precise than LibCST's).

    When Python accepts the text that LibCST rejected, the text is valid but not checked."""
    line, column, message = error.raw_line, error.raw_column, error.message
    try:
        python_ast.parse(text)
    except SyntaxError as python_error:
        if python_error.lineno:
            line = python_error.lineno
            column = max((python_error.offset or 1) - 1, 0)
            message = python_error.msg
    except (ValueError, RecursionError, MemoryError):
        pass
    else:
        return _valid_but_unreadable(source, error)
    lines = LineIndex(source)
    nul = text.find("\0")
    if nul >= 0 and ("null bytes" in message or "'\\0'" in message):
        # Neither parser says where a NUL byte is (LibCST stops at 1:0, Python gives no
        # line): point at the first one.
        where = lines.position(nul + shift)
        line, column = where.line + 1, where.character - (shift if where.line == 0 else 0)
    line_index = min(max(line - 1, 0), len(lines.starts) - 1)
    line_text = lines.line_text(line_index).rstrip("\r\n")
    column = min(column, len(line_text))
    start = lines.starts[line_index] + column + (shift if line_index == 0 else 0)
    end = start + 1 if column < len(line_text) else start
    return _make_finding(lines, start, end, f"SyntaxError: {message}", SYNTAX_ERROR_CODE)


def _valid_but_unreadable(source: str, error: cst.ParserSyntaxError) -> Finding:
    """The KER002 finding for valid Python that LibCST's parser cannot read."""
    summary = error.message.splitlines()[0] if error.message else "no reason given"
    return unparsable(source, f"Python accepts it but LibCST's parser does not ({summary})")


def unparsable(source: str, why: str, offset: int = 0, code: str = NOT_CHECKED_CODE) -> Finding:
    """The finding for text that was not checked, and why: KER002, or KER001 when the text is
    not valid Python source either."""
    lines = LineIndex(source)
    return _make_finding(lines, offset, offset, f"File not checked: {why}", code)


def _make_finding(lines: LineIndex, start: int, end: int, message: str, code: str) -> Finding:
    rule = _ENGINE_RULES[code]
    return Finding(
        code=code,
        name=rule.name,
        message=message,
        span=Span(start, end, lines.position(start), lines.position(end)),
        severity=rule.severity,
    )


# ----- fixing --------------------------------------------------------------------------------


def apply_fixes(source: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """Apply the fixes whose edits do not overlap an already chosen fix; identical insertions
    (the same import added by two fixes) are applied once. Returns the text and the count."""
    edits, applied = select_edits(fixes)
    return apply_edits(source, edits), applied


def select_edits(fixes: Iterable[Fix]) -> tuple[list[Edit], int]:
    """The edits of the fixes that can go together, earliest first, and how many fixes that is."""
    chosen: list[Edit] = []
    taken: list[tuple[int, int]] = []
    inserted: set[tuple[int, str]] = set()
    applied = 0
    for fix in sorted(fixes, key=lambda f: (f.edits[0].start, f.edits[0].end) if f.edits else (0, 0)):
        new_edits = []
        clash = False
        for edit in fix.edits:
            if edit.start == edit.end and (edit.start, edit.content) in inserted:
                continue
            clash = any(_overlaps(edit.start, edit.end, start, end) for start, end in taken)
            if clash:
                break
            new_edits.append(edit)
        if clash:
            continue
        for edit in new_edits:
            taken.append((edit.start, edit.end))
            if edit.start == edit.end:
                inserted.add((edit.start, edit.content))
            chosen.append(edit)
        applied += 1
    chosen.sort(key=lambda e: (e.start, e.end))
    return chosen, applied


def _overlaps(a0: int, a1: int, b0: int, b1: int) -> bool:
    if a0 < b1 and b0 < a1:
        return True
    if a0 == a1 and (b0 < a0 < b1 or a0 == b0 == b1):
        return True  # an insertion inside a replaced range, or two insertions at one place
    return b0 == b1 and a0 < b0 < a1


def apply_edits(source: str, edits: Sequence[Edit]) -> str:
    """Apply non-overlapping edits (sorted by position)."""
    if not edits:
        return source
    pieces: list[str] = []
    cursor = 0
    for edit in edits:
        pieces.append(source[cursor : edit.start])
        pieces.append(edit.content)
        cursor = edit.end
    pieces.append(source[cursor:])
    return "".join(pieces)


def _parses(source: str, max_size: int = MAX_FILE_SIZE) -> bool:
    try:
        with engine_conditions():
            parse_module(source[1:] if source.startswith(BOM) else source, max_size)
    except (cst.ParserSyntaxError, Unparsable, RecursionError, MemoryError, UnicodeError):
        return False
    return True


def fix(
    source: str,
    path: str | None = None,
    settings: Settings | None = None,
    *,
    unsafe: bool | None = None,
    max_passes: int = 10,
    rules: Sequence[Rule] | None = None,
) -> FixResult:
    """Apply every applicable fix, re-linting between passes until nothing changes (fixes that
    overlap go in later passes). The result always parses if the input did."""
    settings = settings or Settings()
    allow_unsafe = settings.unsafe_fixes if unsafe is None else unsafe
    applied = rejected = 0
    findings = initial = lint(source, path, settings, rules=rules)
    if any(f.code in ENGINE_CODES for f in findings):
        return FixResult(source, 0, findings, initial=initial)
    for _ in range(max_passes):
        usable = [
            f.fix
            for f in findings
            if f.fix is not None and (f.fix.applicability is Applicability.SAFE or allow_unsafe)
        ]
        if not usable:
            break
        candidate, count = apply_fixes(source, usable)
        if candidate == source:
            break
        if not _parses(candidate, settings.max_file_size):
            candidate, count, dropped = _apply_one_by_one(source, usable, settings.max_file_size)
            # A fix that breaks the syntax is tried again (and dropped again) in later passes:
            # count it once.
            rejected = dropped
            if candidate == source:
                break
        source = candidate
        applied += count
        findings = lint(source, path, settings, rules=rules)
    return FixResult(source, applied, findings, rejected, initial)


def _apply_one_by_one(source: str, fixes: list[Fix], max_size: int) -> tuple[str, int, int]:
    """Keep each fix only if the text still parses with it and the fixes kept before it (all
    applied to the original text, so offsets stay valid)."""
    kept: list[Fix] = []
    current, count = source, 0
    for fix_ in fixes:
        candidate, n = apply_fixes(source, [*kept, fix_])
        if n > count and _parses(candidate, max_size):
            kept.append(fix_)
            current, count = candidate, n
    return current, count, len(fixes) - len(kept)
