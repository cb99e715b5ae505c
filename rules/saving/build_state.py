"""KER311, KER312: layers and models whose state Keras 3 cannot rebuild when it loads them."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword, keras_api, positional_args
from ..engine.edits import FixSpec, Insert
from ..engine.names import target_names
from ..layers._common import all_param_names, class_methods, enclosing_method, param_name, self_assignments, self_attribute
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ..training._common import run_cached

_BUILD_METHODS = ("build", "build_from_config")
# What KER311's fix adds besides `build_from_config`.
_ADDED_METHODS = ("__call__", "get_build_config")


@dataclass(frozen=True)
class _Op:
    """A dtype-sensitive op: the arguments (position, keyword) that must be integer or boolean,
    and the backends whose tracing of it on a float32 placeholder fails."""

    name: str
    args: tuple[tuple[int, str], ...]
    backends: frozenset[str]


@lru_cache(maxsize=1)
def _ops() -> dict[str, _Op]:
    table = load_toml("saving_build_config.toml")["ops"]
    return {
        name: _Op(name, tuple((position, keyword) for position, keyword in row["args"]), frozenset(row["backends"]))
        for name, row in table.items()
    }


@lru_cache(maxsize=1)
def _op_leaves() -> frozenset[str]:
    return frozenset(name.rsplit(".", 1)[-1] for name in _ops())


def _op_of(ctx: Context, call: cst.Call) -> _Op | None:
    """The dtype-sensitive op `call` calls: `tf.where`, `keras.ops.take` (under any import)."""
    func = call.func
    leaf = func.attr.value if isinstance(func, cst.Attribute) else func.value if isinstance(func, cst.Name) else None
    if leaf not in _op_leaves():
        return None
    qualified = ctx.qualname(func)
    if qualified is None:
        return None
    api = keras_api(qualified)
    return _ops().get(f"keras.{api[0]}" if api is not None else qualified)


def _sensitive_args(call: cst.Call, op: _Op) -> list[cst.BaseExpression]:
    positional = positional_args(call)
    found = []
    for position, keyword in op.args:
        arg = call_keyword(call, keyword) or (positional[position] if position < len(positional) else None)
        if arg is not None:
            found.append(arg.value)
    return found


class _Bindings(cst.CSTVisitor):
    """How often each name is bound in a method, and the value of each plain `name = value`
    (tuple targets paired with tuple values, or unpacked from one name)."""

    def __init__(self) -> None:
        self.count: dict[str, int] = {}
        self.values: dict[str, cst.BaseExpression] = {}

    def _bind(self, target: cst.BaseExpression, value: cst.BaseExpression | None) -> None:
        if isinstance(target, cst.Name):
            self.count[target.value] = self.count.get(target.value, 0) + 1
            if value is not None:
                self.values[target.value] = value
        elif isinstance(target, (cst.Tuple, cst.List)):
            elements = [e.value for e in target.elements]
            if isinstance(value, (cst.Tuple, cst.List)) and len(value.elements) == len(elements):
                values = [e.value for e in value.elements]
                for element, element_value in zip(elements, values):
                    self._bind(element, element_value)
            else:
                # `x, mask = inputs`: each name is a part of `inputs`, as `inputs[i]` would be.
                whole = value if isinstance(value, cst.Name) else None
                for element in elements:
                    self._bind(element, whole)

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind(target.target, node.value if len(node.targets) == 1 else None)

    def _rebound(self, target: cst.BaseExpression) -> None:
        for name in target_names(target):
            self.count[name] = self.count.get(name, 0) + 1

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._rebound(node.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._rebound(node.target)

    def visit_For(self, node: cst.For) -> None:
        self._rebound(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._rebound(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._rebound(node.asname.name)

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._rebound(node.target)


def _from_inputs(expr: cst.BaseExpression, inputs: str, bindings: _Bindings, depth: int = 0) -> bool:
    """Whether `expr` is the inputs as Keras passes them, or a part of them: `inputs`,
    `inputs["mask"]`, `inputs[1]`, `inputs["ids"][:, 0]`, or a name bound once to one of those.
    Anything computed from them (`inputs["ids"] > 2`, a cast) has its own dtype."""
    if depth > 10:
        return False
    if isinstance(expr, cst.Name):
        if expr.value == inputs:
            return bindings.count.get(inputs, 0) == 0
        value = bindings.values.get(expr.value)
        return bindings.count.get(expr.value) == 1 and value is not None and _from_inputs(value, inputs, bindings, depth + 1)
    if isinstance(expr, cst.Subscript):
        return _from_inputs(expr.value, inputs, bindings, depth + 1)
    return False


class _SensitiveCalls(cst.CSTVisitor):
    """The dtype-sensitive calls of a method that get (a part of) its inputs, in source order."""

    def __init__(self, ctx: Context, inputs: str, bindings: _Bindings) -> None:
        self.ctx, self.inputs, self.bindings = ctx, inputs, bindings
        self.found: list[tuple[cst.Call, _Op]] = []

    def visit_Call(self, node: cst.Call) -> None:
        op = _op_of(self.ctx, node)
        if op is None:
            return
        for value in _sensitive_args(node, op):
            # `tf.gather_nd(x, [inputs["i"], inputs["j"]])`: the parts of a literal list count.
            values = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
            if any(_from_inputs(v, self.inputs, self.bindings) for v in values):
                self.found.append((node, op))
                return


def _findings(ctx: Context, method: cst.FunctionDef, inputs: str) -> list[tuple[cst.Call, _Op]]:
    """The method's reported calls, read once per lint for all of its dtype-sensitive calls."""

    def compute() -> list[tuple[cst.Call, _Op]]:
        bindings = _Bindings()
        method.body.visit(bindings)
        calls = _SensitiveCalls(ctx, inputs, bindings)
        method.body.visit(calls)
        return calls.found

    return run_cached(ctx, ("KER311-calls", id(method)), compute)


# What the fix adds: the first call's input dtypes are recorded and saved with the build
# config, and the model is rebuilt on load by calling it on zeros of those shapes and dtypes.
_REBUILD_METHODS = """\
def __call__(self, *args, **kwargs):
    # Keras saves only the input shapes; record the dtypes too, for `build_from_config`.
    if args and not hasattr(self, "_build_input_dtypes"):
        dtypes = [{standardize_dtype}(x.dtype) for x in {flatten}(args[0]) if hasattr(x, "dtype")]
        object.__setattr__(self, "_build_input_dtypes", dtypes)
    return super().__call__(*args, **kwargs)

def get_build_config(self):
    config = super().get_build_config()
    if config and "input_shape" in config and hasattr(self, "_build_input_dtypes"):
        config["input_dtypes"] = self._build_input_dtypes
    return config

def build_from_config(self, config):
    # Build by calling the model on zeros of the recorded dtypes, not on float placeholders.
    if "input_dtypes" not in config:
        return super().build_from_config(config)
    dtypes = iter(config["input_dtypes"])
    inputs = {map_shape_structure}(
        lambda shape: {zeros}([1 if n is None else n for n in shape], next(dtypes)),
        config["input_shape"],
    )
    self(inputs, training=False)
"""

_REFERENCES = {
    "standardize_dtype": "keras.backend.standardize_dtype",
    "flatten": "keras.tree.flatten",
    "map_shape_structure": "keras.tree.map_shape_structure",
    "zeros": "keras.ops.zeros",
}


def _rebuild_fix(ctx: Context, method: cst.FunctionDef) -> FixSpec | None:
    """Methods that save the input dtypes with the build config and rebuild from them, added
    after `call()`; None where a name they need cannot be spelled in this module."""
    names, imports = {}, []
    for key, qualified in _REFERENCES.items():
        found = ctx.reference(qualified)
        if found is None:
            return None
        names[key] = found[0]
        imports.extend(line for line in found[1] if line not in imports)
    default = ctx.module.default_indent
    indent = ""
    for parent in ctx.parents:
        if parent is method:
            break
        if isinstance(parent, cst.IndentedBlock):
            indent += default if parent.indent is None else parent.indent
    body = method.body
    unit = body.indent if isinstance(body, cst.IndentedBlock) and body.indent is not None else default
    lines = _REBUILD_METHODS.format(**names).replace("    ", unit).splitlines()
    text = "".join("\n" + (indent + line if line else "") for line in ["", *lines])
    return FixSpec.unsafe(
        "Save the input dtypes with the build config and rebuild the model from them on load",
        Insert(_last_statement(method), text, after=True),
        imports=imports,
    )


def _last_statement(function: cst.FunctionDef) -> cst.BaseSmallStatement:
    """The function's textually last simple statement: text added after it follows the function
    (before that line's comment and newline)."""
    block: cst.BaseSuite = function.body
    while True:
        if isinstance(block, cst.SimpleStatementSuite):
            return block.body[-1]
        last = block.body[-1]
        if isinstance(last, cst.SimpleStatementLine):
            return last.body[-1]
        block = _last_block(last)


def _last_block(statement: cst.BaseCompoundStatement) -> cst.BaseSuite:
    """The block a compound statement's text ends with (`finally:`, `else:`, the last `except:`
    or `case`, else its body)."""
    for name in ("finalbody", "orelse"):
        part = getattr(statement, name, None)
        if isinstance(part, cst.If):  # `elif`
            return _last_block(part)
        if part is not None:
            return part.body
    for name in ("handlers", "cases"):
        parts = getattr(statement, name, ())
        if parts:
            return parts[-1].body
    return statement.body


_MODEL_BASES = frozenset({"Model", "models.Model", "engine.training.Model"})


def _is_model(ctx: Context, klass: cst.ClassDef, depth: int = 0) -> bool:
    """Whether a class derives from `keras.Model` (through classes of this module). A layer is
    rebuilt by the model that holds it: a functional model calls it on inputs of the right dtype."""
    for base in klass.bases:
        if base.keyword is not None:
            continue
        api = ctx.keras_api(base.value)
        if api is not None and api[0] in _MODEL_BASES:
            return True
        local = ctx.module_classes().get(base.value.value) if isinstance(base.value, cst.Name) else None
        if local is not None and local is not klass and depth < 20 and _is_model(ctx, local, depth + 1):
            return True
    return False


# The fix's methods after a class's last method, as the examples show them.
_FIXED_METHODS = (
    '\n'
    '    def __call__(self, *args, **kwargs):\n'
    '        # Keras saves only the input shapes; record the dtypes too, for `build_from_config`.\n'
    '        if args and not hasattr(self, "_build_input_dtypes"):\n'
    '            dtypes = [keras.backend.standardize_dtype(x.dtype) for x in keras.tree.flatten(args[0]) if hasattr(x, "dtype")]\n'
    '            object.__setattr__(self, "_build_input_dtypes", dtypes)\n'
    '        return super().__call__(*args, **kwargs)\n'
    '\n'
    '    def get_build_config(self):\n'
    '        config = super().get_build_config()\n'
    '        if config and "input_shape" in config and hasattr(self, "_build_input_dtypes"):\n'
    '            config["input_dtypes"] = self._build_input_dtypes\n'
    '        return config\n'
    '\n'
    '    def build_from_config(self, config):\n'
    '        # Build by calling the model on zeros of the recorded dtypes, not on float placeholders.\n'
    '        if "input_dtypes" not in config:\n'
    '            return super().build_from_config(config)\n'
    '        dtypes = iter(config["input_dtypes"])\n'
    '        inputs = keras.tree.map_shape_structure(\n'
    '            lambda shape: keras.ops.zeros([1 if n is None else n for n in shape], next(dtypes)),\n'
    '            config["input_shape"],\n'
    '        )\n'
    '        self(inputs, training=False)\n'
)


class BuildConfigNotRestorable(Rule):
    """
    ## Why
    Keras 3 saves a subclassed model's *build config*: the shapes of the inputs it was first
    called with, not their dtypes. `load_model` rebuilds the model by tracing `call()` on
    placeholders of dtype float32. An op that needs an integer or boolean argument and gets it
    straight from the inputs — `tf.where(inputs["mask"], …)`, `tf.gather(table, ids)`,
    `tf.one_hot(inputs, 10)`, `keras.ops.take(self.table, inputs["ids"], axis=0)`, also through
    `mask = inputs["mask"]` or `x, mask = inputs` — fails on the float placeholder. The load then
    only warns: "Model … had a build config, but the model cannot be built automatically in
    build_from_config(config)" and "Skipping variable loading for optimizer 'adam', because it
    has 2 variables whereas the saved optimizer has 6 variables". The optimizer state (its step
    count and Adam's moments) is lost, and so are the trained weights of every sublayer that
    `call()` builds (a `Dense` applied in `call()`): they are made afresh on the first call, so
    the reloaded model predicts differently and resumed training starts over. Only weights made
    in `__init__` (`self.add_weight`) are restored.

    Ops that cast their argument themselves are not affected: `keras.ops.where`,
    `keras.ops.one_hot`, `keras.ops.logical_and`, `tf.boolean_mask`, the `Embedding` layer; nor
    is an argument computed in `call()` (`inputs["ids"] > 2`, `tf.cast(inputs["mask"], "bool")`).

    ## Example
    ```python
    class Masked(keras.Model):
        def call(self, inputs):
            image = tf.where(inputs["mask"], inputs["image"], 0.0)
            return self.dense(self.flatten(image))
    ```

    ## Use instead
    ```python
    class Masked(keras.Model):
        def build(self, input_shape):
            image_shape = input_shape["image"]
            self.flatten.build(image_shape)
            self.dense.build(self.flatten.compute_output_shape(image_shape))

        def call(self, inputs):
            image = keras.ops.where(inputs["mask"], inputs["image"], 0.0)
            return self.dense(self.flatten(image))
    ```
    or build the model with the functional API, where each `keras.Input` has its own dtype.

    ## Backends
    TensorFlow ops: TensorFlow (on JAX they cannot run at all, so `fit` already fails: KER201
    reports that). `keras.ops.take`, `segment_sum`, `segment_max`, `scatter_update`,
    `slice_update` and the bitwise ops: TensorFlow and JAX; `keras.ops.take_along_axis`: JAX.
    On PyTorch every case reloads whole, optimizer state included (its placeholders accept
    float indices), and the fix changes nothing there. Checked on Keras 3.15.1.

    ## Fix safety
    Unsafe. The fix adds three methods to the model: `__call__` records the dtypes of the first
    call's inputs, `get_build_config` saves them with the input shapes, and `build_from_config`
    rebuilds the model by calling it (with `training=False`) on zeros of those shapes and dtypes,
    so every variable, and the optimizer state with them, is restored. Checked on TensorFlow and
    JAX with dict, tuple and single inputs. It changes only models saved after the fix (a file
    saved before has no dtypes and loads as before); the zeros run `call()` once eagerly on load,
    so `call()` must accept zeros (an input used as a divisor or a `tf.debugging` assertion on
    the values may not); and a model first called with its inputs as keyword arguments keeps
    Keras's own rebuild. No fix where the class defines `__call__` or `get_build_config` itself.
    A hand-written `build()` (above) avoids all of that.

    ## References
    - Catalogue K3-SAV-011; keras-team/keras#20409, #20128, #18823.
    """

    code = "KER311"
    name = "build-config-not-restorable"
    fix = "unsafe"
    message = "An op in `call()` needs an integer or boolean input and the model has no `build()`: Keras 3 rebuilds the model on load by tracing `call()` on float32 placeholders, which fails, so `load_model` restores it without its optimizer state and without the trained weights of the sublayers `call()` builds, with only a warning"
    nodes = (cst.Call,)
    backends = frozenset({"tensorflow", "jax"})
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n\n\n"
            "class SimpleModel(keras.Model):\n"
            "    def call(self, input):\n"
            '        masked_image = «tf.where(input["mask"], input["image"], 0)»\n'
            "        return self.dense(self.flatten(masked_image))\n",
            "import keras\nimport tensorflow as tf\n\n\n"
            "class SimpleModel(keras.Model):\n"
            "    def call(self, input):\n"
            '        masked_image = tf.where(input["mask"], input["image"], 0)\n'
            "        return self.dense(self.flatten(masked_image))\n" + _FIXED_METHODS,
            unsafe=True,
        ),
        Example(
            "import keras\n\n\n"
            "class Lookup(keras.Model):\n"
            "    def call(self, inputs):\n"
            '        ids = inputs["ids"]\n'
            "        return «keras.ops.take(self.table, ids, axis=0)»\n",
            "import keras\n\n\n"
            "class Lookup(keras.Model):\n"
            "    def call(self, inputs):\n"
            '        ids = inputs["ids"]\n'
            "        return keras.ops.take(self.table, ids, axis=0)\n" + _FIXED_METHODS,
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import Model\n\n\n"
            "class Encoder(Model):\n"
            "    def call(self, tokens):\n"
            "        return self.dense(«tf.one_hot(tokens, 10)»)\n",
            "import tensorflow as tf\nfrom tensorflow.keras import Model\nimport keras\n\n\n"
            "class Encoder(Model):\n"
            "    def call(self, tokens):\n"
            "        return self.dense(tf.one_hot(tokens, 10))\n" + _FIXED_METHODS,
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n\n"
            "class Masked(keras.Model):\n"
            "    def call(self, inputs):\n"
            "        image, mask = inputs\n"
            "        a = «tf.where(mask, image, 0.0)»\n"
            "        b = «tf.gather(self.table, inputs[1])»\n"
            "        return a\n",
            "import tensorflow as tf\nimport keras\n\n\n"
            "class Masked(keras.Model):\n"
            "    def call(self, inputs):\n"
            "        image, mask = inputs\n"
            "        a = tf.where(mask, image, 0.0)\n"
            "        b = tf.gather(self.table, inputs[1])\n"
            "        return a\n" + _FIXED_METHODS,
            unsafe=True,
        ),
    )
    valid = (
        # A hand-written `build()`.
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def build(self, input_shape):\n        self.d.build(input_shape['image'])\n"
        "    def call(self, inputs):\n        return tf.where(inputs['mask'], inputs['image'], 0)\n",
        # Keras ops that cast their argument themselves.
        "import keras\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return keras.ops.where(inputs['mask'], inputs['image'], 0)\n",
        "import keras\nclass M(keras.Model):\n"
        "    def call(self, ids):\n        return keras.ops.one_hot(ids, 10)\n",
        # Arguments computed in `call()` have their own dtype.
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return tf.where(tf.cast(inputs['mask'], 'bool'), inputs['image'], 0)\n",
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return tf.where(inputs['ids'] > 2, 1.0, 0.0)\n",
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        mask = inputs['mask']\n        mask = tf.cast(mask, tf.bool)\n"
        "        return tf.where(mask, inputs['image'], 0)\n",
        # The input is the float operand, not the condition.
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return tf.where(self.mask, inputs['image'], 0)\n",
        # A layer: the model holding it calls it on inputs of the right dtype.
        "import keras\nimport tensorflow as tf\nclass Lookup(keras.layers.Layer):\n"
        "    def call(self, features):\n        return tf.gather(self.table, features['ids'])\n",
        "import tensorflow as tf\nclass Plain:\n"
        "    def call(self, inputs):\n        return tf.where(inputs['mask'], inputs['image'], 0)\n",
        # Ops that accept float placeholders.
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, batch):\n        return tf.boolean_mask(batch['x'], batch['keep'])\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_op_leaves())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        op = _op_of(ctx, node)
        if op is None:
            return
        found = enclosing_method(ctx, "call")
        if found is None:
            return
        klass, method = found
        if any(name in class_methods(klass) for name in _BUILD_METHODS) or not _is_model(ctx, klass):
            return
        inputs = param_name(method, 1)
        if inputs is None:
            return
        findings = _findings(ctx, method, inputs)
        if all(call is not node for call, _ in findings):
            return
        # One fix per class, on its first finding (the others would add the same methods), and
        # none over methods of the class's own.
        fix = None
        if findings[0][0] is node and not any(name in class_methods(klass) for name in _ADDED_METHODS):
            fix = _rebuild_fix(ctx, method)
        ctx.report(node, fix=fix, backends=op.backends)


class SublayerBuiltConditionally(Rule):
    """
    ## Why
    A layer without its own `build()` is built by tracing `call()` once. A sublayer that `call()`
    uses only under a condition on its arguments (`if training:`, `if mask is not None:`) is not
    reached by that trace, so it stays unbuilt: Keras 3 warns "`build()` was called on layer …,
    however the layer does not have a `build()` method implemented and it looks like it has
    unbuilt state". When `fit` takes the branch, the sublayer makes its weights inside the train
    step, after the optimizer was built:
    - PyTorch: the first step fails, "Unknown variable: … This optimizer can only be called for
      the variables it was originally built with";
    - JAX: the weights are made inside the jitted step, so the second step fails ("… whereas the
      optimizer was built with 2 variables") and after a single step saving fails with
      `TracerArrayConversionError`;
    - TensorFlow: `fit` runs, but loading the saved model fails with "Layer 'dense' was never
      built and thus it doesn't have any variables. However the weights file lists 2 variables
      for this layer".

    ## Example
    ```python
    class Block(keras.layers.Layer):
        def call(self, x, training=None):
            x = self.dense(x)
            if training:
                x = self.aux(x)
            return x
    ```

    ## Use instead
    ```python
        def build(self, input_shape):
            self.dense.build(input_shape)
            self.aux.build(self.dense.compute_output_shape(input_shape))
    ```

    ## Backends
    All: `fit` fails on PyTorch and JAX, loading fails on TensorFlow (checked on Keras 3.15.1
    with a sublayer called under `if training:`).

    ## Fix safety
    None: `build()` needs each sublayer's input shape.

    ## References
    - Catalogue K3-SAV-012; keras-team/keras#18823; the warning and the failures checked on
      Keras 3.15.1.
    """

    code = "KER312"
    name = "sublayer-built-conditionally"
    message = "This sublayer is only called under a condition in `call()` and the layer has no `build()`: Keras 3 does not build it with the layer, so `fit` or loading the saved model can fail"
    nodes = (cst.Call,)
    examples = (
        Example(
            "import keras\nfrom keras import layers\n\n"
            "class Block(layers.Layer):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.dense = layers.Dense(3)\n"
            "        self.aux = layers.Dense(3)\n\n"
            "    def call(self, x, training=None):\n"
            "        x = self.dense(x)\n"
            "        if training:\n"
            "            x = «self.aux(x)»\n"
            "        return x\n"
        ),
        Example(
            "import tensorflow as tf\n\n"
            "class Head(tf.keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.proj = tf.keras.layers.Dense(8)\n\n"
            "    def call(self, x, mask=None):\n"
            "        if mask is not None:\n"
            "            return «self.proj(x * mask)»\n"
            "        return x\n"
        ),
    )
    valid = (
        "import keras\nclass Block(keras.layers.Layer):\n"
        "    def __init__(self):\n        super().__init__()\n        self.aux = keras.layers.Dense(3)\n"
        "    def build(self, shape):\n        self.aux.build(shape)\n"
        "    def call(self, x, training=None):\n        if training:\n            x = self.aux(x)\n        return x\n",
        "import keras\nclass Block(keras.layers.Layer):\n"
        "    def __init__(self, use_aux=True):\n        super().__init__()\n        self.use_aux = use_aux\n"
        "        self.aux = keras.layers.Dense(3)\n"
        "    def call(self, x):\n        if self.use_aux:\n            x = self.aux(x)\n        return x\n",
        "import keras\nclass Block(keras.layers.Layer):\n"
        "    def __init__(self):\n        super().__init__()\n        self.aux = keras.layers.Dense(3)\n"
        "    def call(self, x, training=None):\n        if self.aux(x) is None:\n            pass\n        return x\n",
        "import keras\nclass Block(keras.layers.Layer):\n"
        "    def call(self, x, training=None):\n        if training:\n            x = self.helper(x)\n        return x\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        attribute = self_attribute(node.func)
        if attribute is None:
            return
        found = enclosing_method(ctx, "call")
        if found is None:
            return
        klass, method = found
        methods = class_methods(klass)
        if any(name in methods for name in _BUILD_METHODS):
            return
        flags = all_param_names(method) - {param_name(method, 0), param_name(method, 1)}
        if not flags or not _under_flag_condition(ctx, node, method, flags):
            return
        init = methods.get("__init__")
        if init is None or not _assigned_layer(ctx, init, attribute):
            return
        ctx.report(node)


def _under_flag_condition(ctx: Context, node: cst.CSTNode, method: cst.FunctionDef, flags: set[str]) -> bool:
    """Whether `node` is in the body (not the test) of an `if` inside `method` whose test reads
    one of `flags`."""
    parents = ctx.parents
    start = next((i for i, p in enumerate(parents) if p is method), None)
    if start is None:
        return False
    chain = [*parents[start + 1:], node]
    for here, child in zip(chain, chain[1:]):
        if isinstance(here, cst.If) and child is not here.test and _reads(here.test, flags):
            return True
    return False


def _reads(test: cst.BaseExpression, flags: set[str]) -> bool:
    """Whether a (small) `if` test names one of `flags`."""
    todo: list[cst.CSTNode] = [test]
    while todo:
        current = todo.pop()
        if isinstance(current, cst.Name):
            if current.value in flags:
                return True
            continue
        if isinstance(current, cst.Attribute):
            todo.append(current.value)
        elif isinstance(current, (cst.Comparison, cst.BooleanOperation, cst.UnaryOperation)):
            todo.extend(current.children)
        elif isinstance(current, (cst.ComparisonTarget,)):
            todo.append(current.comparator)
    return False


def _assigned_layer(ctx: Context, init: cst.FunctionDef, attribute: str) -> bool:
    """Whether `__init__` sets `self.<attribute>` to a new Keras layer."""
    for name, value in self_assignments(init):
        if name == attribute and isinstance(value, cst.Call):
            api = ctx.keras_api(value.func)
            if api is not None and api[0].startswith("layers."):
                return True
            local = ctx.module_classes().get(value.func.value) if isinstance(value.func, cst.Name) else None
            if local is not None and ctx.is_keras_class(local):
                return True
    return False
