"""What the training, randomness and JAX rules need to know about the code around a node: the
statements of one method, what a receiver is known to be, and how to add code to a class.

Facts about a class or function are gathered from its own statements once per lint run (the
store is keyed by the run's `Context`) and only for the few nodes whose shape already matched.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import libcst as cst

from ..engine.context import Context, class_methods
from ..engine.edits import Insert, Replace
from ..engine.names import statements
from ..engine.provenance import METRIC, MODEL, OPTIMIZER, fact_of, kind_of

_RUN_STORE: weakref.WeakKeyDictionary[Context, dict[Any, Any]] = weakref.WeakKeyDictionary()

# Step methods Keras calls inside a compiled function.
STEP_METHODS = frozenset({"train_step", "test_step", "predict_step"})
COMPUTE_METHODS = STEP_METHODS | {"call", "compute_loss"}


def traced_class(ctx: Context) -> cst.ClassDef | None:
    """The Keras class when the node is inside its `call`, `compute_loss` or a step method, the
    code Keras traces into a compiled function."""
    klass = ctx.in_method(*COMPUTE_METHODS)
    return klass if klass is not None and ctx.is_keras_class(klass) else None


def run_cached(ctx: Context, key: Any, compute: Callable[[], Any]) -> Any:
    """`compute()` once per lint run and key (nodes cannot be weakly referenced, the run can)."""
    store = _RUN_STORE.get(ctx)
    if store is None:
        store = _RUN_STORE[ctx] = {}
    if key not in store:
        store[key] = compute()
    return store[key]


# ----- statements ------------------------------------------------------------------------------


def small_statements(body: Sequence[cst.CSTNode]) -> Iterator[cst.BaseSmallStatement]:
    for stmt in statements(body):
        if isinstance(stmt, cst.SimpleStatementLine):
            yield from stmt.body
        elif isinstance(stmt, cst.BaseSmallStatement):
            yield stmt


def body_of(node: cst.FunctionDef | cst.ClassDef) -> Sequence[cst.CSTNode]:
    body = node.body
    return body.body if isinstance(body, cst.IndentedBlock) else ()


def is_self_attribute(expr: cst.BaseExpression, name: str | None = None) -> bool:
    return (
        isinstance(expr, cst.Attribute)
        and isinstance(expr.value, cst.Name)
        and expr.value.value == "self"
        and (name is None or expr.attr.value == name)
    )


# ----- what a name or attribute was built from -----------------------------------------------


def assigned_values(body: Sequence[cst.CSTNode], self_attributes: bool) -> dict[str, cst.BaseExpression]:
    """`name -> value` (or `self.attr -> value` as "self.attr") for single-target assignments."""
    found: dict[str, cst.BaseExpression] = {}
    for small in small_statements(body):
        if isinstance(small, cst.Assign) and len(small.targets) == 1:
            target, value = small.targets[0].target, small.value
        elif isinstance(small, cst.AnnAssign) and small.value is not None:
            target, value = small.target, small.value
        else:
            continue
        if isinstance(target, cst.Name):
            found.setdefault(target.value, value)
        elif self_attributes and is_self_attribute(target):
            found.setdefault(f"self.{target.attr.value}", value)  # type: ignore[union-attr]
    return found


def class_attributes(ctx: Context, klass: cst.ClassDef) -> dict[str, cst.BaseExpression]:
    """`self.x = value` assignments made in any method of the class, first one wins."""

    def compute() -> dict[str, cst.BaseExpression]:
        found: dict[str, cst.BaseExpression] = {}
        for method in class_methods(klass).values():
            for key, value in assigned_values(body_of(method), True).items():
                if key.startswith("self."):
                    found.setdefault(key[5:], value)
        return found

    return run_cached(ctx, ("attributes", id(klass)), compute)


def local_values(ctx: Context, function: cst.FunctionDef | None) -> dict[str, cst.BaseExpression]:
    """`name = value` in a function (or at module level when `function` is None)."""
    if function is None:
        return run_cached(ctx, ("locals", None), lambda: assigned_values(ctx.module.body, False))
    return run_cached(ctx, ("locals", id(function)), lambda: assigned_values(body_of(function), False))


def constructed_api(ctx: Context, value: cst.BaseExpression | None) -> str | None:
    """`metrics.Mean` when `value` is `keras.metrics.Mean(...)` (any Keras spelling)."""
    if not isinstance(value, cst.Call):
        return None
    api = ctx.keras_api(value.func)
    return api[0] if api else None


def _iterated_over(ctx: Context, name: cst.Name) -> cst.BaseExpression | None:
    """The iterable of an enclosing `for name in ...` loop, if any."""
    for parent in reversed(ctx.parents):
        if isinstance(parent, cst.For) and isinstance(parent.target, cst.Name):
            if parent.target.value == name.value:
                return parent.iter
        if isinstance(parent, (cst.FunctionDef, cst.ClassDef)):
            break
    return None


def is_metric(ctx: Context, expr: cst.BaseExpression) -> bool:
    """Evidence in the code that `expr` is a Keras metric: provenance shows it (built by
    `keras.metrics.X(...)`, an instance of a project Metric class), or it is the variable of a
    loop over some `.metrics`."""
    if kind_of(ctx, expr) == METRIC:
        return True
    if isinstance(expr, cst.Name):
        iterable = _iterated_over(ctx, expr)
        return isinstance(iterable, cst.Attribute) and iterable.attr.value == "metrics"
    return False


def may_be_model(ctx: Context, expr: cst.BaseExpression) -> bool:
    """Whether the receiver of a model method (`fit_generator`, `fit(workers=)`, `compile`) may
    be a Keras model: shown to be one, or of unknown provenance; never a value shown to be
    something else (a dataset, a layer, an object of another library)."""
    fact = fact_of(ctx, expr)
    return fact.kind == MODEL or not fact.known


def is_optimizer(ctx: Context, expr: cst.BaseExpression) -> bool:
    """Evidence that `expr` is a Keras optimizer: provenance shows it (`keras.optimizers.X(...)`,
    `model.optimizer`, `self.optimizer` in a Model, a project Optimizer class), or it is an
    `.optimizer` attribute provenance knows nothing about (`self.optimizer` of a class whose
    Keras base is out of reach: the attribute name is Keras's own)."""
    fact = fact_of(ctx, expr)
    if fact.kind == OPTIMIZER:
        return True
    return not fact.known and isinstance(expr, cst.Attribute) and expr.attr.value == "optimizer"


# ----- adding code to a class ------------------------------------------------------------------


def block_indent(ctx: Context, block: cst.BaseSuite, inside: Sequence[cst.CSTNode] = ()) -> str:
    """The absolute indentation of the statements of `block`, the body of one of the current
    node's ancestors or of `inside` (nodes below the current one, outermost first)."""
    default = ctx.module.default_indent
    indent = ""
    for parent in (*ctx.parents, *inside):
        body = getattr(parent, "body", None)
        if isinstance(body, cst.IndentedBlock) and not isinstance(parent, cst.Module):
            indent += body.indent if body.indent is not None else default
        if body is block:
            return indent
    return indent


def inner_indent(ctx: Context, block: cst.IndentedBlock) -> str:
    return block.indent if block.indent is not None else ctx.module.default_indent


def insert_before_statement(stmt: cst.CSTNode, text: str, indent: str) -> Insert:
    """Insert the line `text` just before `stmt`, at the same indentation."""
    if isinstance(stmt, cst.SimpleStatementLine):
        # A simple line's text starts with its leading comments and indentation: insert at
        # its first small statement instead, where the indentation is already written.
        return Insert(stmt.body[0], f"{text}\n{indent}")
    return Insert(stmt, f"{indent}{text}\n")


def insert_after_statement(stmt: cst.CSTNode, text: str, indent: str) -> Insert:
    return Insert(stmt, f"{indent}{text}\n", after=True)


def is_docstring(stmt: cst.CSTNode) -> bool:
    return (
        isinstance(stmt, cst.SimpleStatementLine)
        and len(stmt.body) == 1
        and isinstance(stmt.body[0], cst.Expr)
        and isinstance(stmt.body[0].value, (cst.SimpleString, cst.ConcatenatedString))
    )


def super_init_call(init: cst.FunctionDef) -> cst.SimpleStatementLine | None:
    """The top-level statement of `__init__` that calls the parent's `__init__`."""
    for stmt in body_of(init):
        if not isinstance(stmt, cst.SimpleStatementLine):
            continue
        for small in stmt.body:
            call = small.value if isinstance(small, cst.Expr) else None
            if (
                isinstance(call, cst.Call)
                and isinstance(call.func, cst.Attribute)
                and call.func.attr.value == "__init__"
            ):
                return stmt
    return None


def last_param(params: cst.Parameters) -> cst.Param | None:
    if isinstance(params.star_kwarg, cst.Param):
        return params.star_kwarg
    for group in (params.kwonly_params, (params.star_arg,), params.params, params.posonly_params):
        for param in reversed(tuple(group)):
            if isinstance(param, cst.Param):
                return param
    return None


def add_kwargs_param(init: cst.FunctionDef) -> tuple[str, Insert | None] | None:
    """The name of `__init__`'s `**kwargs`, and the edit that adds it when it is missing; None
    for an `__init__` without parameters."""
    params = init.params
    if isinstance(params.star_kwarg, cst.Param):
        return params.star_kwarg.name.value, None
    last = last_param(params)
    if last is None:
        return None
    end = last.default or last.annotation or last.name
    if isinstance(end, cst.Annotation):
        end = end.annotation
    return "kwargs", Insert(end, ", **kwargs", after=True)


def class_body_anchor(klass: cst.ClassDef) -> cst.CSTNode | None:
    """The statement a new method goes before: the first one after the docstring."""
    body = body_of(klass)
    for stmt in body:
        if not is_docstring(stmt) and not (
            isinstance(stmt, cst.SimpleStatementLine)
            and all(isinstance(s, cst.Pass) for s in stmt.body)
        ):
            return stmt
    return None


def insert_method(
    ctx: Context, klass: cst.ClassDef, *lines: str, after: cst.FunctionDef | None = None,
    inside: Sequence[cst.CSTNode] = (),
) -> tuple[Insert] | None:
    """An edit that adds a method (its `lines`, indented relative to the class body) after the
    method `after`, or else before the first statement of the class after its docstring.
    `inside`: as for `block_indent` (the class itself when it is the current node)."""
    if not isinstance(klass.body, cst.IndentedBlock):
        return None
    indent = block_indent(ctx, klass.body, inside)
    text = "".join(f"{indent}{line}\n" for line in lines)
    if after is not None:
        return (Insert(after, f"\n{text}", after=True),)
    anchor = class_body_anchor(klass)
    if anchor is None:
        return None
    if isinstance(anchor, cst.SimpleStatementLine):
        # The anchor's own indentation is written before its first small statement.
        return (Insert(anchor.body[0], f"{text[len(indent):]}\n{indent}"),)
    return (Insert(anchor, f"{text}\n"),)


def add_to_init(
    ctx: Context, klass: cst.ClassDef, line: str, inside: Sequence[cst.CSTNode] = ()
) -> tuple[Insert, ...] | None:
    """Edits that put `line` (e.g. `self.seed_generator = ...`) into the class's `__init__`,
    right after its `super().__init__(...)` call; a new `__init__` is written when the class has
    none. None when there is no clean place (a one-line class or `__init__`). `inside`: as for
    `block_indent` (the class itself when it is the current node)."""
    if not isinstance(klass.body, cst.IndentedBlock):
        return None
    class_indent = block_indent(ctx, klass.body, inside)
    init = class_methods(klass).get("__init__")
    if init is None:
        step = inner_indent(ctx, klass.body)
        return insert_method(
            ctx,
            klass,
            "def __init__(self, **kwargs):",
            f"{step}super().__init__(**kwargs)",
            f"{step}{line}",
            inside=inside,
        )
    if not isinstance(init.body, cst.IndentedBlock):
        return None
    indent = class_indent + inner_indent(ctx, init.body)
    parent_call = super_init_call(init)
    if parent_call is not None:
        return (insert_after_statement(parent_call, line, indent),)
    return (insert_first(init, line, indent),)


def insert_first(function: cst.FunctionDef, line: str, indent: str) -> Insert:
    """Insert `line` as the first statement of `function` after its docstring."""
    body = body_of(function)
    if is_docstring(body[0]):
        if len(body) == 1:
            return insert_after_statement(body[0], line, indent)
        return insert_before_statement(body[1], line, indent)
    return insert_before_statement(body[0], line, indent)


def remove_args(call: cst.Call, doomed: Sequence[cst.Arg]) -> list[Replace]:
    """Edits that remove several arguments of one call without overlapping each other."""
    args = list(call.args)
    gone = {id(a) for a in doomed}
    kept = [i for i, a in enumerate(args) if id(a) not in gone]
    last_kept = kept[-1] if kept else -1
    edits: list[Replace] = []
    trailing = args[last_kept + 1:]
    for arg in args[: last_kept + 1]:
        if id(arg) in gone:
            edits.append(Replace(arg, ""))
    if trailing:
        has_final_comma = isinstance(trailing[-1].comma, cst.Comma)
        if last_kept >= 0 and not has_final_comma:
            # `f(a, b, c)` without b and c: take the comma after `a` too.
            edits.append(Replace(args[last_kept].comma, "", end=trailing[-1]))  # type: ignore[arg-type]
        else:
            edits.append(Replace(trailing[0], "", end=trailing[-1]))
    return edits
