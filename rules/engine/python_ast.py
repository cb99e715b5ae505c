"""Python's own parser (`ast`), for the few places that need its answer rather than LibCST's.

CPython 3.11's `ast.parse` is not safe in two threads at once ("AST constructor recursion depth
mismatch"); the language server parses on several threads (lints, hover, the project index),
so every call goes through one lock.
"""

from __future__ import annotations

import ast
import threading

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
