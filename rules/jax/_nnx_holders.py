"""What an NNX state updated from a checkpoint belongs to, and whether its keys include integers.

KER803 only matters for states with list or tuple indices among their keys: an `nnx.List` or
`nnx.Sequential` (`layers.0.kernel`), a plain list, or an optimizer (`opt_state.0.mu`: optax
states are tuples). A module that holds only named attributes and `nnx.Dict`s (string keys
only: Flax refuses others) restores fine from the strings Orbax gives back.
"""

from __future__ import annotations

from enum import Enum

import libcst as cst

from ..engine.context import Context, class_methods, positional_args
from ..engine.names import dotted_name
from ..training._common import assigned_values, body_of, local_values, run_cached, small_statements


class Keys(Enum):
    """What an object's state keys are, as far as this file tells."""

    STRINGS = "strings"
    INTEGERS = "integers"
    OPTIMIZER = "optimizer"
    UNKNOWN = "unknown"


_NNX = "flax.nnx."
# NNX constructors whose state has list or tuple indices.
_INDEXED = frozenset({"List", "Sequential"})
# `nnx.Optimizer(model, tx)` holds the optax state, a tuple: `opt_state.0`.
_OPTIMIZERS = frozenset({"Optimizer", "ModelAndOptimizer", "optimizer.Optimizer"})
_INDEXED_BUILTINS = frozenset({"list", "tuple"})
# Nested classes of the file followed from one class (a bound against deep or cyclic chains).
_DEPTH = 8


def nnx_api(ctx: Context, expr: cst.BaseExpression) -> str | None:
    """`List` for `nnx.List` under any spelling of `flax.nnx`."""
    qualified = ctx.qualname(expr)
    return qualified[len(_NNX):] if qualified and qualified.startswith(_NNX) else None


def keys_of(ctx: Context, obj: cst.BaseExpression) -> Keys:
    """The keys of the state of `obj` (a model or optimizer passed to `nnx.update` or split)."""
    built = _built_from(ctx, obj)
    if built is None:
        return Keys.UNKNOWN
    return _keys_of_value(ctx, built, 0)


def state_owner(ctx: Context, state: cst.BaseExpression) -> cst.BaseExpression | None:
    """The object whose state `state` is: `model` for `nnx.state(model)`, or for `state` bound by
    `graphdef, state = nnx.split(model)` in the same function."""
    if isinstance(state, cst.Call):
        return _split_object(ctx, state)
    if not isinstance(state, cst.Name):
        return None
    value = _locals(ctx).get(state.value)
    if isinstance(value, cst.Call):
        return _split_object(ctx, value)
    for small in small_statements(_scope_body(ctx)):
        if not isinstance(small, cst.Assign) or len(small.targets) != 1:
            continue
        target = small.targets[0].target
        if not isinstance(target, (cst.Tuple, cst.List)) or not isinstance(small.value, cst.Call):
            continue
        names = [e.value.value for e in target.elements if isinstance(e.value, cst.Name)]
        # `graphdef, state = nnx.split(model)`: the state comes after the graph definition.
        if state.value in names[1:]:
            return _split_object(ctx, small.value)
    return None


def _split_object(ctx: Context, call: cst.Call) -> cst.BaseExpression | None:
    if nnx_api(ctx, call.func) not in ("state", "split"):
        return None
    args = positional_args(call)
    return args[0].value if args else None


def _scope_body(ctx: Context):
    # `module_statements`: the whole file even when an editor re-lints some statements only.
    return body_of(ctx.function) if ctx.function is not None else ctx.module_statements


def _locals(ctx: Context) -> dict[str, cst.BaseExpression]:
    return local_values(ctx, ctx.function) if ctx.function is not None else module_values(ctx)


def module_values(ctx: Context) -> dict[str, cst.BaseExpression]:
    """`name = value` at the top level of the whole file (the first one of each name)."""

    return run_cached(ctx, "nnx-module-values", lambda: assigned_values(ctx.module_statements, False))


def _built_from(ctx: Context, obj: cst.BaseExpression) -> cst.BaseExpression | None:
    """What `obj` was built from: its value in the function or module, or the annotation of the
    parameter it is (`model: MLP`)."""
    if not isinstance(obj, cst.Name):
        return obj if isinstance(obj, cst.Call) else None
    value = _locals(ctx).get(obj.value)
    if value is None and ctx.function is not None:
        for param in (*ctx.function.params.params, *ctx.function.params.kwonly_params):
            if param.name.value == obj.value and param.annotation is not None:
                return param.annotation.annotation
        value = module_values(ctx).get(obj.value)
    return value


def _keys_of_value(ctx: Context, value: cst.BaseExpression, depth: int) -> Keys:
    """The keys of a value's state: `MLP(rngs)`, `nnx.eval_shape(lambda: MLP(rngs))`, `MLP`."""
    callee = value.func if isinstance(value, cst.Call) else value
    api = nnx_api(ctx, callee)
    if api in _OPTIMIZERS:
        return Keys.OPTIMIZER
    if api == "eval_shape" and isinstance(value, cst.Call):
        args = positional_args(value)
        if args and isinstance(args[0].value, cst.Lambda):
            return _keys_of_value(ctx, args[0].value.body, depth)
        return Keys.UNKNOWN
    name = dotted_name(callee)
    klass = ctx.module_classes().get(name) if name else None
    if klass is None or depth > _DEPTH:
        return Keys.UNKNOWN
    return run_cached(ctx, ("nnx-keys", id(klass)), lambda: _keys_of_class(ctx, klass, depth))


def _keys_of_class(ctx: Context, klass: cst.ClassDef, depth: int) -> Keys:
    """A class of this file: its attributes' keys, the most telling first."""
    found = Keys.STRINGS
    for method in class_methods(klass).values():
        values = []
        for small in small_statements(body_of(method)):
            if isinstance(small, cst.Assign) and any(_is_self_attribute(t.target) for t in small.targets):
                values.append(small.value)
            elif isinstance(small, cst.AnnAssign) and small.value is not None and _is_self_attribute(small.target):
                values.append(small.value)
        keys = _worst(ctx, values, depth, method)
        if keys is Keys.INTEGERS:
            return keys
        if keys is Keys.UNKNOWN:
            found = keys
    return found


def _is_self_attribute(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, cst.Attribute) and isinstance(expr.value, cst.Name) and expr.value.value == "self"


def _keys_of_attribute(ctx: Context, value: cst.BaseExpression, depth: int, method: cst.FunctionDef) -> Keys:
    """Keys an attribute's value adds: list and tuple indices, or those of what it holds."""
    if isinstance(value, cst.Name) and depth <= _DEPTH:
        # `layers = [...]` then `self.layers = layers`.
        local = local_values(ctx, method).get(value.value)
        if local is not None:
            return _keys_of_attribute(ctx, local, depth + 1, method)
    if isinstance(value, (cst.List, cst.Tuple, cst.ListComp, cst.GeneratorExp)):
        return Keys.INTEGERS
    if isinstance(value, cst.Dict):
        if any(isinstance(e, cst.DictElement) and isinstance(e.key, cst.Integer) for e in value.elements):
            return Keys.INTEGERS
        return _worst(ctx, [e.value for e in value.elements if isinstance(e, cst.DictElement)], depth, method)
    if isinstance(value, cst.DictComp):
        return _keys_of_attribute(ctx, value.value, depth, method)
    if not isinstance(value, cst.Call):
        # Numbers, names and arithmetic: static attributes, or arrays without keys of their own.
        return Keys.STRINGS
    api = nnx_api(ctx, value.func)
    if api in _INDEXED or api in _OPTIMIZERS:
        return Keys.INTEGERS
    if api == "Dict":
        return _worst(ctx, [a.value for a in value.args], depth, method)
    if api is not None:
        # Layers, variables, `nnx.Rngs`: named attributes only.
        return Keys.STRINGS
    if isinstance(value.func, cst.Name) and value.func.value in _INDEXED_BUILTINS:
        return Keys.INTEGERS
    name = dotted_name(value.func)
    if name and name in ctx.module_classes():
        return _keys_of_value(ctx, value, depth + 1)
    qualified = ctx.qualname(value.func) or ""
    # Arrays (`jnp.zeros`) have no keys; anything else is a class this file does not show.
    return Keys.STRINGS if qualified.startswith(("jax.", "numpy.")) else Keys.UNKNOWN


def _worst(ctx: Context, values: list[cst.BaseExpression], depth: int, method: cst.FunctionDef) -> Keys:
    found = Keys.STRINGS
    for value in values:
        keys = _keys_of_attribute(ctx, value, depth, method)
        if keys in (Keys.INTEGERS, Keys.OPTIMIZER):
            return Keys.INTEGERS
        if keys is Keys.UNKNOWN:
            found = Keys.UNKNOWN
    return found
