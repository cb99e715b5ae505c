"""Whether the layers a model calls would see another `training` flag under Keras 3's default step.

The default step calls `self(x, training=True)` only when the model's `call` declares a
`training` parameter; otherwise it calls `self(x)`, and the layers inside get `training=None`
(Dropout and BatchNormalization then act as in inference), where a custom step's
`self(x, training=True)` gave them True. So a model whose `call` has no `training` parameter
keeps its behaviour without the custom step only when nothing its `call` reaches reads the flag:
every layer it calls is built in the class from a layer whose `call` has no `training`
parameter, or from a class of this module that passes the same test.
"""

from __future__ import annotations

from collections.abc import Callable

import libcst as cst

from ..engine.context import Context, class_methods, keras_api
from ..engine.names import function_bindings
from ..engine.walker import calls_in
from ._common import body_of, is_self_attribute, small_statements
from ._default_step import step_resolver

# Keras layers whose `call` takes no `training` argument (read from `inspect.signature` in
# Keras 3.15.1), and `Dense` / `EinsumDense`, which read it only when quantized to float8.
_FLAG_FREE_LAYERS = frozenset(
    {
        "Activation", "ActivityRegularization", "Add", "Average", "AveragePooling1D",
        "AveragePooling2D", "AveragePooling3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
        "CategoryEncoding", "Concatenate", "Conv1D", "Conv1DTranspose", "Conv2D",
        "Conv2DTranspose", "Conv3D", "Conv3DTranspose", "Convolution1D", "Convolution2D",
        "Convolution3D", "Cropping1D", "Cropping2D", "Cropping3D", "Dense", "DepthwiseConv1D",
        "DepthwiseConv2D", "Discretization", "Dot", "ELU", "EinsumDense", "Embedding", "Flatten",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        "GlobalAvgPool1D", "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D",
        "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalMaxPooling1D", "GlobalMaxPooling2D",
        "GlobalMaxPooling3D", "GroupNormalization", "Hashing", "Identity", "IntegerLookup",
        "LayerNormalization", "LeakyReLU", "Masking", "MaxPool1D", "MaxPool2D", "MaxPool3D",
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "Maximum", "Minimum", "Multiply",
        "Normalization", "PReLU", "Permute", "ReLU", "RepeatVector", "Rescaling", "Reshape",
        "SeparableConv1D", "SeparableConv2D", "Softmax", "StringLookup", "Subtract",
        "TextVectorization", "ThresholdedReLU", "UnitNormalization", "UpSampling1D",
        "UpSampling2D", "UpSampling3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
    }
)
_PLAIN_LAYER = frozenset({"layers.Layer", "Layer", "engine.base_layer.Layer"})
# Keras functions that never read the training flag (`keras.backend` does: `in_train_phase`).
_FLAG_FREE_KERAS = ("ops.", "activations.", "initializers.", "regularizers.", "constraints.")
_FLAG_FREE_MODULES = ("tensorflow.", "numpy.", "jax.numpy.", "jax.nn.", "jax.lax.", "math.")
# Methods every Layer has that a `call` may use.
_LAYER_METHODS = frozenset({"add_loss", "add_weight"})


def _self_assignments(klass: cst.ClassDef) -> dict[str, list[tuple[cst.BaseExpression, cst.FunctionDef]]]:
    """Every value assigned to `self.<attr>` in the methods of the class, with its method."""
    found: dict[str, list[tuple[cst.BaseExpression, cst.FunctionDef]]] = {}
    for method in class_methods(klass).values():
        for small in small_statements(body_of(method)):
            if isinstance(small, cst.Assign):
                targets = [t.target for t in small.targets]
            elif isinstance(small, cst.AnnAssign) and small.value is not None:
                targets = [small.target]
            else:
                continue
            for target in targets:
                if is_self_attribute(target):
                    values = found.setdefault(target.attr.value, [])  # type: ignore[union-attr]
                    values.append((small.value, method))  # type: ignore[arg-type]
    return found


class _FlagAnalysis:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.seen: set[int] = set()

    def local_class(self, expr: cst.BaseExpression, resolve: Callable) -> cst.ClassDef | None:
        if isinstance(expr, cst.Name) and resolve(expr) is None:
            return self.ctx.module_classes().get(expr.value)
        return None

    def construction_is_free(self, value: cst.BaseExpression, resolve: Callable) -> bool:
        """`value` builds a layer that ignores the flag: `layers.Dense(...)`, `MyLayer(...)`."""
        if not isinstance(value, cst.Call):
            return False
        api = keras_api(resolve(value.func))
        if api is not None:
            return api[0].startswith("layers.") and api[0][7:] in _FLAG_FREE_LAYERS
        local = self.local_class(value.func, resolve)
        return local is not None and self.class_is_free(local)

    def class_is_free(self, klass: cst.ClassDef) -> bool:
        """A layer class of this module whose `call` reads no flag, nor does anything it calls."""
        if id(klass) in self.seen:
            return True
        self.seen.add(id(klass))
        if not self.ctx.is_keras_class(klass) or len(klass.bases) != 1 or klass.keywords:
            return False
        base = klass.bases[0].value
        api = keras_api(self.ctx.qualname(base))
        own_call = class_methods(klass).get("call")
        if api is not None:
            name = api[0]
            inherits_free = name.startswith("layers.") and name[7:] in _FLAG_FREE_LAYERS
            if not (name in _PLAIN_LAYER and own_call is not None) and not inherits_free:
                return False
        else:
            parent = self.ctx.module_classes().get(base.value) if isinstance(base, cst.Name) else None
            if parent is None or parent is klass or not self.class_is_free(parent):
                return False
        return own_call is None or self.call_is_free(klass, own_call)

    def call_is_free(self, klass: cst.ClassDef, method: cst.FunctionDef) -> bool:
        names = {p.name.value for p in (*method.params.params, *method.params.kwonly_params)}
        if "training" in names:
            return False
        return self.method_is_free(klass, method, set())

    def method_is_free(self, klass: cst.ClassDef, method: cst.FunctionDef, visited: set[str]) -> bool:
        visited.add(method.name.value)
        resolve = step_resolver(self.ctx, method)
        local = function_bindings(method)
        own = class_methods(klass)
        assigned = _self_assignments(klass)
        for call in calls_in(method.body):
            func = call.func
            if self.construction_is_free(call, resolve):
                continue
            if isinstance(func, cst.Call):
                # `layers.Dense(3)(x)`: the layer built right here.
                if not self.construction_is_free(func, resolve):
                    return False
            elif is_self_attribute(func):
                attr = func.attr.value  # type: ignore[union-attr]
                if attr in own:
                    if attr in ("call", "__call__"):
                        return False
                    if attr not in visited and not self.method_is_free(klass, own[attr], visited):
                        return False
                elif attr in assigned:
                    if not all(
                        self.construction_is_free(value, step_resolver(self.ctx, where))
                        for value, where in assigned[attr]
                    ):
                        return False
                elif attr not in _LAYER_METHODS:
                    return False
            elif not self.function_is_free(func, resolve, local):
                return False
        return True

    def function_is_free(self, func: cst.BaseExpression, resolve: Callable, local: dict) -> bool:
        """A callee that is not a layer: a TensorFlow / NumPy / `keras.ops` function, a builtin,
        or a method of a value (`x.sum()`)."""
        qualified = resolve(func)
        if qualified:
            api = keras_api(qualified)
            if api is not None:
                return api[0].startswith(_FLAG_FREE_KERAS)
            return qualified.startswith(_FLAG_FREE_MODULES)
        root = func
        while isinstance(root, cst.Attribute):
            root = root.value
        if isinstance(func, cst.Attribute):
            # A method of a local value or of `self.<attr>` (e.g. `self.kernel.assign`); never
            # `super().call(...)`.
            if isinstance(root, cst.Call) and isinstance(root.func, cst.Name) and root.func.value == "super":
                return False
            return True
        if isinstance(func, cst.Name):
            # A builtin (bound nowhere), not a local variable or a function of this module.
            name = func.value
            bound = name in local or self.ctx.scopes.is_bound(name)
            return not bound and name not in self.ctx.module_classes()
        return False


def layers_see_same_flag(ctx: Context, klass: cst.ClassDef) -> bool:
    """Whether deleting the model's custom step leaves the `training` flag its layers get as it
    was: its `call` takes `training` (the default passes it), it has no `call` of its own (a
    functional or Sequential model's takes it), or nothing its `call` reaches reads the flag."""
    call = class_methods(klass).get("call")
    if call is None:
        return True
    params = (*call.params.posonly_params, *call.params.params, *call.params.kwonly_params)
    if any(p.name.value == "training" for p in params):
        return True
    return _FlagAnalysis(ctx).call_is_free(klass, call)
