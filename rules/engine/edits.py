"""How a rule describes a fix: edits on CST nodes, turned into text edits once positions are known.

Rules edit the smallest node that changes (the callee's name, one keyword), so that fixes for
nested calls (`tf.reduce_sum(tf.abs(x))`) do not overlap and all apply in one pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import libcst as cst

from .model import Applicability


@dataclass(frozen=True)
class Replace:
    """Replace the text of `node` (or of `node` through `end`) with `content`."""

    node: cst.CSTNode
    content: str | cst.CSTNode
    end: cst.CSTNode | None = None


@dataclass(frozen=True)
class Insert:
    """Insert `text` just before (or after) `node`."""

    node: cst.CSTNode
    text: str
    after: bool = False


NodeEdit = Replace | Insert


@dataclass(frozen=True)
class FixSpec:
    title: str
    applicability: Applicability
    edits: tuple[NodeEdit, ...]
    # Import statements the new code needs, e.g. "import keras"; added once, after the
    # module's imports, unless the module already has them.
    imports: tuple[str, ...] = field(default=())

    @classmethod
    def safe(cls, title: str, *edits: NodeEdit, imports: Sequence[str] = ()) -> FixSpec:
        return cls(title, Applicability.SAFE, tuple(edits), tuple(imports))

    @classmethod
    def unsafe(cls, title: str, *edits: NodeEdit, imports: Sequence[str] = ()) -> FixSpec:
        return cls(title, Applicability.UNSAFE, tuple(edits), tuple(imports))

    @classmethod
    def of(cls, safe: bool, title: str, *edits: NodeEdit, imports: Sequence[str] = ()) -> FixSpec:
        kind = Applicability.SAFE if safe else Applicability.UNSAFE
        return cls(title, kind, tuple(edits), tuple(imports))


def delete(node: cst.CSTNode) -> Replace:
    return Replace(node, "")


def remove_arg(call: cst.Call, arg: cst.Arg) -> Replace:
    """Remove one argument with its comma, leaving valid, tidy code."""
    args = list(call.args)
    index = next(i for i, a in enumerate(args) if a is arg)
    has_comma = isinstance(arg.comma, cst.Comma)
    if index == len(args) - 1 and index > 0 and not has_comma:
        previous = args[index - 1]
        if isinstance(previous.comma, cst.Comma):
            # `f(a, b)` -> `f(a)`: take the comma before the last argument too.
            return Replace(previous.comma, "", end=arg)
    return Replace(arg, "")


def rename_keyword(arg: cst.Arg, new_name: str) -> Replace:
    assert arg.keyword is not None
    return Replace(arg.keyword, new_name)


def append_arg(call: cst.Call, text: str) -> NodeEdit:
    """Add `text` (e.g. `axis=0`) as the last argument of `call`."""
    args = list(call.args)
    if not args:
        # Parsed inside a call: `axis=0` alone is not an expression.
        arg = cst.ensure_type(cst.parse_expression(f"f({text})"), cst.Call).args[0]
        return Replace(call, call.with_changes(args=[arg]))
    # After the last argument's value, before any trailing comma: `f(a, b,)` -> `f(a, b, x=1,)`.
    return Insert(args[-1].value, f", {text}", after=True)
