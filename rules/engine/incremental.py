"""Re-linting only the top-level statements an edit touched, for editors.

An editor re-lints a buffer on every keystroke. `IncrementalLinter` keeps what the last good
parse learned (where each top-level statement starts and ends, the module's imports and
classes, the findings), compares the new text with the old one, re-parses only the statements
that changed, runs the rules on them with the module's names kept, and shifts the other
findings. It falls back to a whole-file lint when an edit changes what other statements depend
on (imports, top-level names, class bases), or touches the imports block.

Rules marked `whole_file` (their findings depend on other statements) run on whole-file lints
only: an edit to a text that may give them findings (it names saving or loading) re-lints the
whole file, so that their findings are never lost or left stale.

Other rules that read other statements than the one they report in read them all in a region
re-lint (`Context.module_statements`, the whole text), and declare what makes their findings in
one statement depend on another (`Rule.cross_statement_*`): an edit that touches it re-lints
the whole file, so that the findings of the statements it did not touch follow it.

While the text does not parse, the result is one syntax-error finding plus the last good
findings outside the edited region, shifted with the edits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import accumulate
import re

import libcst as cst

from .backend_scope import guards_reach_other_statements
from .context import Context
from .lint import (
    BOM,
    relevant,
    ImportSite,
    dispatch_table,
    enabled_rules,
    engine_conditions,
    exhausted_while,
    existing_imports,
    finish,
    import_anchor,
    parse_module,
    syntax_finding,
    unparsable,
    walk,
)
from .model import NOT_CHECKED_CODE, SYNTAX_ERROR_CODE, Edit, Finding, Fix, Span
from .names import Bindings, collect_bindings, module_bindings
from .positions import CodegenDone, LineIndex, RecordingState
from .project import project_for
from .rule import Rule
from .settings import Settings
from .syntax import Unparsable
from .walker import SOURCE_TEXT


# Every whole-file rule reports a saving or loading call, or a value such a call uses: its name
# (`save`, `load_model`, `ModelCheckpoint`, `saved_model`...) is spelled in the file.
_SAVING_WORDS = re.compile(r"(?i)save|load|checkpoint")

# What makes a rule's findings depend on other statements: the `cross_statement_*` attributes
# of `Rule` (rules/engine/rule.py).
_WORD = re.compile(r"\w+")

# `Context.shared` key, in an editor's re-lint of some statements: where each top-level
# statement of `Context.module_statements` starts in the text (`SOURCE_TEXT` offsets, keyed by
# `id` of the node), for rules that tell the line of something in another statement.
STATEMENT_STARTS = "engine.statement_starts"


@dataclass
class _State:
    source: str
    # Each top-level statement, in `source` offsets; None until the first edit needs them (or
    # `prepare` computes them while the editor is idle): they cost a quarter of a first lint,
    # whose findings should not wait for them.
    spans: list[tuple[int, int]] | None
    signatures: list[tuple]
    bindings: Bindings
    classes: dict[str, cst.ClassDef]
    import_site: ImportSite
    findings: list[Finding]
    indent: str
    newline: str
    # Each top-level statement's node, from the parse that last saw it: a region's rules read
    # the others (a model assigned in one statement and saved in another).
    statements: list[cst.CSTNode]
    # A module-level backend guard narrows other top-level statements than its own: every edit
    # re-lints the whole file, so that the narrowing follows it.
    guarded: bool = False
    # Where the first statement starts in `source`, after the module's header (comments and
    # blank lines above it); the others start where the one before ends.
    first_start: int = 0
    # The parsed module whose statement spans are still to be computed.
    module: cst.Module | None = None

    def statement_spans(self) -> list[tuple[int, int]]:
        if self.spans is None:
            assert self.module is not None
            self.spans = _statement_spans(self.module, 1 if self.source.startswith(BOM) else 0, len(self.source))
            self.module = None
        return self.spans


def _signature(stmt: cst.CSTNode, module: cst.Module) -> tuple:
    """What other statements may depend on: the names a statement binds, and class bases."""
    bindings = Bindings()
    collect_bindings([stmt], bindings, set())
    bases = ()
    if isinstance(stmt, cst.ClassDef):
        bases = tuple(module.code_for_node(arg) for arg in stmt.bases)
    return (tuple(sorted(bindings.items())), bases)


def _header_length(module: cst.Module) -> int:
    """The length of the comments and blank lines above the module's first statement."""
    return len(module.with_changes(body=(), footer=()).code)


def _binding(signatures: Sequence[tuple]) -> list[tuple]:
    return sorted(s for s in signatures if s != ((), ()))


def _assigns(statements: Sequence[cst.CSTNode], signatures: Sequence[tuple]) -> bool:
    """Whether any of the statements assigns a module-level name (a `def` or `class` only
    defines one)."""
    return any(
        sig != ((), ()) and not isinstance(stmt, (cst.FunctionDef, cst.ClassDef))
        for stmt, sig in zip(statements, signatures)
    )


def _statement_spans(module: cst.Module, start: int, end: int) -> list[tuple[int, int]]:
    """Each top-level statement's part of `text[start:end]`, the parts touching end to end.

    A statement's part runs from the end of the one before it (so it owns the blank lines and
    comments above it, wherever LibCST put them) to its own end; the last part runs to `end`.
    """
    ends = {id(stmt) for stmt in module.body}
    state = RecordingState(module, ends, [])
    try:
        module._codegen(state)
    except CodegenDone:
        pass
    offsets = list(accumulate(map(len, state.tokens), initial=0))
    spans: list[tuple[int, int]] = []
    previous = start
    for stmt in module.body:
        stop = offsets[state.ends[id(stmt)]] + start
        spans.append((previous, stop))
        previous = stop
    if spans:
        spans[-1] = (spans[-1][0], end)
    return spans


def _common_prefix(a: str, b: str) -> int:
    low, high = 0, min(len(a), len(b))
    while low < high:  # binary search with C-speed slice comparisons
        mid = (low + high + 1) // 2
        if a[:mid] == b[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _common_suffix(a: str, b: str, limit: int) -> int:
    low, high = 0, limit
    while low < high:
        mid = (low + high + 1) // 2
        if a[len(a) - mid :] == b[len(b) - mid :]:
            low = mid
        else:
            high = mid - 1
    return low


def _moved(finding: Finding, delta: int, lines: LineIndex, since: int) -> Finding:
    """A finding after the edited region (which ends at `since` in the old text), moved by
    `delta` characters."""
    start, end = finding.span.start + delta, finding.span.end + delta
    fix = finding.fix
    if fix is not None:
        edits = []
        for e in fix.edits:
            # Imports are inserted before any edited region (checked by the caller); the other
            # edits move with the finding, also those that start before its range (removing
            # `, dynamic=None` starts at the comma).
            d = delta if e.start >= since else 0
            edits.append(Edit(e.start + d, e.end + d, e.content, lines.position(e.start + d), lines.position(e.end + d)))
        fix = Fix(fix.title, fix.applicability, tuple(edits))
    return replace(finding, span=Span(start, end, lines.position(start), lines.position(end)), fix=fix)


class IncrementalLinter:
    """Lint successive versions of one document, re-linting only what changed."""

    def __init__(self, path: str | None, settings: Settings | None = None, rules: Sequence[Rule] | None = None) -> None:
        self.path = path
        self.settings = settings or Settings()
        self._rules = tuple(rules) if rules is not None else None
        self._state: _State | None = None
        # For tests and benchmarks: how the last call was served ("full", "region", ...).
        self.last_mode = ""

    def reset(self, settings: Settings | None = None) -> None:
        if settings is not None:
            self.settings = settings
        self._state = None

    @property
    def rules(self) -> tuple[Rule, ...]:
        return self._rules if self._rules is not None else enabled_rules(self.settings)

    def prepare(self) -> None:
        """Compute now what the next edit's re-lint needs from the last full lint (its
        statements' spans): for a moment when nothing waits, after the findings were sent."""
        if self._state is not None:
            self._state.statement_spans()

    def lint(self, source: str, *, full: bool = False) -> list[Finding]:
        state = self._state
        if state is not None and source == state.source and not full:
            self.last_mode = "unchanged"
            return state.findings
        if state is None or full or len(source) > self.settings.max_file_size:
            # Edits that grow a text past the size limit re-check it whole, so that it is refused.
            return self._full(source)
        return self._region(source, state)

    # ----- whole file --------------------------------------------------------------------------

    def _full(self, source: str) -> list[Finding]:
        self.last_mode = "full"
        if not relevant(source, self.path):
            self._state = None
            return []
        shift = 1 if source.startswith(BOM) else 0
        text = source[shift:]
        with engine_conditions():
            try:
                module = parse_module(text, self.settings.max_file_size)
            except cst.ParserSyntaxError as error:
                finding = syntax_finding(source, text, shift, error)
                if finding.code == NOT_CHECKED_CODE:  # valid Python LibCST cannot read
                    return self._not_checked(finding)
                self.last_mode = "broken"
                return self._broken(source, finding)
            except Unparsable as error:
                return self._not_checked(unparsable(source, error.why, error.offset + shift, error.code))
            except (RecursionError, MemoryError) as error:
                return self._not_checked(unparsable(source, exhausted_while("parsing", error)))
            try:
                ctx = Context(module, self.settings, self.path, project=project_for(self.path))
                # As `lint` does: some rules test the text first (does it name Keras at all?).
                ctx.shared[SOURCE_TEXT] = text
                walk(module, ctx, dispatch_table(self.rules))
                lines = LineIndex(source)
                findings = finish(ctx, text, shift, lines, None)
                guarded = guards_reach_other_statements(ctx, text)
            except (RecursionError, MemoryError) as error:
                return self._not_checked(unparsable(source, exhausted_while("checking", error)))
            anchor = import_anchor(module)
            site_offset = _anchor_offset(module, anchor, shift) if anchor is not None else None
            self._state = _State(
                source=source,
                spans=None,
                signatures=[_signature(s, module) for s in module.body],
                bindings=module_bindings(module),
                classes={s.name.value: s for s in module.body if isinstance(s, cst.ClassDef)},
                import_site=ImportSite(site_offset, frozenset(existing_imports(module))),
                findings=findings,
                indent=module.default_indent,
                newline=module.default_newline,
                statements=list(module.body),
                guarded=guarded,
                first_start=shift + _header_length(module),
                module=module,
            )
            return findings

    def _not_checked(self, finding: Finding) -> list[Finding]:
        """The one finding for a text that was not checked; nothing of the last good text is
        kept, and the next edit checks the whole text again."""
        self._state = None
        return [finding]

    def _broken(self, source: str, syntax: Finding) -> list[Finding]:
        """One syntax finding, plus the last good findings away from the edit."""
        state = self._state
        if state is None:
            return [syntax]
        old = state.source
        prefix = _common_prefix(old, source)
        suffix = _common_suffix(old, source, min(len(old), len(source)) - prefix)
        delta = len(source) - len(old)
        lines = LineIndex(source)
        kept: list[Finding] = [syntax]
        for f in state.findings:
            if f.span.end < prefix:
                kept.append(f)
            elif f.span.start >= len(old) - suffix:
                kept.append(_moved(f, delta, lines, len(old) - suffix))
        kept.sort(key=lambda f: (f.span.start, f.code))
        return kept

    # ----- only the edited statements --------------------------------------------------------

    def _whole_file_may_report(self, source: str, state: _State) -> bool:
        """Whether an enabled whole-file rule may report on `source`, or did on the last text.
        Those rules are about saving and loading: a text that spells none of it gives them
        nothing to report."""
        codes = {r.code for r in self.rules if r.whole_file}
        if not codes:
            return False
        return _SAVING_WORDS.search(source) is not None or any(f.code in codes for f in state.findings)

    def _cross_statement_edit(
        self, state: _State, source: str, old_region: str, new_region: str, start: int, end: int
    ) -> bool:
        """Whether an enabled rule's findings in other statements than the edited ones may
        change with this edit, or its findings in the edited ones depend on the whole text
        (the `Rule.cross_statement_*` attributes)."""
        old = state.source
        mentions: set[str] = set()
        for rule in self.rules:
            if rule.whole_file:
                continue
            words = rule.cross_statement_words
            if words is not None and (words.search(old_region) or words.search(new_region)):
                return True
            presence = rule.cross_statement_presence
            if presence is not None and (presence.search(old) is None) != (presence.search(source) is None):
                return True
            if rule.cross_statement_mentions:
                mentions.add(rule.code)
        if not mentions:
            return False
        edited = set(_WORD.findall(old_region)) | set(_WORD.findall(new_region))
        for f in state.findings:
            if f.code in mentions and not start <= f.span.start < end:
                if edited.intersection(_WORD.findall(old[f.span.start : f.span.end])):
                    return True
        return False

    def _bindings_reach(self, old: str, source: str) -> bool:
        """Whether an enabled rule follows module-level values into other statements in this
        text (`cross_statement_bindings`), so that an edit to a binding statement may change
        its findings there."""
        for rule in self.rules:
            pattern = rule.cross_statement_bindings
            if pattern is not None and not rule.whole_file and (pattern.search(old) or pattern.search(source)):
                return True
        return False

    def _region(self, source: str, state: _State) -> list[Finding]:
        old = state.source
        if state.guarded or not state.statement_spans() or (source.startswith(BOM) != old.startswith(BOM)):
            return self._full(source)
        prefix = _common_prefix(old, source)
        suffix = _common_suffix(old, source, min(len(old), len(source)) - prefix)
        old_end = len(old) - suffix
        delta = len(source) - len(old)
        spans = state.statement_spans()
        touched = [i for i, (a, b) in enumerate(spans) if a <= old_end and b >= prefix]
        if not touched:
            touched = [len(spans) - 1] if prefix >= spans[-1][1] else [0]
        first, last = touched[0], touched[-1]
        shift = 1 if old.startswith(BOM) else 0
        start = spans[first][0] if first > 0 else shift
        end = spans[last][1] if last < len(spans) - 1 else len(old)
        site = state.import_site.offset
        if site is not None and start < site:
            return self._full(source)
        if self._whole_file_may_report(source, state):
            # A whole-file rule's findings, in the edited statements as in the others, depend
            # on the whole text: a region re-lint would lose them until the next whole-file lint.
            return self._full(source)
        region = source[start : end + delta]
        if self._cross_statement_edit(state, source, old[start:end], region, start, end):
            return self._full(source)
        with engine_conditions():
            try:
                module = parse_module(region, self.settings.max_file_size)
            except (cst.ParserSyntaxError, Unparsable, RecursionError, MemoryError):
                # The region may only parse together with its neighbours (a string or bracket
                # opened here and closed further down), or be refused by the parser's guard:
                # the whole file decides, with the same guard.
                return self._full(source)
            if not module.body:
                return self._full(source)
            new_signatures = [_signature(s, module) for s in module.body]
            # Statements that bind nothing (most of them) may come and go freely.
            if _binding(new_signatures) != _binding(state.signatures[first : last + 1]):
                return self._full(source)
            if self._bindings_reach(old, source) and (
                _assigns(module.body, new_signatures)
                or _assigns(state.statements[first : last + 1], state.signatures[first : last + 1])
            ):
                return self._full(source)
            self.last_mode = "region"
            # The signatures match, so the region defines the same classes: replace them by name.
            classes = dict(state.classes)
            for s in module.body:
                if isinstance(s, cst.ClassDef):
                    classes[s.name.value] = s
            statements = state.statements[:first] + list(module.body) + state.statements[last + 1 :]
            region_spans = _statement_spans(module, start, end + delta)
            new_spans = spans[:first] + region_spans + [(a + delta, b + delta) for a, b in spans[last + 1 :]]
            first_start = start + _header_length(module) if first == 0 else state.first_start
            ctx = Context(
                module, self.settings, self.path, bindings=state.bindings, classes=classes,
                statements=statements, project=project_for(self.path),
            )
            # The whole text, as a whole-file lint hands it: the rules ask whether the file
            # names something (Keras, a saving call) anywhere, not only in the region.
            ctx.shared[SOURCE_TEXT] = source[shift:]
            ctx.shared[STATEMENT_STARTS] = {
                id(stmt): (first_start if i == 0 else span[0]) - shift
                for i, (stmt, span) in enumerate(zip(statements, new_spans))
            }
            local_rules = tuple(r for r in self.rules if not r.whole_file)
            try:
                if guards_reach_other_statements(ctx, region):
                    return self._full(source)
                walk(module, ctx, dispatch_table(local_rules))
                lines = LineIndex(source)
                fresh = finish(ctx, region, start, lines, state.import_site)
            except (RecursionError, MemoryError):
                return self._full(source)
            findings: list[Finding] = []
            for f in state.findings:
                if f.code == SYNTAX_ERROR_CODE:
                    continue
                if f.span.start < start:
                    findings.append(f)
                elif f.span.start >= end:
                    findings.append(_moved(f, delta, lines, end))
            findings.extend(fresh)
            findings.sort(key=lambda f: (f.span.start, f.code))
            self._state = _State(
                source=source,
                spans=new_spans,
                signatures=state.signatures[:first] + new_signatures + state.signatures[last + 1 :],
                bindings=state.bindings,
                classes=classes,
                import_site=state.import_site,
                findings=findings,
                indent=state.indent,
                newline=state.newline,
                statements=statements,
                first_start=first_start,
            )
            return findings


def _anchor_offset(module: cst.Module, anchor: tuple[cst.CSTNode, bool], shift: int) -> int | None:
    """The offset where fixes insert imports, found by regenerating up to the anchor."""
    node, after = anchor
    state = RecordingState(module, {id(node)}, [])
    try:
        module._codegen(state)
    except CodegenDone:
        pass
    if id(node) not in state.starts or id(node) not in state.ends:
        return None
    offsets = list(accumulate(map(len, state.tokens), initial=0))
    index = state.ends[id(node)] if after else state.starts[id(node)]
    return offsets[index] + shift
