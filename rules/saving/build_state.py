"""KER311, KER312: layers and models whose state Keras 3 cannot rebuild when it loads them."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..layers._common import all_param_names, class_methods, enclosing_method, param_name, self_assignments, self_attribute
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml

_BUILD_METHODS = ("build", "build_from_config")


@lru_cache(maxsize=1)
def _op_leaves() -> frozenset[str]:
    return frozenset(name.rsplit(".", 1)[-1] for name in _dtype_sensitive_ops())


@lru_cache(maxsize=1)
def _dtype_sensitive_ops() -> frozenset[str]:
    return frozenset(f"tensorflow.{name}" for name in load_toml("saving_build_config.toml")["dtype_sensitive_tf_ops"])


def _keyed_input(expr: cst.BaseExpression, inputs: str) -> bool:
    """`inputs["mask"]`: one entry of a dict of inputs."""
    return (
        isinstance(expr, cst.Subscript)
        and isinstance(expr.value, cst.Name)
        and expr.value.value == inputs
        and len(expr.slice) == 1
        and isinstance(expr.slice[0].slice, cst.Index)
        and isinstance(expr.slice[0].slice.value, cst.SimpleString)
    )


class BuildConfigNotRestorable(Rule):
    """
    ## Why
    When Keras 3 loads a subclassed model it rebuilds it from the saved *build config* (the input
    shapes) by calling `call()` on placeholder inputs of dtype `floatx()`. TensorFlow ops that
    need another dtype, such as `tf.where(inputs["mask"], …)` on a boolean mask, fail there. The
    load then only warns — "Model … had a build config, but the model cannot be built
    automatically in build_from_config(config)" — and "Skipping variable loading for optimizer
    'adam', because it has 2 variables whereas the saved optimizer has 6 variables": the model
    loads with its optimizer state reset, and resumed training silently diverges.

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
            image = keras.ops.where(keras.ops.cast(inputs["mask"], "bool"), inputs["image"], 0.0)
            return self.dense(self.flatten(image))
    ```
    or build the model with the functional API, where each input has its own dtype.

    ## Backends
    TensorFlow. On PyTorch the same model reloads whole, optimizer state included: `call()` runs
    eagerly on real tensors of the right dtypes. On JAX the TensorFlow op cannot run at all, so
    `fit` already fails ("Unable to automatically build the model"); KER201 reports that. Checked
    on Keras 3.15.1.

    ## Fix safety
    None: `build()` needs the shapes of the model's inputs and sublayers.

    ## References
    - Catalogue K3-SAV-011; keras-team/keras#20409, #20128, #18823.
    """

    code = "KER311"
    name = "build-config-not-restorable"
    message = "A dtype-sensitive TensorFlow op on a dict input in `call()` of a class without `build()`: on the TensorFlow backend Keras 3 may fail to rebuild it on load and drop the optimizer state with only a warning"
    nodes = (cst.Call,)
    backends = frozenset({"tensorflow"})
    examples = (
        Example(
            "import tensorflow as tf\nfrom tensorflow import keras\n\n"
            "class SimpleModel(keras.Model):\n"
            "    def __init__(self, **kwargs):\n"
            "        super().__init__(**kwargs)\n"
            "        self.flatten = keras.layers.Flatten()\n"
            "        self.dense = keras.layers.Dense(1)\n\n"
            "    def call(self, input):\n"
            '        masked_image = «tf.where(input["mask"], input["image"], 0)»\n'
            "        return self.dense(self.flatten(masked_image))\n"
        ),
        Example(
            "import keras\nimport tensorflow as tf\n\n"
            "class Lookup(keras.layers.Layer):\n"
            "    def call(self, features, training=None):\n"
            "        return «tf.gather(self.table, features['ids'])»\n"
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import Model\n\n"
            "class Picker(Model):\n"
            "    def call(self, batch):\n"
            "        kept = «tf.boolean_mask(batch['x'], batch['keep'])»\n"
            "        return kept\n"
        ),
    )
    valid = (
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def build(self, input_shape):\n        self.d.build(input_shape['image'])\n"
        "    def call(self, inputs):\n        return tf.where(inputs['mask'], inputs['image'], 0)\n",
        "import keras\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return keras.ops.where(inputs['mask'], inputs['image'], 0)\n",
        "import tensorflow as tf\nclass Plain:\n"
        "    def call(self, inputs):\n        return tf.where(inputs['mask'], inputs['image'], 0)\n",
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, x):\n        return tf.nn.relu(x)\n",
        "import keras\nimport tensorflow as tf\nclass M(keras.Model):\n"
        "    def call(self, inputs):\n        return tf.reshape(tf.cast(inputs['ids'], tf.float32), [-1])\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not isinstance(node.func, cst.Attribute) or not node.args or node.func.attr.value not in _op_leaves():
            return
        qualified = ctx.qualname(node.func)
        if qualified is None or qualified not in _dtype_sensitive_ops():
            return
        found = enclosing_method(ctx, "call")
        if found is None:
            return
        klass, method = found
        if any(name in class_methods(klass) for name in _BUILD_METHODS):
            return
        inputs = param_name(method, 1)
        if inputs is None:
            return
        for arg in node.args:
            value = arg.value
            values = [e.value for e in value.elements] if isinstance(value, (cst.List, cst.Tuple)) else [value]
            if any(_keyed_input(v, inputs) for v in values):
                ctx.report(node)
                return


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
