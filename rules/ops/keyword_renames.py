"""KER209: a `keras.ops` call that still passes TensorFlow's keyword (`perm=`, `shape=`, ...)."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.edits import FixSpec, rename_keyword
from ..engine.rule import Example, Rule
from ._table import keras_keyword_renames


@lru_cache(maxsize=1)
def _tf_keywords() -> frozenset[str]:
    return frozenset(old for renames in keras_keyword_renames().values() for old in renames)


class KerasOpWithTfKeyword(Rule):
    """
    ## Why
    Hand-ported code often renames the op and keeps TensorFlow's keyword:
    `keras.ops.transpose(x, perm=[1, 0])` raises
    `TypeError: transpose() got an unexpected keyword argument 'perm'` on every backend. The
    keyword names come from the same table as the `tf.*` -> `keras.ops` fixes:
    `tf.range(limit=, delta=)` -> `arange(stop=, step=)`, `tf.transpose(perm=)` -> `axes=`,
    `tf.reshape(shape=)` -> `newshape=`, `tf.concat(values=)` -> `xs=`, `tf.one_hot(depth=)` ->
    `num_classes=`, `tf.image.resize(method=)` -> `interpolation=`,
    `tf.split(num_or_size_splits=)` -> `indices_or_sections=`, `keep_dims=` -> `keepdims=`,
    `labels=`/`logits=` -> `target=`/`output=`.

    ## Example
    ```python
    y = ops.transpose(x, perm=[0, 2, 1])
    ```

    ## Use instead
    ```python
    y = ops.transpose(x, axes=[0, 2, 1])
    ```

    ## Backends
    All: the call fails before any backend runs.

    ## Fix safety
    Safe: the keyword is renamed, the value kept. When the call already has the Keras keyword,
    no fix.

    ## References
    - Catalogue MB-OPS-017 (every listed keyword verified to raise `TypeError`).
    """

    code = "KER209"
    name = "keras-op-tf-keyword"
    message = "`keras.ops` call with a TensorFlow keyword raises TypeError"
    nodes = (cst.Call,)
    fix = "safe"
    examples = (
        Example(
            "from keras import ops\ny = ops.transpose(x, «perm=[1, 0]»)\n",
            "from keras import ops\ny = ops.transpose(x, axes=[1, 0])\n",
        ),
        Example(
            "import keras\nr = keras.ops.arange(0, «limit=10», «delta=2»)\n"
            "m = keras.ops.mean(x, axis=1, «keep_dims=True»)\n",
            "import keras\nr = keras.ops.arange(0, stop=10, step=2)\n"
            "m = keras.ops.mean(x, axis=1, keepdims=True)\n",
        ),
        Example(
            "from keras import ops as K3\n"
            "h = K3.one_hot(ids, «depth=10»)\n"
            "parts = K3.split(x, «num_or_size_splits=2»)\n"
            "img = K3.image.resize(x, (64, 64), «method='nearest'»)\n",
            "from keras import ops as K3\n"
            "h = K3.one_hot(ids, num_classes=10)\n"
            "parts = K3.split(x, indices_or_sections=2)\n"
            "img = K3.image.resize(x, (64, 64), interpolation='nearest')\n",
        ),
        Example(
            "import keras\nloss = keras.ops.binary_crossentropy(«labels=y», «logits=z», from_logits=True)\n",
            "import keras\nloss = keras.ops.binary_crossentropy(target=y, output=z, from_logits=True)\n",
        ),
        Example("import keras\ny = keras.ops.reshape(x, «shape=(2, 3)», newshape=(3, 2))\n", None),
    )
    valid = (
        "import tensorflow as tf\ny = tf.transpose(x, perm=[1, 0])\n",
        "import numpy as np\ny = np.reshape(x, shape=(2, 3))\n",
        "import keras\ny = keras.ops.reshape(x, newshape=(2, 3))\n",
        "def f(ops):\n    return ops.transpose(x, perm=[1, 0])\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset(_tf_keywords())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        wanted = _tf_keywords()
        suspects = [a for a in node.args if a.keyword is not None and a.keyword.value in wanted]
        if not suspects:
            return
        api = ctx.keras_api(node.func)
        if api is None:
            return
        renames = keras_keyword_renames().get(api[0])
        if renames is None:
            return
        for arg in suspects:
            old = arg.keyword.value  # type: ignore[union-attr]
            new = renames.get(old)
            if new is None:
                continue
            message = f"`keras.{api[0]}` has no `{old}=` keyword: it is `{new}=`"
            fix = None
            if call_keyword(node, new) is None:
                fix = FixSpec.safe(f"Rename `{old}` to `{new}`", rename_keyword(arg, new))
            ctx.report_arg(arg, message, fix=fix)
