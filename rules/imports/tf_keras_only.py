"""KER103: names that only the `tf.keras` compatibility shim still has."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ._common import chain_words, full_name, module_api, row_for, shim_alternatives, tf_keras_only


def _shim_only(path: str) -> bool:
    # Names with a rule of their own (ThresholdedReLU, ImageDataGenerator, ...) are left to it.
    return path in tf_keras_only() and row_for(path) is None


@lru_cache(maxsize=1)
def _leaves() -> frozenset[str]:
    return frozenset(path.rsplit(".", 1)[-1] for path in tf_keras_only() if _shim_only(path))


class TfKerasOnlyName(Rule):
    """
    ## Why
    With TensorFlow >= 2.16 and Keras >= 3.3.2, `tf.keras` is a compatibility shim
    (`keras._tf_keras`) that still serves some Keras 2 names which Keras 3 itself does not
    have, mostly `keras.backend` functions such as `int_shape`, `eval`, `get_value`,
    `batch_dot` or `rnn`. The code works today through `tf.keras`, so rewriting it to `keras`
    (KER101) would break it: `AttributeError: module 'keras.backend' has no attribute
    'int_shape'`. It breaks too on the JAX and PyTorch backends, where `tf.keras` is not
    available.

    A call of a `keras.backend` function (`tf.keras.backend.int_shape(x)`) is KER221's finding,
    which names the replacement and fixes it where it can; this rule reports the other uses:
    imports, and functions passed or stored without being called.

    ## Example
    ```python
    from tensorflow.keras.backend import int_shape
    shape_of = tf.keras.backend.int_shape
    ```

    ## Use instead
    ```python
    from keras import ops
    shape_of = ops.shape
    ```

    ## Backends
    JAX and PyTorch, where `tf.keras` is not available. On the TensorFlow backend the shim
    serves these names (`int_shape`, `get_value`, `batch_dot`, ... checked on Keras 3.15.1 with
    TensorFlow 2.21), so the code runs until its import moves to `keras`. Its `set_value` and
    `batch_set_value` fail there on a Keras 3 variable (`AttributeError: 'str' object has no
    attribute 'name'`): KER221 reports those on every backend.

    ## Fix safety
    No fix: each name needs its own replacement (for `keras.backend` functions mostly a
    `keras.ops` function; see the KER2xx rules).

    ## References
    - Catalogue K3-IMP-003; Keras 3.3.2 release notes; `keras/src/legacy/backend.py`.
    """

    code = "KER103"
    name = "tf-keras-only-name"
    message = "Only the `tf.keras` shim has this name: Keras 3 does not"
    nodes = (cst.Attribute, cst.ImportFrom)
    backends = frozenset({"jax", "torch"})
    examples = (
        Example("import tensorflow as tf\nshape_of = «tf.keras.backend.int_shape»\n", None),
        Example("from tensorflow.keras import backend as K\nvalues = map(«K.get_value», weights)\n", None),
        Example("from tensorflow.keras.backend import «batch_dot», floatx\n", None),
    )
    valid = (
        "import keras\nshape = keras.ops.shape(x)\n",
        # Calls are KER221's: one finding, with its fix.
        "import tensorflow as tf\nshape = tf.keras.backend.int_shape(x)\n",
        "import tensorflow.keras.backend as K\nK.set_value(v, 1)\n",
        "import keras\nK = keras.backend\nK.floatx()\n",
        "def f(tf):\n    return tf.keras.backend.int_shape(x)\n",
        "import tensorflow as tf\nx = tf.keras.layers.ThresholdedReLU()\n",
        "from tensorflow.keras.preprocessing.image import ImageDataGenerator\n",
        # Defined, not used.
        "from tensorflow import keras\nkeras.backend.name_scope = keras.name_scope\n",
        # The Keras 2 branch of a shim.
        "try:\n    import keras\n    K = keras.ops\nexcept ImportError:\n"
        "    from tensorflow.keras import backend as K\n    shape = K.int_shape(x)\n"
        "    from tensorflow.keras.backend import int_shape\n",
    )

    def attribute_words(self) -> frozenset[str]:
        """For the walker: an attribute is visited only when its whole chain spells one of
        these (see `engine.gates`); `visit` tests the same."""
        return _leaves()

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Attribute:
            names = chain_words(node, ctx)  # type: ignore[arg-type]
            if names is None or names.isdisjoint(_leaves()):
                return
            api = ctx.keras_api(node)  # type: ignore[arg-type]
            if api is None or api[1] != "tf.keras" or not _shim_only(api[0]):
                return
            # Assigned, not used: `keras.backend.name_scope = keras.name_scope` defines it.
            above = ctx.parents[-1]
            if isinstance(above, cst.AssignTarget) and above.target is node:
                return
            # A `keras.backend` function called: KER221 reports the call, with its fix.
            if isinstance(above, cst.Call) and above.func is node and api[0].startswith("backend."):
                return
            if not {"keras", "keras_core"}.isdisjoint(shim_alternatives(ctx)):
                return
            ctx.report(node, self._message(api[0]))
            return
        assert isinstance(node, cst.ImportFrom)
        if node.relative or node.module is None or isinstance(node.names, cst.ImportStar):
            return
        api = module_api(dotted_name(node.module))
        if api is None or api[1] != "tf.keras":
            return
        if not {"keras", "keras_core"}.isdisjoint(shim_alternatives(ctx)):
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            path = f"{api[0]}.{name}" if api[0] else name
            if name and _shim_only(path):
                ctx.report(alias.name, self._message(path))

    def _message(self, path: str) -> str:
        return f"`{full_name(path)}` works only through the `tf.keras` shim: Keras 3 does not have it"
