"""KER219: TensorFlow-only ops in Keras model code: whole families (`tf.strings`, `tf.ragged`,
`tf.py_function`, ...), table rows without a counterpart, and any other `tf.*` call that no row
of `data/ops_tf.toml` and no other rule covers."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example
from ..engine.tables import load_toml
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

    The same goes for every other TensorFlow op that `keras.ops` lacks (`tf.linalg.expm`,
    `tf.image.crop_and_resize`, `tf.math.squared_difference`, `tf.debugging.assert_rank`, an
    op this table has never heard of): any `tf.*` call in model code that no row of
    `rules/data/ops_tf.toml` covers is reported, so that a partly ported layer
    (`keras.ops.tanh(tf.linalg.expm(x))`) still shows what is left. Not reported: what runs on
    every backend (checked on Keras 3.15.1 with JAX, and with PyTorch in training):
    `tf.print`, `tf.name_scope`, `tf.device`, `tf.control_dependencies`, `tf.init_scope`,
    `tf.no_op`, `tf.executing_eagerly`, `tf.get_static_value`, `tf.as_dtype`, `tf.TensorShape`
    outside `call()` (in `call()` JAX's symbolic dimensions make it fail, and it is reported);
    decorators (`@tf.function(...)`); and what other rules report: dtypes (KER224),
    `tf.newaxis` (KER228: it is `None`), `tf.shape` (KER218), `tf.nest` (KER223), `tf.random`
    ops (KER701/KER702), `tf.Variable` (KER401), `tf.GradientTape` and `tf.function` (training rules), `tf.data`,
    `tf.io`, `tf.train`, `tf.saved_model`, `tf.distribute`, `tf.config`, `tf.keras`.

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
    - The survey of TensorFlow 2.21's public ops against `keras.ops` of Keras 3.15.1 behind
      `rules/data/ops_tf.toml` (rows with rule KER219 carry the closest `keras.ops` form).
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
        # Ops no row covers, in a partly ported layer.
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Flow(keras.layers.Layer):\n"
            "    def call(self, x, boxes):\n"
            "        «tf.debugging.assert_rank»(x, 4)\n"
            "        crops = «tf.image.crop_and_resize»(x, boxes, keras.ops.zeros((4,), 'int32'), [8, 8])\n"
            "        return keras.ops.tanh(«tf.linalg.expm»(crops[..., 0]))\n",
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
        # What runs on every backend, and what other rules report.
        "import keras\nimport tensorflow as tf\n\nclass L(keras.layers.Layer):\n"
        "    @tf.function(jit_compile=True)\n"
        "    def call(self, x):\n"
        "        with tf.name_scope('block'), tf.device('/cpu:0'):\n"
        "            tf.print(x)\n"
        "            shape = tf.TensorShape([None, 4])\n"
        "            eager = tf.executing_eagerly()\n"
        "            y = x[:, tf.newaxis] * tf.random.normal((4,))\n"
        "            return tf.nest.flatten(y), tf.shape(x)[0], keras.ops.cast(y, tf.float32)\n",
        # Ops outside model code: a tf.data function.
        "import tensorflow as tf\n\ndef crop(image):\n    return tf.image.crop_and_resize(image, b, i, [8, 8])\n\n"
        "ds = tf.data.Dataset.range(3).map(crop)\n",
        # The complex tensor that the FFT's fix turns into a (real, imag) pair (KER216).
        "import keras\nimport tensorflow as tf\n\nclass L(keras.layers.Layer):\n"
        "    def call(self, x):\n        return tf.signal.fft2d(tf.complex(x, x))\n",
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
        elif qualified == "tensorflow.TensorShape":
            # Fine on the tuple `build()` gets; in `call()` JAX infers shapes with symbolic
            # dimensions, which TensorShape rejects ("Dimension value must be integer or None").
            literal = bool(node.args) and isinstance(node.args[0].value, (cst.List, cst.Tuple))
            if not literal and any(function.name.value == "call" for function in ctx.functions):
                message = "`tf.TensorShape` fails on a traced tensor's shape under JAX: use the shape tuple itself"
                report_in_model_code(self, ctx, node.func, message, None, "x.shape (or keras.ops.shape(x)) is a tuple on every backend")
        elif _unlisted_op(qualified) and not self._consumed(node, ctx):
            message = f"`{dotted_name(node.func)}` has no `keras.ops` counterpart: it runs only on the TensorFlow backend"
            report_in_model_code(self, ctx, node.func, message, None, _catch_all_note(qualified))

    def _consumed(self, node: cst.Call, ctx: Context) -> bool:
        """A call that is not an op of its own where it stands: a decorator (`@tf.function(...)`),
        or the `tf.complex(re, im)` that a KER216 fix turns into its FFT's `(re, im)` tuple."""
        parents = ctx.parents
        if any(isinstance(p, cst.Decorator) for p in parents):
            return True
        if len(parents) >= 2 and isinstance(parents[-1], cst.Arg) and isinstance(parents[-2], cst.Call):
            outer = tf_rows().get(normalize_tf(ctx.qualname(parents[-2].func)) or "")
            return outer is not None and outer.transform == "complex_pair"
        return False


# ----- the catch-all: TensorFlow calls that no row and no other rule covers ---------------------

# Namespaces that are not ops, or that other rules report: Keras through TensorFlow (the import
# rules), tf.data and tf.io (pipelines, KER225), tf.nest (KER223), configuration, distribution,
# checkpoints and SavedModel (training and saving rules), summaries, errors, dtypes (KER224),
# initializers (layer arguments).
_NOT_OPS_PREFIXES = tuple(
    f"tensorflow.{p}"
    for p in (
        "keras", "python.", "compat.", "data.", "io.", "nest.", "config.", "distribute.", "train.",
        "saved_model.", "summary.", "errors.", "autograph.", "dtypes.", "types.", "sysconfig.",
        "version.", "test.", "lite.", "tpu.", "estimator.", "feature_column.", "mixed_precision.",
        "profiler.", "initializers.", "experimental.dtensor.", "experimental.extension_type.",
        "saved_model", "__",
    )
)
# Names that run on every backend (checked on Keras 3.15.1 with JAX and with PyTorch in
# training: graph scopes and context managers, Python-level queries, `tf.print`, which prints
# the tracer under JAX), and names other rules report (tf.Variable KER401, tf.GradientTape the
# training-step rules, tf.function the compile rules, tf.random ops KER701/KER702).
_NOT_OPS = frozenset(
    f"tensorflow.{n}"
    for n in (
        "function", "print", "name_scope", "variable_scope", "device", "control_dependencies",
        "init_scope", "no_op", "executing_eagerly", "inside_function", "is_symbolic_tensor",
        "get_current_name_scope", "get_static_value", "as_dtype", "broadcast_static_shape",
        "TensorShape", "TensorSpec", "DType", "Module", "Graph", "Tensor", "Variable",
        "GradientTape", "random.set_seed", "set_random_seed", "random.set_global_generator",
        "debugging.set_log_device_placement", "debugging.enable_check_numerics",
        "debugging.disable_check_numerics", "get_logger", "constant_initializer",
    )
)
_EXPERIMENTAL = "tensorflow.experimental."


@lru_cache(maxsize=1)
def _random_ops() -> frozenset[str]:
    """TensorFlow random ops that KER701 ports to `keras.random`."""
    return frozenset(load_toml("randomness_ops.toml")["tensorflow"])


def _unlisted_op(qualified: str) -> bool:
    """A TensorFlow call that no row, family or other rule covers, and that does not run on
    every backend."""
    if "." not in qualified or qualified in _NOT_OPS or qualified.startswith(_NOT_OPS_PREFIXES):
        return False
    if qualified.startswith(_EXPERIMENTAL) and not qualified.startswith("tensorflow.experimental.numpy."):
        return False
    if qualified.endswith("_initializer") or qualified in _random_ops():
        return False
    return not is_tf_utility(qualified)


def _catch_all_note(qualified: str) -> str:
    name = qualified[len("tensorflow."):]
    if name.startswith(("random.", "image.random_", "image.stateless_random_", "nn.fixed_unigram", "random_")):
        return "draw random numbers with keras.random and a keras.random.SeedGenerator the layer creates in __init__"
    if name.startswith(("debugging.", "assert_", "Assert")) or name == "ensure_shape":
        return "keras.ops has no checks on tensor values: drop the check, or run it only under keras.backend.backend() == \"tensorflow\""
    return "compose it from keras.ops, or run it only under keras.backend.backend() == \"tensorflow\""
