"""What the layer and saving rules share about Keras classes: their methods, `self.x`
attributes, parameters, and how to spell a Keras name the way the module already does."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, class_methods, positional_params
from ..engine.names import leaf_name


def enclosing_method(ctx: Context, *names: str) -> tuple[cst.ClassDef, cst.FunctionDef] | None:
    """The Keras class and its method named one of `names` that the current node is inside
    (nested functions and lambdas in the method count)."""
    klass = ctx.in_method(*names)
    if klass is None or not ctx.is_keras_class(klass):
        return None
    methods = class_methods(klass)
    for function in ctx.functions:
        if function.name.value in names and methods.get(function.name.value) is function:
            return klass, function
    return None


def is_self(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Name) and expr.value == "self"


def self_attribute(expr: cst.BaseExpression) -> str | None:
    """`x` for `self.x`, else None."""
    if isinstance(expr, cst.Attribute) and is_self(expr.value):
        return expr.attr.value
    return None


def param_name(function: cst.FunctionDef, index: int) -> str | None:
    """The name of the `index`-th positional parameter (0 is `self`)."""
    params = positional_params(function)
    return params[index].name.value if len(params) > index else None


def all_param_names(function: cst.FunctionDef) -> set[str]:
    params = function.params
    names = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    for star in (params.star_arg, params.star_kwarg):
        if isinstance(star, cst.Param):
            names.add(star.name.value)
    return names


def callee_leaf(call: cst.Call) -> str | None:
    """`Dense` for `layers.Dense(...)` and `Dense(...)`: a cheap look before resolving names."""
    return leaf_name(call.func)


def keras_reference(ctx: Context, path: str, tf_path: str | None = None) -> tuple[str, tuple[str, ...]] | None:
    """Code naming `keras.<path>` here, the way the module already reaches Keras: through its
    `keras` import, else through `tf.keras` (`tf_path` when the name lives elsewhere there),
    else by importing `keras`."""
    native = ctx.reference(f"keras.{path}")
    if native is not None and not native[1]:
        return native
    through_tf = ctx.reference(f"tensorflow.keras.{tf_path or path}")
    if through_tf is not None and not through_tf[1]:
        return through_tf
    return native


def direct_calls(function: cst.FunctionDef):
    """The calls that are whole expression statements directly in a function's body
    (`super().__init__(...)`, `self.d.build(shape)`)."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Expr) and isinstance(small.value, cst.Call):
                    yield small.value


def self_assignments(function: cst.FunctionDef):
    """(attribute, value) for each `self.x = value` directly in a function's body."""
    body = function.body.body if isinstance(function.body, cst.IndentedBlock) else ()
    for stmt in body:
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if isinstance(small, cst.Assign):
                    for target in small.targets:
                        name = self_attribute(target.target)
                        if name is not None:
                            yield name, small.value
