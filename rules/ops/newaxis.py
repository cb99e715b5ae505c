"""KER228: `tf.newaxis` in Keras model code."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example, Rule
from ._base import PORTABILITY_BACKENDS
from ._sites import MODEL_FUNCTION_WORDS, may_be_tf, report_in_model_code


class TfNewaxis(Rule):
    """
    ## Why
    `tf.newaxis` is `None`, so `x[:, tf.newaxis]` indexes a JAX or PyTorch tensor as well as a
    TensorFlow one. But naming it keeps `import tensorflow` in the module: on a JAX or PyTorch
    install without TensorFlow the module fails to import (KER107), and once every op of a
    layer is ported this is often the last use of TensorFlow left.

    ## Example
    ```python
    class Outer(keras.layers.Layer):
        def call(self, x):
            return x[:, tf.newaxis] * x[:, :, tf.newaxis]
    ```

    ## Use instead
    ```python
    class Outer(keras.layers.Layer):
        def call(self, x):
            return x[:, None] * x[:, :, None]
    ```

    ## Backends
    JAX and PyTorch (the import needs TensorFlow installed).

    Scope: Keras model code, as for KER201 (layer and model methods, `Lambda` functions, losses
    and metrics); a `tf.data` function needs TensorFlow anyway.

    ## Fix safety
    Safe: `tf.newaxis is None`.

    ## References
    - TensorFlow `tf.newaxis` (an alias of `None`, as `numpy.newaxis`).
    """

    # Findings in a module-level function wait for a `Lambda(fn)` or `compile(loss=fn)`.
    cross_statement_words = MODEL_FUNCTION_WORDS
    code = "KER228"
    name = "tf-newaxis"
    message = "`tf.newaxis` is `None`: write `None`, which needs no TensorFlow"
    nodes = (cst.Attribute,)
    backends = PORTABILITY_BACKENDS
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Outer(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return x[:, «tf.newaxis»] * x[..., «tf.newaxis»]\n",
            "import tensorflow as tf\nimport keras\n\n"
            "class Outer(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return x[:, None] * x[..., None]\n",
        ),
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "def pairwise(y_true, y_pred):\n"
            "    return keras.ops.mean(y_pred[:, «tf.newaxis»] - y_true[«tf.newaxis», :])\n\n"
            "model.compile(loss=pairwise)\n",
            "import tensorflow as tf\nimport keras\n\n"
            "def pairwise(y_true, y_pred):\n"
            "    return keras.ops.mean(y_pred[:, None] - y_true[None, :])\n\n"
            "model.compile(loss=pairwise)\n",
        ),
    )
    valid = (
        "import keras\n\nclass Outer(keras.layers.Layer):\n    def call(self, x):\n        return x[:, None]\n",
        # A tf.data function: TensorFlow is needed there anyway.
        "import tensorflow as tf\n\ndef add_channel(image):\n    return image[..., tf.newaxis]\n\n"
        "ds = tf.data.Dataset.range(3).map(add_channel)\n",
        "import keras\nimport numpy as np\n\nclass Outer(keras.layers.Layer):\n"
        "    def call(self, x):\n        return x[:, np.newaxis]\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"newaxis"})

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        if node.attr.value != "newaxis" or not may_be_tf(node, ctx):
            return
        if ctx.qualname(node) != "tensorflow.newaxis":
            return
        fix = FixSpec.safe("Replace `tf.newaxis` with `None`", Replace(node, "None"))
        report_in_model_code(self, ctx, node, self.message, fix, None)
