"""Python's own parser (`ast`), for the few places that need its answer rather than LibCST's.

CPython 3.11's `ast.parse` is not safe in two threads at once ("AST constructor recursion depth
mismatch"); the language server parses on several threads (lints, hover, the project index),
so every call goes through one lock.
"""

from __future__ import annotations

import ast
import threading
from collections.abc import Callable
from functools import reduce
from operator import and_, or_

_LOCK = threading.Lock()


def parse(source: str | bytes, filename: str = "<unknown>") -> ast.Module:
    with _LOCK:
        return ast.parse(source, filename)


def parse_expression(source: str) -> ast.expr:
    """One expression (raises SyntaxError or ValueError as `ast.parse` does)."""
    with _LOCK:
        return ast.parse(source, mode="eval").body


def dotted(expr: ast.expr) -> str | None:
    """`a.b.c` for a Name/Attribute chain, None for any other expression."""
    parts: list[str] = []
    while isinstance(expr, ast.Attribute):
        parts.append(expr.attr)
        expr = expr.value
    if not isinstance(expr, ast.Name):
        return None
    return ".".join([expr.id, *reversed(parts)])


def combined_outcome(
    test: ast.expr, leaf: Callable[[ast.expr], tuple[frozenset, frozenset]], everything: frozenset
) -> tuple[frozenset, frozenset]:
    """(the cases in which `test` is true, those in which it is false), where `leaf` answers for
    a test that is no `not`, `and` or `or` and `everything` is every case: `not` swaps the two,
    `and` is true where all parts are and false where any is, `or` the other way round."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        true, false = combined_outcome(test.operand, leaf, everything)
        return false, true
    if isinstance(test, ast.BoolOp):
        trues, falses = zip(*(combined_outcome(value, leaf, everything) for value in test.values))
        in_all, in_any = reduce(and_, trues, everything), reduce(or_, trues, frozenset())
        false_in_all, false_in_any = reduce(and_, falses, everything), reduce(or_, falses, frozenset())
        if isinstance(test.op, ast.And):
            return in_all, false_in_any
        return in_any, false_in_all
    return leaf(test)
