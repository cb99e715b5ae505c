"""KER801, KER802: code that needs concrete values inside functions JAX traces."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_argument, positional_params
from ..engine.names import dotted_name, name_nodes
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..training._common import local_values, traced_class

_TENSOR_CALL_PREFIXES = ("tensorflow.", "jax.", "keras.ops.", "keras.random.")
# What makes a concrete value of a tensor: `x.numpy()`, `float(x)`, `np.asarray(x)` ...
_CONCRETE_METHODS = frozenset({"numpy", "item"})
_CONCRETE_FUNCTIONS = frozenset({"float", "int", "bool"})
_CONVERSIONS = frozenset({"convert_to_numpy", "array", "asarray"})


@lru_cache(maxsize=1)
def _table() -> dict:
    table = load_toml("jax_traced.toml")
    return {
        "data_dependent": frozenset(table["data_dependent"]),
        "one_argument": frozenset(table["one_argument"]),
        "keras_ops": frozenset(table["keras_ops"]),
        "jit_decorators": frozenset(table["jit_decorators"]),
    }


def _jitted(ctx: Context) -> cst.FunctionDef | None:
    """The innermost enclosing function decorated with `jax.jit` (also `partial(jax.jit, ...)`)."""
    decorators = _table()["jit_decorators"]
    for function in reversed(ctx.functions):
        for decorator in function.decorators:
            expr = decorator.decorator
            if isinstance(expr, cst.Call):
                if ctx.qualname(expr.func) == "functools.partial" and expr.args:
                    expr = expr.args[0].value
                else:
                    expr = expr.func
            if ctx.qualname(expr) in decorators:
                return function
    return None


# TensorFlow calls that run the Python function they are given eagerly, outside the trace.
_EAGER_CALLS = frozenset(
    {"tensorflow.py_function", "tensorflow.numpy_function", "tensorflow.py_func", "tensorflow.compat.v1.py_func"}
)


def _eager_callback(ctx: Context) -> bool:
    """Whether the innermost function is a nested `def` that its enclosing function hands to
    `tf.py_function` / `tf.numpy_function` (directly, or through a name assigned from it:
    `fn = as_text if strings else as_int`): TensorFlow runs it eagerly, with concrete values."""
    if len(ctx.functions) < 2:
        return False
    inner, outer = ctx.functions[-1], ctx.functions[-2]
    names = {inner.name.value}
    calls: list[cst.Call] = []
    todo: list[cst.CSTNode] = [outer.body]
    while todo:
        node = todo.pop()
        if isinstance(node, (cst.FunctionDef, cst.ClassDef)):
            continue
        if isinstance(node, cst.Assign) and len(node.targets) == 1 and isinstance(node.targets[0].target, cst.Name):
            if any(isinstance(n, cst.Name) and n.value in names for n in name_nodes(node.value)):
                names.add(node.targets[0].target.value)
        elif isinstance(node, cst.Call):
            calls.append(node)
        todo.extend(node.children)
    for call in calls:
        if ctx.qualname(call.func) not in _EAGER_CALLS:
            continue
        given = call_argument(call, 0, ("func",))
        if given is not None and isinstance(given.value, cst.Name) and given.value.value in names:
            return True
    return False


def traced_function(ctx: Context) -> cst.FunctionDef | None:
    """The function being traced: a Keras `call`/step method or a jitted function; not a
    nested function given to `tf.py_function`, which runs eagerly."""
    if _eager_callback(ctx):
        return None
    if traced_class(ctx) is not None:
        return next((f for f in ctx.functions if any(f is s for s in ctx.klass.body.body)), None)  # type: ignore[union-attr]
    return _jitted(ctx)


def _is_tensor(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef) -> bool:
    """A parameter of the traced function without default (not `self`), or a name assigned
    from a TensorFlow / JAX / `keras.ops` call in it."""
    if not isinstance(expr, cst.Name):
        return False
    for param in positional_params(function):
        if param.name.value == expr.value:
            return param.default is None and expr.value != "self"
    value = local_values(ctx, function).get(expr.value)
    if isinstance(value, cst.Call):
        qualified = ctx.qualname(value.func)
        return bool(qualified) and qualified.startswith(_TENSOR_CALL_PREFIXES)  # type: ignore[union-attr]
    return False


class ConcreteValueInTracedCode(Rule):
    """
    ## Why
    Keras compiles `call()` and the step methods (and `jax.jit` compiles decorated functions):
    inside them a tensor is a tracer without a value. `.numpy()`, `.item()`,
    `keras.ops.convert_to_numpy(x)`, `np.array(x)` and `float(x)` / `int(x)` / `bool(x)` need
    the value: JAX fails with the obscure `AttributeError: 'str' object has no attribute
    '_error_repr'` (or a `ConcretizationTypeError`); TensorFlow with `Cannot convert a symbolic
    tf.Tensor (…) to a numpy array` (`np.array`, `convert_to_numpy`), `TypeError: float()
    argument must be a string or a real number, not 'SymbolicTensor'` or `AttributeError:
    'SymbolicTensor' object has no attribute 'numpy'`. PyTorch runs `call()` eagerly, where
    the values exist. A nested function given to `tf.py_function` or `tf.numpy_function`
    (directly or through a name assigned from it) runs eagerly too, and is not reported.

    ## Example
    ```python
    def call(self, x):
        scale = float(ops.max(x))
        return x / scale
    ```

    ## Use instead
    Keep the computation in tensors: `x / ops.max(x)`; use `ops.where` / `ops.cond` for
    decisions; convert to NumPy outside the model (after `predict`).

    ## Backends
    JAX and TensorFlow.

    ## Fix safety
    No fix: the computation must stay symbolic.

    ## References
    - Catalogue MB-JAX-002.
    """

    code = "KER801"
    name = "concrete-value-in-traced-code"
    message = "`{what}` needs a concrete value, but this code is traced: keep it a tensor (`keras.ops`)"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "tensorflow"})
    examples = (
        Example(
            "import keras\nfrom keras import ops\n"
            "class Scale(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        peak = ops.max(x)\n"
            "        return x / «float(peak)»\n"
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        print(«data.numpy()»)\n"
            "        return {}\n"
        ),
        Example(
            "import keras\nimport numpy as np\n"
            "class L(keras.layers.Layer):\n"
            "    def call(self, inputs, training=None):\n"
            "        if bool(training):\n"
            "            return «keras.ops.convert_to_numpy(inputs)» + «np.asarray(inputs)»\n"
            "        return inputs\n"
        ),
        Example(
            "import jax\n@jax.jit\ndef step(x):\n    return «x.item()» * 2\n"
        ),
        # A nested function that `tf.map_fn` traces.
        Example(
            "import tensorflow as tf\nimport keras\n"
            "class Tokens(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        def per_item(t):\n"
            "            return «t.numpy()»\n"
            "        return tf.map_fn(per_item, x)\n"
        ),
    )
    valid = (
        # Functions given to `tf.py_function` run eagerly, on concrete values.
        "import tensorflow as tf\nimport keras\n"
        "class Skip(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        def as_text(token):\n            return token.numpy().decode('utf-8')\n"
        "        def as_int(token):\n            return int(token.numpy())\n"
        "        fn = as_text if x.dtype == tf.string else as_int\n"
        "        return tf.map_fn(lambda t: tf.py_function(fn, [t], 'bool'), x)\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x, ops):\n        return ops.convert_to_numpy(x)\n",
        "import keras\nclass L(keras.layers.Layer):\n    def __init__(self, units):\n"
        "        super().__init__()\n        self.units = int(units)\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x, training=False):\n"
        "        return x * float(self.rate) if bool(training) else x\n",
        "import keras\npreds = model.predict(x)\nprint(preds.numpy())\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x):\n        return x * float(2)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_CONCRETE_METHODS | _CONCRETE_FUNCTIONS | _CONVERSIONS)

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            attr = func.attr.value
            if attr in _CONCRETE_METHODS:
                if node.args or traced_function(ctx) is None:
                    return
                ctx.report(node, self.message.format(what=f".{attr}()"))
                return
            if attr not in _CONVERSIONS:
                return
        elif isinstance(func, cst.Name):
            if func.value not in _CONCRETE_FUNCTIONS or len(node.args) != 1:
                return
        else:
            return
        function = traced_function(ctx)
        if function is None:
            return
        if isinstance(func, cst.Name):
            if ctx.scopes.is_bound(func.value) or not _is_tensor(ctx, node.args[0].value, function):
                return
            ctx.report(node, self.message.format(what=f"{func.value}()"))
            return
        qualified = ctx.qualname(func)
        if qualified in ("numpy.array", "numpy.asarray"):
            if not node.args or not _is_tensor(ctx, node.args[0].value, function):
                return
        else:
            api = ctx.keras_api(func)
            if api is None or api[0] != "ops.convert_to_numpy":
                return
        ctx.report(node, self.message.format(what=dotted_name(func) or func.attr.value))


class DataDependentShape(Rule):
    """
    ## Why
    JAX compiles for fixed shapes. Boolean-mask indexing (`x[x > 0]`), `tf.boolean_mask`,
    `unique`, `nonzero` and one-argument `where` return as many elements as the data selects, so
    they cannot be traced: `NonConcreteBooleanIndexError: Array boolean indices must be
    concrete` (TensorFlow runs the same code). So do `repeat` and `tile` given counts computed
    from tensors (`ops.repeat(x, lengths)` with `lengths = ops.sum(mask, axis=1)`): building or
    running the model fails with `'str' object has no attribute '_error_repr'` (a hidden
    `ConcretizationTypeError`) for `repeat`, `the value of parameter reps was not hashable`
    for `tile`. Counts from `ops.shape(x)` are static and fine.

    ## Example
    ```python
    def call(self, x):
        return ops.sum(x[x > 0])
    ```

    ## Use instead
    Keep the shape and mask the values: `ops.sum(ops.where(x > 0, x, 0))`; JAX's `nonzero`,
    `unique` and `where` also accept a static `size=`. Give `repeat` / `tile` Python ints or
    static shapes (`jnp.repeat` also takes a static `total_repeat_length=`), or pad to a
    fixed size and mask.

    ## Backends
    JAX.

    ## Fix safety
    No fix: masking changes what the code computes downstream.

    ## References
    - Catalogue MB-JAX-003.
    """

    code = "KER802"
    name = "data-dependent-shape"
    message = "`{what}` has a data-dependent shape, which JAX cannot trace: mask with `ops.where(cond, x, 0)` instead"
    nodes = (cst.Call, cst.Subscript)
    backends = frozenset({"jax"})
    examples = (
        Example(
            "import keras\nfrom keras import ops\n"
            "class Pos(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return ops.sum(x[«x > 0»])\n"
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def call(self, x, mask):\n"
            "        kept = «tf.boolean_mask(x, mask)»\n"
            "        return «tf.where(mask)», kept\n"
        ),
        Example(
            "import jax\nimport jax.numpy as jnp\n"
            "@jax.jit\n"
            "def count(x):\n"
            "    return «jnp.unique(x)», «jnp.where(x > 1)», jnp.unique(x, size=3)\n"
        ),
        Example(
            "import keras\nfrom keras import ops\n"
            "class Expand(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        lengths = ops.cast(ops.sum(x, axis=0), 'int32')\n"
            "        rows = «ops.repeat(x, lengths, axis=0)»\n"
            "        return «ops.tile(rows, lengths)», ops.repeat(x, ops.shape(x)[0], axis=1)\n"
        ),
        Example(
            "from keras import Model, ops\n"
            "class M(Model):\n"
            "    def train_step(self, state, data):\n"
            "        idx = «ops.nonzero(data)»\n"
            "        return {}, state\n"
        ),
    )
    valid = (
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x, tf):\n        return tf.boolean_mask(x, x > 0)\n",
        "import keras\nfrom keras import ops\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
        "        return ops.where(x > 0, x, 0)\n",
        "import numpy as np\nimport keras\nx = np.arange(3)\nprint(x[x > 0])\n",
        "import keras\nclass L(keras.layers.Layer):\n    def call(self, x):\n        return x[0]\n",
        # Static counts: shapes and Python values.
        "import keras\nfrom keras import ops\nclass L(keras.layers.Layer):\n    def call(self, x, times):\n"
        "        shape = ops.shape(x)\n        return ops.tile(ops.repeat(x, times, axis=1), shape)\n",
        "import jax\nimport jax.numpy as jnp\n@jax.jit\ndef grow(x):\n    n = jnp.sum(x)\n"
        "    return jnp.repeat(x, n, total_repeat_length=8)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_COUNTED.keys() | _DATA_DEPENDENT_LEAVES)

    def visit(self, node: cst.Call | cst.Subscript, ctx: Context) -> None:
        if not ctx.functions:
            return
        if isinstance(node, cst.Subscript):
            if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
                return
            index = node.slice[0].slice.value
            if not _is_mask(index) or traced_function(ctx) is None:
                return
            ctx.report(index, self.message.format(what="x[mask]"))
            return
        func = node.func
        if not isinstance(func, (cst.Attribute, cst.Name)):
            return
        leaf = func.attr.value if isinstance(func, cst.Attribute) else func.value
        if leaf in _COUNTED:
            self._traced_counts(node, leaf, ctx)
            return
        if leaf not in _DATA_DEPENDENT_LEAVES:
            return
        qualified = ctx.qualname(func)
        table = _table()
        api = ctx.keras_api(func)
        keras_name = api[0] if api else None
        positional = [a for a in node.args if a.keyword is None]
        if qualified in table["data_dependent"] or keras_name in table["keras_ops"]:
            if any(a.keyword is not None and a.keyword.value == "size" for a in node.args):
                return
        elif qualified in table["one_argument"] or keras_name == "ops.where":
            if len(node.args) != 1 or len(positional) != 1:
                return
        else:
            return
        if traced_function(ctx) is None:
            return
        name = (qualified or "").replace("tensorflow.", "tf.", 1).replace("jax.numpy.", "jnp.", 1)
        ctx.report(node, self.message.format(what=f"{name}(...)" if name else leaf))

    def _traced_counts(self, node: cst.Call, leaf: str, ctx: Context) -> None:
        """`ops.repeat(x, n)` / `ops.tile(x, n)` with `n` computed from tensors in traced code."""
        api = ctx.keras_api(node.func)
        qualified = f"keras.{api[0]}" if api else ctx.qualname(node.func)
        if qualified not in (f"keras.ops.{leaf}", f"jax.numpy.{leaf}"):
            return
        if any(a.keyword is not None and a.keyword.value == "total_repeat_length" for a in node.args):
            return
        count = call_argument(node, 1, _COUNTED[leaf])
        function = traced_function(ctx)
        if count is None or function is None or not _computed_tensor(ctx, count.value, function):
            return
        name = qualified.replace("keras.", "", 1).replace("jax.numpy.", "jnp.", 1)
        ctx.report(node, _COUNT_MESSAGE.format(what=f"{name}(...)"))


# Functions whose second argument sets how many elements come out.
_COUNTED = {"repeat": ("repeats",), "tile": ("repeats", "reps", "multiples")}
# The ops whose output shape depends on the values (`tf.boolean_mask`, `jnp.unique`, ...).
_DATA_DEPENDENT_LEAVES = frozenset(
    {"boolean_mask", "unique", "unique_with_counts", "nonzero", "argwhere", "flatnonzero", "where"}
)
_COUNT_MESSAGE = (
    "`{what}` with counts computed from tensors has a data-dependent shape, which JAX cannot "
    "trace: use Python ints or static shapes (`ops.shape(x)`), or pad to a fixed size"
)
# Calls under the tensor prefixes that give static shapes on JAX, not tensors.
_STATIC_RESULTS = (".shape", ".ndim", ".size")


def _computed_tensor(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef) -> bool:
    """A name assigned in `function` from a TensorFlow / JAX / `keras.ops` call other than a
    shape query (a parameter may well be a Python int: not assumed a tensor here)."""
    if not isinstance(expr, cst.Name):
        return False
    value = local_values(ctx, function).get(expr.value)
    if not isinstance(value, cst.Call):
        return False
    qualified = ctx.qualname(value.func) or ""
    return qualified.startswith(_TENSOR_CALL_PREFIXES) and not qualified.endswith(_STATIC_RESULTS)


def _is_mask(index: cst.BaseExpression) -> bool:
    """A boolean mask by its shape: a comparison, or comparisons joined by `&` / `|` / `~`."""
    if isinstance(index, cst.Comparison):
        return not any(
            isinstance(c.operator, (cst.In, cst.NotIn, cst.Is, cst.IsNot)) for c in index.comparisons
        )
    if isinstance(index, cst.BinaryOperation) and isinstance(index.operator, (cst.BitAnd, cst.BitOr)):
        return _is_mask(index.left) and _is_mask(index.right)
    if isinstance(index, cst.UnaryOperation) and isinstance(index.operator, cst.BitInvert):
        return _is_mask(index.expression)
    return False
