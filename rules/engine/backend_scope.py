"""Which backends each block of a file runs on, read from its backend guards.

Keras 3 code often keeps backend-specific helpers behind `if keras.backend.backend() ==
"tensorflow":`. Code inside such a guard only ever runs on the backends the guard admits, so a
finding there from a rule about other backends is noise, exactly as if `target-backends` had
excluded the rule.

Recognised guards (the test of an `if` / `elif` or of a conditional expression):
`keras.backend.backend()`, `keras.config.backend()` or `keras.src.backend.backend()` (any import
spelling), `os.environ["KERAS_BACKEND"]`, `os.environ.get("KERAS_BACKEND")`,
`os.getenv("KERAS_BACKEND")`, or a module-level name bound once to one of those, compared with
`==` / `!=` to a string or with `in` / `not in` to a tuple, list or set of strings, combined with
`not`, `and`, `or`. An `if` whose body always leaves (`raise`, `return`, `sys.exit()`) narrows
the rest of its block. Anything else (a helper function, a variable assigned twice, `tf.keras`'s
own `backend()`, which is Keras 2) runs on every backend.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import libcst as cst

from .context import Context, Pending, string_value
from .names import Bindings, function_bindings, import_bindings, statements, target_names
from .rule import BACKENDS
from .walker import child_fields

# A file without these words has no guard: its scopes are not computed.
MENTIONS_BACKEND = re.compile(r"backend|BACKEND")

_BACKEND_CALLS = frozenset(
    {
        "keras.backend.backend",
        "keras.config.backend",
        "keras.src.backend.backend",
        "keras.src.backend.config.backend",
    }
)
_ENV_GETTERS = frozenset({"os.environ.get", "os.getenv"})
_EXIT_CALLS = frozenset({"sys.exit", "os._exit"})
_ENV_KEY = "KERAS_BACKEND"

ALL = BACKENDS
NONE: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Outcome:
    """The backends on which a test is true, and those on which it is false."""

    true: frozenset[str] = ALL
    false: frozenset[str] = ALL

    def negated(self) -> Outcome:
        return Outcome(self.false, self.true)


UNKNOWN = Outcome()


def in_backend_scope(ctx: Context, pending: list[Pending], text: str) -> list[Pending]:
    """The reports whose rule's backends (among the targeted ones) include a backend the code
    reported runs on; the others are dropped as `target-backends` would drop their rule."""
    if not pending or not MENTIONS_BACKEND.search(text):
        return pending
    narrowed = _Reader(ctx).read()
    if not narrowed:
        return pending
    targets = ctx.settings.target_backends
    return [item for item in pending if item.rule.backends & targets & narrowed.get(id(item.node), ALL)]


def guards_reach_other_statements(ctx: Context, text: str) -> bool:
    """Whether a module-level guard narrows statements other than its own (an early exit), or
    a module-level name holds the backend: re-linting one top-level statement alone would then
    miss what narrows it."""
    if not MENTIONS_BACKEND.search(text):
        return False
    reader = _Reader(ctx)
    if reader.backend_names:
        return True
    return any(isinstance(stmt, cst.If) and reader.narrows_after(stmt) for stmt in ctx.module.body)


class _Reader:
    """One pass over the module that records, for each node in a guarded region, the backends
    it runs on. Every node is listed, not only the guarded blocks: a rule may report a
    descendant of the node it visits, so the walker's parents stack does not always hold the
    guarded block."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.backend_names = _module_backend_names(ctx)
        self.narrowed: dict[int, frozenset[str]] = {}
        # The enclosing functions' own names: a parameter or local may shadow a backend name.
        self._locals: list[Bindings] = []

    def read(self) -> dict[int, frozenset[str]]:
        """Node id -> the backends it runs on, for the nodes that do not run on all of them."""
        self._visit(self.ctx.module, ALL)
        return self.narrowed

    def _visit(self, node: cst.CSTNode, backends: frozenset[str]) -> None:
        if backends != ALL:
            self.narrowed[id(node)] = backends
        kind = type(node)
        scoped = kind is cst.FunctionDef or kind is cst.Lambda
        if scoped:
            self.ctx.scopes.push(node)  # type: ignore[arg-type]
            self._locals.append(function_bindings(node))  # type: ignore[arg-type]
        try:
            if kind is cst.If or kind is cst.IfExp:
                outcome = self.outcome(node.test)  # type: ignore[attr-defined]
                self._visit(node.test, backends)  # type: ignore[attr-defined]
                self._visit(node.body, backends & outcome.true)  # type: ignore[attr-defined]
                if node.orelse is not None:  # type: ignore[attr-defined]
                    self._visit(node.orelse, backends & outcome.false)  # type: ignore[attr-defined]
            elif kind is cst.Module or kind is cst.IndentedBlock:
                self._block(node.body, backends)  # type: ignore[attr-defined]
            else:
                for child in _children(node):
                    self._visit(child, backends)
        finally:
            if scoped:
                self.ctx.scopes.pop()
                self._locals.pop()

    def _block(self, body: Sequence[cst.CSTNode], backends: frozenset[str]) -> None:
        """`if backend() != "tensorflow": raise ...` narrows every statement after it."""
        for stmt in body:
            self._visit(stmt, backends)
            if isinstance(stmt, cst.If):
                goes_on = self.narrows_after(stmt)
                if goes_on:
                    backends = backends & goes_on

    def narrows_after(self, stmt: cst.If) -> frozenset[str] | None:
        """The backends the statements after an `if` run on, when the `if` narrows them (its
        body leaves on some backends); None when it does not narrow them or nothing runs on."""
        goes_on = self._continues_on(stmt)
        return goes_on if goes_on and goes_on != ALL else None

    def _continues_on(self, stmt: cst.If | cst.Else | None) -> frozenset[str]:
        """The backends on which execution reaches the statement after an if/elif/else chain."""
        if stmt is None:
            return ALL
        if isinstance(stmt, cst.Else):
            return NONE if _always_leaves(stmt.body, self.ctx) else ALL
        outcome = self.outcome(stmt.test)
        through_body = NONE if _always_leaves(stmt.body, self.ctx) else outcome.true
        return through_body | (outcome.false & self._continues_on(stmt.orelse))

    # ----- tests -------------------------------------------------------------------------------

    def outcome(self, test: cst.BaseExpression) -> Outcome:
        if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
            return self.outcome(test.expression).negated()
        if isinstance(test, cst.BooleanOperation):
            left, right = self.outcome(test.left), self.outcome(test.right)
            if isinstance(test.operator, cst.And):
                return Outcome(left.true & right.true, left.false | right.false)
            return Outcome(left.true | right.true, left.false & right.false)
        if isinstance(test, cst.Comparison) and len(test.comparisons) == 1:
            return self._comparison(test.left, test.comparisons[0])
        return UNKNOWN

    def _comparison(self, left: cst.BaseExpression, target: cst.ComparisonTarget) -> Outcome:
        operator, right = target.operator, target.comparator
        if isinstance(operator, (cst.Equal, cst.NotEqual)):
            if self.is_backend(left):
                named = string_value(right)
            elif self.is_backend(right):
                named = string_value(left)
            else:
                return UNKNOWN
            if named is None:
                return UNKNOWN
            chosen = frozenset({named}) & ALL
        elif isinstance(operator, (cst.In, cst.NotIn)) and self.is_backend(left):
            names = _strings(right)
            if names is None:
                return UNKNOWN
            chosen = names & ALL
        else:
            return UNKNOWN
        outcome = Outcome(chosen, ALL - chosen)
        if isinstance(operator, (cst.NotEqual, cst.NotIn)):
            return outcome.negated()
        return outcome

    def is_backend(self, expr: cst.BaseExpression) -> bool:
        """Whether an expression's value is the name of the Keras 3 backend in use."""
        if isinstance(expr, cst.Name):
            name = expr.value
            return name in self.backend_names and not any(name in own for own in self._locals)
        return _reads_backend(expr, self.ctx)


def _reads_backend(expr: cst.BaseExpression, ctx: Context) -> bool:
    if isinstance(expr, cst.Call):
        callee = ctx.qualname(expr.func)
        if callee in _BACKEND_CALLS:
            return not expr.args
        if callee in _ENV_GETTERS:
            return bool(expr.args) and string_value(expr.args[0].value) == _ENV_KEY
        return False
    if isinstance(expr, cst.Subscript) and len(expr.slice) == 1:
        index = expr.slice[0].slice
        return (
            ctx.qualname(expr.value) == "os.environ"
            and isinstance(index, cst.Index)
            and string_value(index.value) == _ENV_KEY
        )
    return False


def _module_backend_names(ctx: Context) -> frozenset[str]:
    """Module-level names bound exactly once, to the backend's name (`BACKEND = backend()`)."""
    counts: dict[str, int] = {}
    candidates: set[str] = set()
    for stmt in statements(ctx.module.body):
        for small in _smalls(stmt):
            for name in _bound_names(small):
                counts[name] = counts.get(name, 0) + 1
            if (
                isinstance(small, cst.Assign)
                and len(small.targets) == 1
                and isinstance(small.targets[0].target, cst.Name)
                and _reads_backend(small.value, ctx)
            ):
                candidates.add(small.targets[0].target.value)
    return frozenset(name for name in candidates if counts.get(name) == 1)


def _smalls(stmt: cst.CSTNode) -> Sequence[cst.CSTNode]:
    if isinstance(stmt, cst.SimpleStatementLine):
        return stmt.body
    return (stmt,)


def _bound_names(node: cst.CSTNode) -> Iterator[str]:
    if isinstance(node, cst.Assign):
        for target in node.targets:
            yield from target_names(target.target)
    elif isinstance(node, (cst.AugAssign, cst.AnnAssign, cst.For)):
        yield from target_names(node.target)
    elif isinstance(node, (cst.Import, cst.ImportFrom)):
        for local, _ in import_bindings(node):
            yield local
    elif isinstance(node, (cst.FunctionDef, cst.ClassDef)):
        yield node.name.value
    elif isinstance(node, cst.With):
        for item in node.items:
            if item.asname is not None:
                yield from target_names(item.asname.name)


def _always_leaves(suite: cst.BaseSuite, ctx: Context) -> bool:
    """Whether a block ends by leaving: `raise`, `return` or `sys.exit(...)` as its last step."""
    body = suite.body
    if not body:
        return False
    last = body[-1]
    if isinstance(last, cst.SimpleStatementLine):
        last = last.body[-1] if last.body else last
    if isinstance(last, (cst.Raise, cst.Return)):
        return True
    if isinstance(last, cst.Expr) and isinstance(last.value, cst.Call):
        return ctx.qualname(last.value.func) in _EXIT_CALLS
    return False


def _strings(expr: cst.BaseExpression) -> frozenset[str] | None:
    if not isinstance(expr, (cst.Tuple, cst.List, cst.Set)):
        return None
    found = []
    for element in expr.elements:
        value = string_value(element.value) if isinstance(element, cst.Element) else None
        if value is None:
            return None
        found.append(value)
    return frozenset(found)


def _children(node: cst.CSTNode) -> Iterator[cst.CSTNode]:
    for name in child_fields(type(node)):
        value = getattr(node, name)
        if isinstance(value, cst.CSTNode):
            yield value
        elif isinstance(value, (tuple, list)):
            for item in value:
                if isinstance(item, cst.CSTNode):
                    yield item
