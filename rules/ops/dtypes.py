"""KER224: TensorFlow dtype objects (`tf.float32`) in Keras model code."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.tables import load_toml
from ._base import PORTABILITY_BACKENDS
from ._sites import MODEL_FUNCTION_WORDS, may_be_tf, report_in_model_code


@lru_cache(maxsize=1)
def _dtypes() -> dict[str, str]:
    return dict(load_toml("ops_tf.toml")["dtypes"])


class TfDtypeObject(Rule):
    """
    ## Why
    `tf.float32` is a TensorFlow object: code that names it needs TensorFlow installed, and a
    layer that passes it to `keras.ops` or compares a tensor's dtype with it ties the model to
    the TensorFlow backend. On JAX, `keras.ops` functions that hand the dtype to JAX as it is
    fail (`keras.ops.ones((4,), dtype=tf.float32)`: `TypeError: Cannot interpret 'tf.float32'
    as a data type`; `keras.ops.cast` reads the dtype's name and works). On PyTorch
    `keras.ops` accept it, but `x.dtype == tf.float32` is `False` for a float32 torch tensor,
    so such a branch silently goes the other way. Keras 3 spells dtypes as strings
    (`"float32"`), which every backend and every `keras.ops` function accepts.

    Scope: Keras model code, as for KER201 (layer and model methods, `Lambda` functions, losses
    and metrics), and anywhere an argument of a Keras API call (`keras.Input((3,),
    dtype=tf.float32)`, `layers.Dense(4, dtype=tf.float16)`): there it keeps TensorFlow a
    dependency of code that needs nothing else of it.

    ## Example
    ```python
    class Scale(keras.layers.Layer):
        def call(self, x):
            return keras.ops.cast(x, tf.float32) * 2
    ```

    ## Use instead
    ```python
    class Scale(keras.layers.Layer):
        def call(self, x):
            return keras.ops.cast(x, "float32") * 2
    ```

    ## Backends
    JAX (dtype arguments) and PyTorch (dtype comparisons); each needs TensorFlow installed.

    ## Fix safety
    Safe where the dtype is a call's argument (`dtype=tf.int32`, `cast(x, tf.float32)`). Other
    uses, such as `x.dtype == tf.float32`, get no fix: a backend's dtype may not compare equal
    to a string; compare `keras.backend.standardize_dtype(x.dtype) == "float32"` instead.

    ## References
    - Catalogue MB-OPS-000, row "`tf.float32`, `tf.int32` dtype objects".
    """

    # Findings in a module-level function wait for a `Lambda(fn)` or `compile(loss=fn)`.
    cross_statement_words = MODEL_FUNCTION_WORDS
    code = "KER224"
    name = "tf-dtype-object"
    message = "TensorFlow dtype object in Keras model code: use the dtype's name as a string"
    nodes = (cst.Attribute,)
    backends = PORTABILITY_BACKENDS
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Scale(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        y = keras.ops.cast(x, «tf.float32»)\n"
            "        return keras.ops.ones((2,), dtype=«tf.dtypes.int64»)\n",
            "import tensorflow as tf\nimport keras\n\n"
            "class Scale(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            '        y = keras.ops.cast(x, "float32")\n'
            '        return keras.ops.ones((2,), dtype="int64")\n',
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "class Check(layers.Layer):\n"
            "    def call(self, x):\n"
            "        return x if x.dtype == «tf.half» else x\n",
            None,
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "inputs = keras.Input((3,), dtype=«tf.float32»)\n"
            "outputs = keras.layers.Dense(2, dtype=«tf.float16»)(inputs)\n",
            "import tensorflow as tf\nimport keras\n\n"
            'inputs = keras.Input((3,), dtype="float32")\n'
            'outputs = keras.layers.Dense(2, dtype="float16")(inputs)\n',
        ),
    )
    valid = (
        "import tensorflow as tf\n\ndef parse(x):\n    return tf.cast(x, tf.float32)\n",
        # Not a Keras call's argument, outside model code.
        "import tensorflow as tf\nimport keras\n\nds = tf.data.Dataset.range(3).map(lambda x: tf.cast(x, tf.float32))\n",
        "import keras\nimport numpy as np\n\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        return keras.ops.cast(x, np.float32)\n",
        "import keras\n\nclass L(keras.layers.Layer):\n    def call(self, x, tf):\n"
        "        return keras.ops.cast(x, tf.float32)\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset(_dtypes().keys())

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        name = _dtypes().get(node.attr.value)
        if name is None or not may_be_tf(node, ctx):
            return
        qualified = ctx.qualname(node)
        if qualified not in (f"tensorflow.{node.attr.value}", f"tensorflow.dtypes.{node.attr.value}"):
            return
        fix = None
        if ctx.parents and isinstance(ctx.parents[-1], cst.Arg):
            fix = FixSpec.safe(f'Use "{name}"', Replace(node, f'"{name}"'))
        message = f'`{dotted_name(node)}` is a TensorFlow dtype object: use "{name}"'
        if fix is not None and _keras_call_argument(ctx):
            # `keras.Input((3,), dtype=tf.float32)` anywhere: the last use that keeps the
            # TensorFlow import (KER107) once the rest is ported.
            ctx.report(node, message, fix=fix)
            return
        report_in_model_code(self, ctx, node, message, fix, None)


def _keras_call_argument(ctx: Context) -> bool:
    """Whether the node is an argument of a call of a Keras API (`keras.Input`, a layer)."""
    parents = ctx.parents
    return len(parents) >= 2 and isinstance(parents[-2], cst.Call) and ctx.keras_api(parents[-2].func) is not None
