"""KER201: a TensorFlow op inside Keras model code, where `keras.ops` has the same op."""

from __future__ import annotations

import libcst as cst

from ..engine.rule import Example
from ._base import TfOpRule, spelled
from ._table import Row


class TfOpInModel(TfOpRule):
    """
    ## Why
    A layer, model, `Lambda` function, loss or metric that calls `tf.*` runs only on the
    TensorFlow backend. On JAX the op receives a JAX tracer and fails (TensorFlow cannot convert
    it), on PyTorch a torch tensor. `keras.ops` has the same op for every backend; the table
    `rules/data/ops_tf.toml` (catalogue MB-OPS-000) lists each TensorFlow op with its
    `keras.ops` name, the keywords that are spelled differently (`tf.concat(values=)` ->
    `keras.ops.concatenate(xs=)`, `tf.transpose(perm=)` -> `axes=`, `tf.reshape(shape=)` ->
    `newshape=`, `tf.one_hot(depth=)` -> `num_classes=`, `tf.range(limit=, delta=)` ->
    `stop=, step=`) and the arguments whose defaults differ. Ops with a trap of their own
    (`tf.gather`, `tf.argmax`, `tf.nn.gelu`, ...) have their own codes (KER202-KER220).

    Scope: only TF ops that run as part of a model are reported: in the methods of `Layer` /
    `Model` subclasses, in functions given to `layers.Lambda`, and in losses and metrics
    (functions with `y_true, y_pred` parameters or passed to `compile`). TF ops in `tf.data`
    pipelines are fine and are not reported; those in the rest of a Keras module (a script's
    evaluation code) are KER225's, whose fix is unsafe because there the result changes type.
    A module built on Keras's own TensorFlow backend (`from keras.src.backend.tensorflow import
    ...`) runs only with that backend: its TF ops (and those of KER202-KER220) are not reported.

    ## Example
    ```python
    class Masked(keras.Model):
        def call(self, inputs):
            return tf.where(inputs["mask"], inputs["image"], 0.0)
    ```

    ## Use instead
    ```python
    class Masked(keras.Model):
        def call(self, inputs):
            return keras.ops.where(inputs["mask"], inputs["image"], 0.0)
    ```

    ## Backends
    JAX: the op fails as the model is traced, in `predict()` as in `fit()`. PyTorch: TensorFlow
    reads the torch tensor through NumPy, so `predict()` runs on the CPU, but in `fit()` an op
    whose input carries gradients fails (`RuntimeError: Can't call numpy() on Tensor that
    requires grad`), and an op on the layer's own weights reads them without their gradients:
    those weights silently stop training. On TensorFlow the op works.

    ## Fix safety
    Safe where the table marks the row safe: the callee is renamed, renamed keywords are
    renamed, `name=` is dropped (keras.ops take none), defaults that differ are spelled out.
    A call with more positional arguments than the row maps, an unknown keyword or `*args`
    gets no fix. `tf.boolean_mask(x, m)` -> `x[m]` and `tf.split` with a non-literal size are
    unsafe. `tf.nn.batch_normalization` becomes TensorFlow's own formula, `(x - mean) *
    keras.ops.rsqrt(variance + epsilon) * scale + offset`, which broadcasts as TensorFlow does;
    its Python operators need tensors on PyTorch in training, where a NumPy array `mean` fails
    as the TF op did (`Can't call numpy() on Tensor that requires grad`), so the rewrite is
    unsafe when an argument is written as a NumPy call or a list. Pools take ints for TF's
    `[1, k, k, 1]` lists and a lower-case padding (`average_pool` with "SAME" padding is unsafe:
    PyTorch averages uneven borders differently); `crop_to_bounding_box` / `pad_to_bounding_box`
    pass the target size by keyword; `tf.slice` with a size that is not a literal list of
    sizes >= 0 is unsafe (-1 gives an empty slice on PyTorch); literal lists of segment ids or
    scatter updates become tensors (`keras.ops` reads their shape and dtype). Ops without a
    counterpart (`tf.nn.dropout` needs a seed generator, `tf.nn.conv2d_transpose` an output
    shape) get no fix; the note says what to write.

    ## References
    - Catalogue MB-OPS-000 (verified on Keras 3.15.1), MB-OPS-017 (keyword renames).
    - https://keras.io/guides/migrating_to_keras_3/
    """

    code = "KER201"
    name = "tf-op-in-model"
    message = "TensorFlow op in Keras model code runs only on the TensorFlow backend: use `keras.ops`"
    fix = "mixed"
    examples = (
        # The seed scenario: tf.where in a subclassed model's call with dict inputs.
        Example(
            "import tensorflow as tf\n"
            "from tensorflow import keras\n\n"
            "class Masked(keras.Model):\n"
            "    def call(self, inputs):\n"
            '        mask = «tf.cast»(inputs["mask"], "bool")\n'
            '        return «tf.where»(mask, inputs["image"], 0)\n',
            "import tensorflow as tf\n"
            "from tensorflow import keras\n"
            "from keras import ops\n\n"
            "class Masked(keras.Model):\n"
            "    def call(self, inputs):\n"
            '        mask = ops.cast(inputs["mask"], "bool")\n'
            '        return ops.where(mask, inputs["image"], 0)\n',
        ),
        Example(
            "import keras\nfrom keras import ops\nimport tensorflow as tf\n\n"
            "class Pool(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return «tf.reduce_sum»(«tf.abs»(x), axis=1, keep_dims=True, name='pool')\n",
            "import keras\nfrom keras import ops\nimport tensorflow as tf\n\n"
            "class Pool(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return ops.sum(ops.absolute(x), axis=1, keepdims=True)\n",
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "class Head(layers.Layer):\n"
            "    def call(self, a, b):\n"
            "        joined = «tf.concat»(values=[a, b], axis=-1)\n"
            "        steps = «tf.range»(0, limit=4, delta=1)\n"
            "        flat = «tf.reshape»(joined, shape=(-1,))\n"
            "        return «tf.transpose»(joined, perm=[1, 0]), flat, steps\n",
            "import tensorflow as tf\nfrom tensorflow.keras import layers\nimport keras\n\n"
            "class Head(layers.Layer):\n"
            "    def call(self, a, b):\n"
            "        joined = keras.ops.concatenate(xs=[a, b], axis=-1)\n"
            "        steps = keras.ops.arange(0, stop=4, step=1)\n"
            "        flat = keras.ops.reshape(joined, newshape=(-1,))\n"
            "        return keras.ops.transpose(joined, axes=[1, 0]), flat, steps\n",
        ),
        # A loss function (y_true, y_pred) and a function passed to Lambda later on.
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "def smooth(y_true, y_pred):\n"
            "    return «tf.reduce_mean»(«tf.square»(y_true - y_pred))\n\n"
            "def squash(t):\n"
            "    return «tf.nn.sigmoid_cross_entropy_with_logits»(labels=t, logits=t)\n\n"
            "layer = keras.layers.Lambda(squash)\n",
            "import tensorflow as tf\nimport keras\n\n"
            "def smooth(y_true, y_pred):\n"
            "    return keras.ops.mean(keras.ops.square(y_true - y_pred))\n\n"
            "def squash(t):\n"
            "    return keras.ops.binary_crossentropy(target=t, output=t, from_logits=True)\n\n"
            "layer = keras.layers.Lambda(squash)\n",
        ),
        Example(
            "import tensorflow as tf\nfrom tensorflow.keras import layers\n\n"
            "scale = layers.Lambda(lambda t: «tf.nn.conv2d»(t, k, [1, 2, 2, 1], 'SAME'))\n",
            "import tensorflow as tf\nfrom tensorflow.keras import layers\nimport keras\n\n"
            "scale = layers.Lambda(lambda t: keras.ops.conv(t, k, 2, 'SAME'))\n",
        ),
        Example(
            "import tensorflow as tf\nimport keras as K3\n\n"
            "class Pad(K3.layers.Layer):\n"
            "    def call(self, x):\n"
            '        y = «tf.pad»(x, [[0, 0], [1, 1]], mode="REFLECT")\n'
            "        return «tf.linalg.band_part»(y, -1, 0)\n",
            "import tensorflow as tf\nimport keras as K3\n\n"
            "class Pad(K3.layers.Layer):\n"
            "    def call(self, x):\n"
            '        y = K3.ops.pad(x, [[0, 0], [1, 1]], mode="reflect")\n'
            "        return K3.ops.tril(y)\n",
        ),
        # Unsafe: boolean indexing fails under JAX jit.
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Keep(keras.layers.Layer):\n"
            "    def call(self, x, m):\n"
            "        return «tf.boolean_mask»(x + 1, m)\n",
            "import tensorflow as tf\nimport keras\n\n"
            "class Keep(keras.layers.Layer):\n"
            "    def call(self, x, m):\n"
            "        return (x + 1)[m]\n",
            unsafe=True,
        ),
        # No counterpart: a message, no fix.
        Example(
            "import tensorflow as tf\nimport keras\n\n"
            "class Drop(keras.layers.Layer):\n"
            "    def call(self, x):\n"
            "        return «tf.nn.dropout»(x, 0.5)\n",
            None,
        ),
    )
    valid = (
        # A module built on Keras's TensorFlow backend runs only there.
        "import keras\nimport tensorflow as tf\nfrom keras.src.backend.tensorflow.numpy import *\n\n"
        "class L(keras.layers.Layer):\n    def call(self, x):\n        return tf.reduce_sum(x)\n",
        # tf.data pipelines use TF ops legitimately.
        "import tensorflow as tf\n\n"
        "def preprocess(image, label):\n"
        "    return tf.cast(image, tf.float32) / 255.0, label\n\n"
        "ds = tf.data.Dataset.range(3).map(preprocess)\n",
        # A parameter named tf shadows the import.
        "import tensorflow\nimport keras\n\n"
        "class L(keras.layers.Layer):\n"
        "    def call(self, x, tf=None):\n"
        "        return tf.reduce_sum(x)\n",
        # Already keras.ops; a class that is not a Keras layer.
        "import keras\nimport tensorflow as tf\n\n"
        "class L(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return keras.ops.sum(x)\n\n"
        "class Stats:\n"
        "    def total(self, x):\n"
        "        return tf.reduce_sum(x)\n",
        # Look-alike: numpy's where, and a function never given to Lambda or compile.
        "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
        "class L(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return np.where(x > 0, x, 0)\n\n"
        "def helper(t):\n"
        "    return tf.reduce_sum(t)\n",
    )

    def describe(self, node: cst.Call, row: Row) -> str:
        if row.target and row.safety != "none":
            return f"`{spelled(node)}` runs only on the TensorFlow backend: use `keras.{row.target}`"
        return f"`{spelled(node)}` runs only on the TensorFlow backend and has no one-to-one `keras.ops` form"
