"""KER222: a TensorFlow function applied to a KerasTensor while building a functional model."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ._sites import KERAS_TENSOR_TEXT, MODEL_FUNCTION_WORDS, in_model_code, may_be_tf, on_keras_tensor
from ._table import build_fix, normalize_tf, tf_rows

# TF names that are not ops on tensors, or that the imports rules handle.
_NOT_OPS = ("tensorflow.keras.", "tensorflow.nest.", "tensorflow.TensorShape", "tensorflow.TensorSpec", "tensorflow.compat.")


class TfOpOnKerasTensor(Rule):
    """
    ## Why
    In Keras 3, `keras.Input(...)` and the outputs of layers called on it are `KerasTensor`s:
    symbolic placeholders that only Keras layers and `keras.ops` accept. A TensorFlow function
    applied to one fails on every backend:
    `ValueError: A KerasTensor cannot be used as input to a TensorFlow function. A KerasTensor
    is a symbolic placeholder for a shape and dtype, used when constructing Keras Functional
    models or Keras Functions. You can only use it as input to a Keras layer or a Keras
    operation (from the namespaces keras.layers and keras.ops)` (JAX: "... cannot be used as
    input to a JAX function"). Keras 2 wrapped such calls in a `TFOpLambda` layer.

    Scope: calls of `tf.*` whose arguments are names bound, in the same function or module, to
    `keras.Input(...)` or to what layers and ops compute from it.

    ## Example
    ```python
    x = keras.Input((2, 2, 1))
    y = tf.squeeze(x)
    ```

    ## Use instead
    ```python
    x = keras.Input((2, 2, 1))
    y = keras.ops.squeeze(x)
    ```
    or wrap TF-only work in a layer (`keras.layers.Lambda`, TensorFlow backend only).

    ## Backends
    All.

    ## Fix safety
    Safe where the op has a `keras.ops` counterpart (with the same argument corrections as
    KER201-KER220: `tf.gather` gets `axis=0`, ...). Ops without one get no fix.

    ## References
    - Catalogue K3-FUN-001 (verified on Keras 3.15.1); issues onnx2tf#541, DeepTables#93.
    """

    # Model code (`Lambda(fn)`) and KerasTensors (`x = keras.Input(...)`) may come from other
    # statements.
    cross_statement_words = MODEL_FUNCTION_WORDS
    cross_statement_bindings = KERAS_TENSOR_TEXT
    code = "KER222"
    name = "tf-op-on-keras-tensor"
    message = "A KerasTensor cannot be passed to a TensorFlow function: use `keras.ops` or a layer"
    nodes = (cst.Call,)
    fix = "safe"
    examples = (
        Example(
            "import keras\nimport tensorflow as tf\n\n"
            "x = keras.Input((2, 2, 1))\n"
            "y = «tf.squeeze»(x)\n"
            "model = keras.Model(x, y)\n",
            "import keras\nimport tensorflow as tf\n\n"
            "x = keras.Input((2, 2, 1))\n"
            "y = keras.ops.squeeze(x)\n"
            "model = keras.Model(x, y)\n",
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers, Model\n\n"
            "def build():\n"
            "    inputs = layers.Input(shape=(8,))\n"
            "    h = layers.Dense(4)(inputs)\n"
            "    both = «tf.concat»([inputs, h], axis=-1)\n"
            "    rows = «tf.gather»(both, [0, 1])\n"
            "    return Model(inputs, «tf.strings.as_string»(rows))\n",
            "import tensorflow as tf\nfrom tensorflow.keras import layers, Model\nimport keras\n\n"
            "def build():\n"
            "    inputs = layers.Input(shape=(8,))\n"
            "    h = layers.Dense(4)(inputs)\n"
            "    both = keras.ops.concatenate([inputs, h], axis=-1)\n"
            "    rows = keras.ops.take(both, [0, 1], axis=0)\n"
            "    return Model(inputs, tf.strings.as_string(rows))\n",
        ),
        Example(
            "import keras\nfrom keras import ops\nimport tensorflow as tf\n\n"
            "inp = keras.Input((4,))\n"
            "dense = keras.layers.Dense(3)\n"
            "out = dense(inp)\n"
            "score = «tf.reduce_sum»(out * 2, axis=1)\n",
            "import keras\nfrom keras import ops\nimport tensorflow as tf\n\n"
            "inp = keras.Input((4,))\n"
            "dense = keras.layers.Dense(3)\n"
            "out = dense(inp)\n"
            "score = ops.sum(out * 2, axis=1)\n",
        ),
    )
    valid = (
        # NumPy functions accept KerasTensors; keras.ops is the fix itself.
        "import keras\nimport numpy as np\n\nx = keras.Input((3,))\ny = np.squeeze(x)\nz = keras.ops.squeeze(x)\n",
        # TF ops on real tensors, not KerasTensors.
        "import tensorflow as tf\nimport keras\n\nx = tf.ones((2, 3))\ny = tf.squeeze(x)\n",
        # A parameter named tf.
        "import keras\n\ndef build(tf):\n    x = keras.Input((3,))\n    return tf.squeeze(x)\n",
    )

    def visit(self, node: cst.Call, ctx: Context) -> None:
        if not node.args or not may_be_tf(node.func, ctx) or not on_keras_tensor(node, ctx):
            return
        qualified = normalize_tf(ctx.qualname(node.func))
        if qualified is None or qualified.startswith(_NOT_OPS) or in_model_code(ctx) is True:
            return
        row = tf_rows().get(qualified)
        fix = build_fix(node, row, ctx) if row is not None else None
        spelled = dotted_name(node.func)
        message = f"`{spelled}` cannot take a KerasTensor in Keras 3"
        if row is not None and row.target and row.safety != "none":
            message += f": use `keras.{row.target}`"
        else:
            message += ": use `keras.ops` or wrap it in a layer"
        ctx.report(node.func, message, fix=fix, note=row.note if row is not None and row.note else None)
