"""The shared visit of the rules that map one TensorFlow op to `keras.ops`."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Rule
from ._sites import _CALLBACK_CALLS, MODEL_FUNCTION_WORDS, note_model_functions, report_in_model_code
from ._table import Row, build_fix, code_for, normalize_tf, tf_leaves, tf_rows

# Pure portability: these ops work on the TensorFlow backend and fail on the others.
PORTABILITY_BACKENDS = frozenset({"jax", "torch"})


class TfOpRule(Rule):
    """A rule for the TensorFlow ops whose table rows name its code (see data/ops_tf.toml).

    Reports the callee (`tf.reduce_sum` in `tf.reduce_sum(x)`) where the op runs inside a Keras
    model (see `_sites`); the fix is the row's.
    """

    nodes = (cst.Call,)
    backends = PORTABILITY_BACKENDS
    # Findings in a module-level function wait for a `Lambda(fn)` or `compile(loss=fn)`.
    cross_statement_words = MODEL_FUNCTION_WORDS

    def __init__(self) -> None:
        # Called for every call in every file: one set lookup decides for most of them.
        self.leaves = tf_leaves(self.code) | _CALLBACK_CALLS

    def call_leaves(self) -> frozenset[str] | None:
        """The callee last names `visit` acts on (the walker calls it on no other call); None,
        called on every call, for a subclass with a `visit` of its own."""
        return self.leaves if type(self).visit is TfOpRule.visit else None

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        kind = type(func)
        if kind is cst.Attribute:
            leaf = func.attr.value  # type: ignore[attr-defined]
        elif kind is cst.Name:
            leaf = func.value  # type: ignore[attr-defined]
        else:
            return
        if leaf not in self.leaves:
            return
        if leaf in _CALLBACK_CALLS:
            note_model_functions(node, ctx)
            return
        qualified = normalize_tf(ctx.qualname(node.func))
        row = tf_rows().get(qualified) if qualified else None
        if row is None or code_for(node, row) != self.code:
            return
        fix = build_fix(node, row, ctx)
        report_in_model_code(self, ctx, node.func, self.describe(node, row), fix, self.annotate(node, row))

    def describe(self, node: cst.Call, row: Row) -> str:
        return self.message

    @classmethod
    def table_rows(cls) -> tuple[tuple[str, bool], ...]:
        rows = {row.names[0]: row for row in tf_rows().values() if row.rule == cls.code}
        return tuple((f"tf.{name}", row.safety != "none") for name, row in sorted(rows.items()))

    def annotate(self, node: cst.Call, row: Row) -> str | None:
        """The finding's note for this call."""
        return row.note or None


def spelled(node: cst.Call) -> str:
    return dotted_name(node.func) or "this op"
