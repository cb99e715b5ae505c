"""KER219: TensorFlow-only op families (`tf.strings`, `tf.ragged`, `tf.py_function`, ...) in
Keras model code."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example
from ._base import TfOpRule
from ._sites import _CALLBACK_CALLS, is_tf_utility, may_be_tf, note_model_functions, report_in_model_code
from ._table import leaf_name, normalize_tf, only_tf_prefixes, only_tf_words, tf_leaves, tf_rows


class TfOnlyOp(TfOpRule):
    """
    ## Why
    Some TensorFlow families have nothing like them in `keras.ops`: strings (`tf.strings`),
    ragged and sparse tensors (`tf.ragged`, `tf.RaggedTensor`, `tf.sparse`), Python callbacks
    (`tf.py_function`, `tf.numpy_function`), file and lookup-table ops (`tf.io`, `tf.lookup`;
    `tf.io.gfile`, which is Python file I/O rather than an op, is KER225's),
    `tf.TensorArray`, raw ops, and a few math functions (`lgamma`, `digamma`, `truncatemod`).
    Inside a layer, model, `Lambda`, loss or metric they tie the model to the TensorFlow
    backend (and to non-XLA TensorFlow: they also fail under `jit_compile`).

    ## Example
    ```python
    class Tokens(keras.layers.Layer):
        def call(self, text):
            return tf.strings.split(text)
    ```

    ## Use instead
    Move the work into the `tf.data` input pipeline (TF ops are fine there on every backend),
    use padded dense tensors with masks instead of ragged ones, or guard the code with
    `keras.backend.backend() == "tensorflow"`.

    ## Backends
    JAX, and PyTorch in training (see KER201).

    ## Fix safety
    No fix: the message says what to do.

    ## References
    - Catalogue MB-OPS-027; MB-OPS-000 rows `lgamma`/`digamma`, `truncatemod`.
    """

    code = "KER219"
    name = "tf-only-op"
    message = "TensorFlow-only op in Keras model code: it has no `keras.ops` counterpart"
    fix = "none"
    examples = (
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Tokens(keras.layers.Layer):\n"
            "    def call(self, text):\n"
            "        words = «tf.strings.split»(text)\n"
            "        return «tf.RaggedTensor.from_tensor»(words)\n",
            None,
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "wrapped = layers.Lambda(lambda t: «tf.py_function»(f, [t], tf.float32))\n",
            None,
        ),
        Example(
            "from tensorflow import math as tfm\nimport keras\n\n"
            "def nll(y_true, y_pred):\n"
            "    return «tfm.lgamma»(y_pred) - y_true\n",
            None,
        ),
    )
    valid = (
        "import tensorflow as tf\n\ndef parse(line):\n    return tf.strings.split(line)\n\n"
        "ds = tf.data.TextLineDataset('a.txt').map(parse)\n",
        "import keras\n\nclass L(keras.layers.Layer):\n    def call(self, x, tf=None):\n"
        "        return tf.strings.split(x)\n",
        "import keras\nimport strings\n\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
        "        return strings.split(x)\n",
        # File I/O through TensorFlow is KER225's (it has a plain-Python form).
        "import keras\nimport tensorflow as tf\n\nclass L(keras.layers.Layer):\n    def build(self, shape):\n"
        "        with tf.io.gfile.GFile('vocab.txt') as f:\n            self.words = f.read().split()\n",
    )

    def __init__(self) -> None:
        self.leaves = tf_leaves(self.code)
        self.words = only_tf_words()

    def visit(self, node: cst.Call, ctx: Context) -> None:
        leaf = leaf_name(node.func)
        if leaf is None:
            return
        if leaf in _CALLBACK_CALLS:
            note_model_functions(node, ctx)
            return
        if leaf not in self.leaves and not self._names_a_family(node.func):
            return
        if not may_be_tf(node.func, ctx):
            return
        qualified = normalize_tf(ctx.qualname(node.func))
        if qualified is None:
            return
        row = tf_rows().get(qualified)
        if row is not None:
            if row.rule != self.code:
                return
            message = f"`{dotted_name(node.func)}` has no `keras.ops` counterpart"
            report_in_model_code(self, ctx, node.func, message, None, row.note)
        elif qualified.startswith(only_tf_prefixes()):
            if is_tf_utility(qualified):
                # `tf.io.gfile` is Python file I/O, not an op: it runs on every backend where
                # TensorFlow is installed, and KER225 gives its plain-Python form.
                return
            message = f"`{dotted_name(node.func)}` is TensorFlow-only: keep it in the tf.data pipeline or guard it by backend"
            report_in_model_code(self, ctx, node.func, message, None, None)

    def _names_a_family(self, func: cst.BaseExpression) -> bool:
        words = self.words
        while isinstance(func, cst.Attribute):
            if func.attr.value in words:
                return True
            func = func.value
        return isinstance(func, cst.Name) and func.value in words
