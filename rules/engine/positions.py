"""Source offsets for the few nodes that carry a finding or an edit.

LibCST's PositionProvider regenerates the whole module and records a range for every node, which
costs more than the parse itself. Here only the innermost statement that holds a wanted node is
regenerated, stopping as soon as the last wanted node in it has been written. The statement's
first line comes from a scan of the text for its logical lines (see `logical_lines`), or, where
the scan and the tree disagree, from Python's own `ast` (a fraction of the LibCST parse, several
times the scan), matched to the CST statement by its place among its siblings; the generated
text is compared with the source at that place, and any statement that does not match is
located by regenerating the whole module instead, so a mismatch can only cost time, never a
wrong position.
"""

from __future__ import annotations

import ast
import bisect
import re
from collections.abc import Iterable, Sequence
from itertools import accumulate

import libcst as cst
from libcst._nodes.internal import CodegenState

from . import python_ast
from .model import Position
from .names import child_blocks

_NEWLINE = re.compile(r"\r\n|\r|\n")

STATEMENT_TYPES = (cst.SimpleStatementLine, cst.BaseCompoundStatement)


class CodegenDone(Exception):
    """Raised inside code generation once every wanted node has been written."""


class RecordingState(CodegenState):
    def __init__(self, module: cst.Module, wanted: set[int], indent: list[str]) -> None:
        super().__init__(
            default_indent=module.default_indent,
            default_newline=module.default_newline,
            indent_tokens=list(indent),
        )
        self.wanted = wanted
        self.remaining = len(wanted)
        self.starts: dict[int, int] = {}
        self.ends: dict[int, int] = {}

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.starts:
            self.starts[key] = len(self.tokens)

    def after_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self.wanted and key not in self.ends:
            self.ends[key] = len(self.tokens)
            self.remaining -= 1
            if self.remaining == 0:
                raise CodegenDone


class LineIndex:
    """Offsets <-> (line, column) for one text, lines split as Python splits them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.starts = [0] + [m.end() for m in _NEWLINE.finditer(text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self.starts, offset) - 1
        return Position(line, offset - self.starts[line])

    def offset(self, position: Position) -> int:
        line = min(max(position.line, 0), len(self.starts) - 1)
        return min(self.starts[line] + position.character, len(self.text))

    def line_text(self, line: int) -> str:
        start = self.starts[line]
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        return self.text[start:end]


# ----- matching a CST statement to its `ast` counterpart -------------------------------------


def _flat(block: Sequence[cst.CSTNode]) -> list[cst.CSTNode]:
    out: list[cst.CSTNode] = []
    for stmt in block:
        if isinstance(stmt, cst.SimpleStatementLine):
            out.extend(stmt.body)
        else:
            out.append(stmt)
    return out


def _cst_blocks(node: cst.CSTNode) -> Iterable[Sequence[cst.CSTNode]]:
    if isinstance(node, cst.Module):
        return (node.body,)
    return child_blocks(node)  # type: ignore[arg-type]


def _ast_blocks(node: ast.AST) -> list[list[ast.stmt]]:
    # The same order as names.child_blocks: body, handlers, finalbody, cases, orelse.
    blocks: list[list[ast.stmt]] = []
    if hasattr(node, "body") and isinstance(node.body, list):
        blocks.append(node.body)
    for handler in getattr(node, "handlers", ()):
        blocks.append(handler.body)
    if getattr(node, "finalbody", None):
        blocks.append(node.finalbody)
    for case in getattr(node, "cases", ()):
        blocks.append(case.body)
    if getattr(node, "orelse", None):
        blocks.append(node.orelse)
    return blocks


def _counterparts(cst_container: cst.CSTNode, ast_container: ast.AST) -> dict[int, ast.AST] | None:
    """`id(CST statement)` -> its `ast` statement, for the statements directly in a container."""
    table: dict[int, ast.AST] = {}
    for cst_block, ast_block in zip(_cst_blocks(cst_container), _ast_blocks(ast_container)):
        flat = _flat(cst_block)
        if len(flat) != len(ast_block):
            return None
        for item, counterpart in zip(flat, ast_block):
            table[id(item)] = counterpart
    return table


def _first_line(
    tree: ast.Module, path: Sequence[cst.CSTNode], cache: dict[int, dict[int, ast.AST] | None]
) -> int | None:
    """1-based line of the first token of `path[-1]` (after its leading blank/comment lines).

    `cache` keeps each container's table for the other statements of the same run, so a file
    with many findings pays for each container once, not once per finding."""
    cst_container: cst.CSTNode = path[0]
    ast_container: ast.AST = tree
    found: ast.AST | None = None
    for stmt in path[1:]:
        target = stmt.body[0] if isinstance(stmt, cst.SimpleStatementLine) else stmt
        key = id(cst_container)
        if key not in cache:
            cache[key] = _counterparts(cst_container, ast_container)
        table = cache[key]
        found = table.get(id(target)) if table is not None else None
        if found is None:
            return None
        cst_container, ast_container = stmt, found
    if found is None:
        return None
    decorators = getattr(found, "decorator_list", None)
    if decorators:
        return decorators[0].lineno
    return found.lineno  # type: ignore[attr-defined]


# ----- first lines from a scan of the text ----------------------------------------------------
#
# Most files are located without `ast`: the text is scanned for its logical lines (a line end
# outside brackets, strings and comments ends one; blank and comment-only lines start none), and
# the CST's statements, numbered in source order (each decorator, header and clause header takes
# one logical line), name the logical line each starts on. When the two counts differ (text the
# scan reads otherwise than Python, such as a Python 3.12 f-string nesting its own quotes),
# `ast` answers as before; and a wrong line can only cost time (see the module docstring).

_SCAN = re.compile(
    r"""
      (?P<comment> \#[^\r\n]* )
    | (?P<continuation> \\(?:\r\n|\r|\n) )
    | (?P<string> \"\"\"[^"\\]*(?:(?:\\[\s\S]|"(?!""))[^"\\]*)*\"\"\"
                | '''[^'\\]*(?:(?:\\[\s\S]|'(?!''))[^'\\]*)*'''
                | "[^"\\\r\n]*(?:\\(?:\r\n|[\s\S])[^"\\\r\n]*)*"
                | '[^'\\\r\n]*(?:\\(?:\r\n|[\s\S])[^'\\\r\n]*)*' )
    | (?P<open> [(\[{] )
    | (?P<close> [)\]}] )
    | (?P<newline> \r\n|\r|\n )
    """,
    re.VERBOSE,
)
# Blanks at a line's start, then what the line holds first (nothing for a blank line).
_LINE_START = re.compile(r"[ \t\f]*([^ \t\f\r\n]?)")


def logical_lines(source: str) -> list[int]:
    """The 1-based line of each logical line's first token, in order."""
    starts: list[int] = []
    line = 1
    depth = 0
    first = _LINE_START.match(source).group(1)  # type: ignore[union-attr]
    if first and first != "#":
        starts.append(1)
    for match in _SCAN.finditer(source):
        kind = match.lastgroup
        if kind == "newline":
            line += 1
            if depth == 0:
                first = _LINE_START.match(source, match.end()).group(1)  # type: ignore[union-attr]
                if first and first != "#":
                    starts.append(line)
        elif kind == "open":
            depth += 1
        elif kind == "close":
            depth = max(0, depth - 1)
        elif kind == "string":
            text = match.group()
            if "\n" in text or "\r" in text:
                line += len(_NEWLINE.findall(text))
        elif kind == "continuation":
            line += 1
    return starts


def _statement_numbers(module: cst.Module) -> tuple[dict[int, int], int]:
    """`id(statement)` -> the index of the logical line it starts on (its first decorator's),
    for every statement; and how many logical lines the statements take."""
    numbers: dict[int, int] = {}
    count = 0

    def block(statements: Sequence[cst.CSTNode]) -> None:
        for statement in statements:
            one(statement)

    def suite(body: cst.BaseSuite) -> None:
        if isinstance(body, cst.IndentedBlock):
            block(body.body)

    def clause(node: cst.CSTNode | None) -> None:
        nonlocal count
        if node is None:
            return
        if isinstance(node, cst.If):  # `elif`
            one(node)
            return
        count += 1
        suite(node.body)  # type: ignore[attr-defined]

    def one(statement: cst.CSTNode) -> None:
        nonlocal count
        numbers[id(statement)] = count
        count += len(getattr(statement, "decorators", ())) + 1
        if isinstance(statement, cst.SimpleStatementLine):
            return
        if isinstance(statement, cst.Match):
            for case in statement.cases:
                numbers[id(case)] = count
                count += 1
                suite(case.body)
            return
        body = getattr(statement, "body", None)
        if isinstance(body, cst.BaseSuite):
            suite(body)
        for handler in getattr(statement, "handlers", ()):
            clause(handler)
        clause(getattr(statement, "orelse", None))
        clause(getattr(statement, "finalbody", None))

    block(module.body)
    return numbers, count


def _scanned_lines(module: cst.Module, source: str) -> dict[int, int] | None:
    """`id(statement)` -> its first line, from the scan; None when the scan and the CST do not
    count the same logical lines."""
    numbers, count = _statement_numbers(module)
    starts = logical_lines(source)
    if len(starts) != count:
        return None
    return {key: starts[index] for key, index in numbers.items()}


# ----- the public entry point ----------------------------------------------------------------


def locate(
    module: cst.Module,
    source: str,
    requests: Iterable[tuple[cst.CSTNode, Sequence[cst.CSTNode]]],
    stats: dict[str, int] | None = None,
) -> dict[int, tuple[int, int]]:
    """Offsets `(start, end)` by `id(node)` for each requested node.

    Each request is a node and the chain of its ancestors from the Module down (the node itself
    may be last). Nodes that cannot be located are absent from the result.
    """
    groups: dict[int, tuple[list[cst.CSTNode], set[int]]] = {}
    for node, chain in requests:
        path, indent = _statement_path(module, chain, node)
        root = path[-1]
        entry = groups.get(id(root))
        if entry is None:
            groups[id(root)] = (path, {id(node)}, indent)  # type: ignore[assignment]
        else:
            entry[1].add(id(node))

    result: dict[int, tuple[int, int]] = {}
    missing: set[int] = set()
    tree: ast.Module | None = None
    tree_failed = False
    scanned: dict[int, int] | None = None
    scan_failed = False
    lines: list[int] | None = None
    counterparts: dict[int, dict[int, ast.AST] | None] = {}
    for path, wanted, indent in groups.values():  # type: ignore[misc]
        root = path[-1]
        if len(path) == 1:  # the Module itself
            missing |= wanted
            continue
        if scanned is None and not scan_failed:
            scanned = _scanned_lines(module, source)
            scan_failed = scanned is None
        first = scanned.get(id(root)) if scanned is not None else None
        if first is None:
            if tree is None and not tree_failed:
                try:
                    tree = python_ast.parse(source)
                except (SyntaxError, ValueError, RecursionError, MemoryError):
                    tree_failed = True
            first = _first_line(tree, path, counterparts) if tree is not None else None
        if first is None:
            missing |= wanted
            continue
        if lines is None:
            lines = [0] + [m.end() for m in _NEWLINE.finditer(source)]
        leading = len(root.leading_lines)
        decorators = getattr(root, "decorators", ())
        if decorators:
            leading += len(decorators[0].leading_lines)
        line_index = first - 1 - leading
        if not 0 <= line_index < len(lines):
            missing |= wanted
            continue
        base = lines[line_index]
        state = RecordingState(module, wanted, indent)
        parent = path[-2]
        # An `elif` is an If inside its parent's orelse; it writes "elif", not "if".
        is_elif = isinstance(root, cst.If) and isinstance(parent, cst.If) and parent.orelse is root
        try:
            if is_elif:
                root._codegen(state, is_elif=True)
            else:
                root._codegen(state)
        except CodegenDone:
            pass
        if not source.startswith("".join(state.tokens), base):
            missing |= wanted
            continue
        offsets = list(accumulate(map(len, state.tokens), initial=0))
        for key in wanted:
            if key in state.starts and key in state.ends:
                result[key] = (base + offsets[state.starts[key]], base + offsets[state.ends[key]])
            else:
                missing.add(key)

    if stats is not None:
        stats["whole_module"] = stats.get("whole_module", 0) + len(missing)
    if missing:
        state = RecordingState(module, missing, [])
        try:
            module._codegen(state)
        except CodegenDone:
            pass
        generated = "".join(state.tokens)
        # LibCST does not reproduce every odd layout exactly (a backslash continuation before a
        # statement's first token is dropped): only text up to the first difference is
        # trusted, and nodes after it get no position rather than a wrong one.
        trusted = len(generated) if source.startswith(generated) else _agreement(generated, source)
        offsets = list(accumulate(map(len, state.tokens), initial=0))
        for key in missing:
            if key in state.starts and key in state.ends:
                end = min(offsets[state.ends[key]], len(source))
                if end <= trusted:
                    result[key] = (offsets[state.starts[key]], end)
    return result


def _agreement(generated: str, source: str) -> int:
    """Length of the common prefix of two texts."""
    low, high = 0, min(len(generated), len(source))
    while low < high:
        mid = (low + high + 1) // 2
        if generated[:mid] == source[:mid]:
            low = mid
        else:
            high = mid - 1
    return low


def _statement_path(
    module: cst.Module, chain: Sequence[cst.CSTNode], node: cst.CSTNode
) -> tuple[list[cst.CSTNode], list[str]]:
    """The statements from the module down to the innermost one holding `node`, and the
    indentation that the enclosing blocks put in front of that statement."""
    path: list[cst.CSTNode] = [module]
    indents: list[str] = []
    pending_indent: list[str] = []
    full = list(chain)
    if not full or full[-1] is not node:
        full.append(node)
    for item in full:
        if isinstance(item, STATEMENT_TYPES):
            path.append(item)
            indents = list(pending_indent)
            if isinstance(item, cst.SimpleStatementLine):
                break
        if isinstance(item, (cst.IndentedBlock, cst.Match)):
            # A match statement indents its cases itself, as a block indents its body.
            pending_indent.append(module.default_indent if item.indent is None else item.indent)
    return path, indents
