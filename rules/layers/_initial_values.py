"""The `shape` and `initializer` of `self.add_weight` that create the same variable as a
`tf.Variable(<initial value>)`, for the initial values layers commonly write in `build`.

Why not `keras.Variable(<value>)` there: on JAX, a layer that is first built inside `fit()`
(a subclassed model that was never called before) builds in a stateless scope, where Keras 3
refuses a variable made from a value ("You are attempting to create a variable while in a
stateless scope"); `add_weight` with an initializer defers the value and works everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst

from ..engine.context import Context, positional_args
from ._common import keras_reference

# Functions whose first argument is a shape and whose value is constant.
_FILLED = {
    "zeros": ("tensorflow.zeros", "numpy.zeros", "keras.ops.zeros", "jax.numpy.zeros"),
    "ones": ("tensorflow.ones", "numpy.ones", "keras.ops.ones", "jax.numpy.ones"),
}
_FILL_WITH = {
    # qualified name -> (shape parameter, value parameter), both also positional 0 and 1.
    "tensorflow.fill": ("dims", "value"),
    "numpy.full": ("shape", "fill_value"),
    "keras.ops.full": ("shape", "fill_value"),
}
# Random draws: Keras initializer, its parameters in the op's positional order after the
# shape, and the op's defaults (the initializers' own defaults differ: RandomNormal has
# stddev=0.05 where tf.random.normal has 1.0, so every parameter is passed explicitly).
_RANDOM = {
    "tensorflow.random.normal": ("RandomNormal", ("mean", "stddev"), ("0.0", "1.0")),
    "tensorflow.random.truncated_normal": ("TruncatedNormal", ("mean", "stddev"), ("0.0", "1.0")),
    "tensorflow.random.uniform": ("RandomUniform", ("minval", "maxval"), ("0.0", "1.0")),
    "keras.random.normal": ("RandomNormal", ("mean", "stddev"), ("0.0", "1.0")),
    "keras.random.truncated_normal": ("TruncatedNormal", ("mean", "stddev"), ("0.0", "1.0")),
    "keras.random.uniform": ("RandomUniform", ("minval", "maxval"), ("0.0", "1.0")),
}
# Where `dtype` and `seed` sit among the positional arguments of each random op (after the
# shape and the two parameters above): tf.random.normal(shape, mean, stddev, dtype, seed).
_RANDOM_TAIL = ("dtype", "seed")


@dataclass(frozen=True)
class WeightSpec:
    """Code for the `shape=`, `initializer=` and (when the value fixes it) `dtype=` arguments."""

    shape: str
    initializer: str
    dtype: str | None
    imports: tuple[str, ...]


def weight_spec(value: cst.BaseExpression, ctx: Context) -> WeightSpec | None:
    """How `add_weight` makes the variable `tf.Variable(value)` makes, or None if unknown."""
    if isinstance(value, (cst.Integer, cst.Float)) or (
        isinstance(value, cst.UnaryOperation) and isinstance(value.expression, (cst.Integer, cst.Float))
    ):
        return _constant("()", _code(value, ctx), None, ctx)
    if isinstance(value, cst.BinaryOperation) and isinstance(value.operator, cst.Multiply):
        # `np.ones(shape) * scale`, `scale * tf.ones(shape)`: a constant of that shape.
        for ones, factor in ((value.left, value.right), (value.right, value.left)):
            spec = _filled(ones, ctx)
            if spec is not None and spec[0] == "ones" and _plain(factor):
                return _constant(spec[1], _code(factor, ctx), spec[2], ctx)
        return None
    if not isinstance(value, cst.Call):
        return None
    filled = _filled(value, ctx)
    if filled is not None:
        kind, shape, dtype = filled
        return WeightSpec(shape, f'"{kind}"', dtype, ())
    qualified = ctx.qualname(value.func)
    if qualified in _FILL_WITH:
        shape_name, value_name = _FILL_WITH[qualified]
        arguments = _arguments(value, (shape_name, value_name, "dtype"))
        if arguments is None or shape_name not in arguments or value_name not in arguments:
            return None
        shape = _shape(arguments[shape_name], ctx)
        if shape is None:
            return None
        return _constant(shape, _code(arguments[value_name], ctx), _dtype(arguments.get("dtype"), ctx), ctx)
    if qualified in _RANDOM:
        return _random(value, qualified, ctx)
    return None


def _filled(call: cst.BaseExpression, ctx: Context) -> tuple[str, str, str | None] | None:
    """("zeros" | "ones", shape code, dtype code) for `tf.zeros(shape, dtype)` and kin."""
    if not isinstance(call, cst.Call):
        return None
    qualified = ctx.qualname(call.func)
    for kind, names in _FILLED.items():
        if qualified in names:
            arguments = _arguments(call, ("shape", "dtype"))
            if arguments is None or "shape" not in arguments:
                return None
            shape = _shape(arguments["shape"], ctx)
            return None if shape is None else (kind, shape, _dtype(arguments.get("dtype"), ctx))
    return None


def _random(call: cst.Call, qualified: str, ctx: Context) -> WeightSpec | None:
    initializer, parameters, defaults = _RANDOM[qualified]
    arguments = _arguments(call, ("shape", *parameters, *_RANDOM_TAIL))
    shape = _shape(arguments["shape"], ctx) if arguments is not None and "shape" in arguments else None
    if arguments is None or shape is None:
        return None
    seed = arguments.get("seed")
    # A Keras initializer takes an integer seed or a SeedGenerator, like keras.random; a
    # TensorFlow op-level seed is an integer too. Anything else cannot be carried over.
    if seed is not None and not isinstance(seed, (cst.Integer, cst.Attribute, cst.Name)):
        return None
    reference = keras_reference(ctx, f"initializers.{initializer}")
    if reference is None:
        return None
    code, imports = reference
    values = [
        f"{name}={_code(arguments[name], ctx) if name in arguments else default}"
        for name, default in zip(parameters, defaults)
    ]
    if seed is not None:
        values.append(f"seed={_code(seed, ctx)}")
    dtype = arguments.get("dtype")
    return WeightSpec(shape, f"{code}({', '.join(values)})", _dtype(dtype, ctx), imports)


def _constant(shape: str, value: str, dtype: str | None, ctx: Context) -> WeightSpec | None:
    reference = keras_reference(ctx, "initializers.Constant")
    if reference is None:
        return None
    code, imports = reference
    return WeightSpec(shape, f"{code}({value})", dtype, imports)


def _arguments(call: cst.Call, names: tuple[str, ...]) -> dict[str, cst.BaseExpression] | None:
    """The call's arguments by parameter name (positional ones in `names` order), or None
    when it passes anything else (`*args`, an unknown keyword such as `name=`)."""
    if any(arg.star for arg in call.args):
        return None
    positional = positional_args(call)
    if len(positional) > len(names):
        return None
    found = {name: arg.value for name, arg in zip(names, positional)}
    for arg in call.args:
        if arg.keyword is None:
            continue
        if arg.keyword.value not in names or arg.keyword.value in found:
            return None
        found[arg.keyword.value] = arg.value
    return found


def _plain(expr: cst.BaseExpression) -> bool:
    """A value worth repeating as `Constant(...)`: a number, a name or an attribute chain."""
    if isinstance(expr, (cst.Integer, cst.Float, cst.Name)):
        return True
    if isinstance(expr, cst.UnaryOperation):
        return _plain(expr.expression)
    return isinstance(expr, cst.Attribute) and _plain(expr.value)


def _shape(node: cst.BaseExpression, ctx: Context) -> str | None:
    """Shape code `add_weight` accepts: NumPy and TensorFlow also take a bare integer, Keras
    needs a sequence; an expression that may be either (`self.units`) is not guessed."""
    if isinstance(node, cst.Integer):
        return f"({_code(node, ctx)},)"
    if isinstance(node, (cst.List, cst.Tuple)):
        return _code(node, ctx)
    if isinstance(node, cst.Subscript) and all(isinstance(e.slice, cst.Slice) for e in node.slice):
        return _code(node, ctx)
    return None


def _code(node: cst.CSTNode, ctx: Context) -> str:
    return ctx.module.code_for_node(node)


def _dtype(node: cst.BaseExpression | None, ctx: Context) -> str | None:
    """`"float32"` for `tf.float32` or `np.float32` (Keras takes dtype names on every backend)."""
    if node is None:
        return None
    qualified = ctx.qualname(node)
    if qualified is not None and qualified.startswith(("tensorflow.", "numpy.")) and qualified.count(".") == 1:
        return f'"{qualified.split(".")[1]}"'
    return _code(node, ctx)

