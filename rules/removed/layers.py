"""KER608: layers (and the radial constraint) that Keras 3 removed."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, has_star_args, positional_args
from ..engine.edits import FixSpec, Insert, Replace, append_arg, rename_keyword
from ..imports._common import TableRule, shim_backends
from ..engine.rule import Example

# Callee names whose calls this rule rewrites itself.
_CALLED = frozenset({"ThresholdedReLU", "SyncBatchNormalization"})
# Keras 2's default `theta`.
_DEFAULT_THETA = "1.0"


def _non_negative_literal(expr: cst.BaseExpression) -> bool:
    if isinstance(expr, cst.Integer):
        return True
    if isinstance(expr, cst.Float):
        return float(expr.value) >= 0
    return False


class RemovedLayer(TableRule):
    """
    ## Why
    Keras 3 removed several Keras 2 layers: `ThresholdedReLU`, `LocallyConnected1D/2D`,
    `RandomHeight`, `RandomWidth`, `DenseFeatures`, `AbstractRNNCell`,
    `experimental.SyncBatchNormalization`, `experimental.RandomFourierFeatures` (and the TF1
    `CuDNNLSTM` / `CuDNNGRU`): `AttributeError: module 'keras.layers' has no attribute
    'ThresholdedReLU'`. `ThresholdedReLU`, `RandomHeight` and `RandomWidth` still resolve
    through the `tf.keras` shim, so the code may work today with TensorFlow and break on the
    other backends or after moving to `import keras`. The constraint
    `keras.constraints.RadialConstraint` (alias `radial_constraint`), made for the kernels of
    `LocallyConnected2D`, went with them: "module 'keras.constraints' has no attribute
    'RadialConstraint'" (Keras 3.0.5 and 3.15.1, every spelling).

    ## Example
    ```python
    act = tf.keras.layers.ThresholdedReLU(theta=0.5)
    rnn = tf.compat.v1.keras.layers.CuDNNLSTM(64)
    class Cell(tf.keras.layers.AbstractRNNCell): ...
    ```

    ## Use instead
    ```python
    act = keras.layers.ReLU(threshold=0.5)
    rnn = keras.layers.LSTM(64)
    class Cell(keras.layers.Layer): ...  # keep the state_size / output_size properties
    ```

    ## Backends
    All. Spelled through `tf.keras`, JAX and PyTorch only: with TensorFlow >= 2.16 the `tf.keras` namespace still serves `ThresholdedReLU`, `RandomHeight` and `RandomWidth` on the TensorFlow backend (checked on Keras 3.15.1 with TensorFlow 2.21, tests/keras3/test_tensorflow_keras_modules_keras3.py).

    ## Fix safety
    - `ThresholdedReLU(theta=t)` -> `ReLU(threshold=t)`: safe for a literal `t >= 0` (the same
      output, including at `x == t`, checked on Keras 3.15.1); `ReLU` refuses a negative
      threshold, so there is no fix for other values.
    - `CuDNNLSTM` / `CuDNNGRU` -> `LSTM` / `GRU`: safe; they pick the cuDNN kernel themselves.
    - `AbstractRNNCell` -> `Layer`: unsafe, the cell must define `state_size` itself.
    - `SyncBatchNormalization(...)` -> `BatchNormalization(..., synchronized=True)`: unsafe,
      only the TensorFlow backend supports `synchronized=True`.
    - No fix for the others: the message says what comes closest.

    ## References
    - Catalogue K3-LAY-008; Keras migration guide, "Removed features".
    """

    code = "KER608"
    name = "removed-layer"
    message = "This layer (or the radial constraint) is not in Keras 3"
    nodes = (cst.Attribute, cst.ImportFrom, cst.Import, cst.Call)
    fix = "mixed"
    examples = (
        Example(
            "import tensorflow as tf\nact = «tf.keras.layers.ThresholdedReLU»(theta=0.5)\n",
            "import tensorflow as tf\nact = tf.keras.layers.ReLU(threshold=0.5)\n",
        ),
        Example(
            "from keras import layers\nact = «layers.ThresholdedReLU»(2)\nb = «layers.ThresholdedReLU»(name='t')\n"
            "c = «layers.ThresholdedReLU»()\n",
            "from keras import layers\nact = layers.ReLU(threshold=2)\nb = layers.ReLU(name='t', threshold=1.0)\n"
            "c = layers.ReLU(threshold=1.0)\n",
        ),
        Example(
            "import keras\nfrom tensorflow.keras.layers import «ThresholdedReLU»\nact = «ThresholdedReLU»(theta=0.1)\n"
            "b = «ThresholdedReLU»()\n",
            "import keras\nfrom tensorflow.keras.layers import ThresholdedReLU\nact = keras.layers.ReLU(threshold=0.1)\n"
            "b = keras.layers.ReLU(threshold=1.0)\n",
        ),
        Example("import keras\nact = «keras.layers.ThresholdedReLU»(theta=-1.0)\n", None),
        Example("import keras\nact = «keras.layers.ThresholdedReLU»(theta=t)\n", None),
        Example(
            "import tensorflow as tf\nrnn = «tf.compat.v1.keras.layers.CuDNNLSTM»(64, return_sequences=True)\n",
            "import tensorflow as tf\nrnn = tf.compat.v1.keras.layers.LSTM(64, return_sequences=True)\n",
        ),
        Example(
            "from tensorflow.compat.v1.keras.layers import «CuDNNGRU»\nrnn = CuDNNGRU(32)\n",
            "from tensorflow.compat.v1.keras.layers import GRU as CuDNNGRU\nrnn = CuDNNGRU(32)\n",
        ),
        Example(
            "import keras\nclass Cell(«keras.layers.AbstractRNNCell»):\n    pass\n",
            "import keras\nclass Cell(keras.layers.Layer):\n    pass\n",
            unsafe=True,
        ),
        Example(
            "import keras\nbn = «keras.layers.experimental.SyncBatchNormalization»(axis=-1)\n",
            "import keras\nbn = keras.layers.BatchNormalization(axis=-1, synchronized=True)\n",
            unsafe=True,
        ),
        Example("from keras.layers import «LocallyConnected2D», Dense\n", None),
        Example("import tensorflow as tf\nx = «tf.keras.layers.RandomHeight»(0.2)\n", None),
        Example("import tensorflow as tf\nx = «tf.keras.layers.experimental.RandomFourierFeatures»(64)\n", None),
        Example(
            "import keras\nfrom keras import constraints\n"
            "a = keras.layers.Dense(4, kernel_constraint=«keras.constraints.RadialConstraint»())\n"
            "b = «constraints.radial_constraint»()\n",
            None,
        ),
        Example("from tensorflow.keras.constraints import «RadialConstraint», MaxNorm\n", None),
    )
    valid = (
        "import keras\nact = keras.layers.ReLU(threshold=0.5)\n",
        "import keras\nrnn = keras.layers.LSTM(64)\n",
        "import keras\nc = keras.constraints.MaxNorm(2.0)\n",
        "def f(layers):\n    return layers.ThresholdedReLU(theta=0.5)\n",
        "from my_layers import ThresholdedReLU\nact = ThresholdedReLU(theta=0.5)\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(_CALLED)

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Call:
            self._call(node, ctx)  # type: ignore[arg-type]
        else:
            super().visit(node, ctx)

    def _call(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if isinstance(func, cst.Attribute):
            called = func.attr.value
        elif isinstance(func, cst.Name):
            called = func.value
        else:
            return
        if called not in _CALLED:
            return
        api = ctx.keras_api(func)
        if api is None:
            return
        match = self.resolve(*api)
        if match is None or match.path != match.row.path:
            return
        message = self.message_for(match)
        if called == "ThresholdedReLU":
            fix = self._thresholded_relu_fix(node, ctx)
        else:
            fix = self._sync_batch_norm_fix(node, ctx)
        ctx.report(func, message, fix=fix, backends=shim_backends(*api))

    def _callee(self, node: cst.Call, name: str, ctx: Context) -> tuple[Replace, tuple[str, ...]] | None:
        """The edit that makes the callee `keras.layers.<name>`: the last name only when the
        rest of the chain is the layers module, else the reference spelled from scratch."""
        func = node.func
        if isinstance(func, cst.Attribute):
            module = ctx.keras_api(func.value)
            if module is not None and module[0] == "layers":
                return Replace(func.attr, name), ()
        reference = ctx.reference(f"keras.layers.{name}")
        if reference is None:
            return None
        return Replace(func, reference[0]), reference[1]

    @staticmethod
    def _callee_text(node: cst.Call, edit: Replace) -> str:
        """The callee's text after `edit` (from `_callee`)."""
        if isinstance(edit.content, str) and edit.node is node.func:
            return edit.content
        func = node.func
        assert isinstance(func, cst.Attribute) and isinstance(edit.content, str)
        return cst.Module([]).code_for_node(func.with_changes(attr=cst.Name(edit.content)))

    def _thresholded_relu_fix(self, node: cst.Call, ctx: Context) -> FixSpec | None:
        if has_star_args(node):
            return None
        theta = call_keyword(node, "theta")
        positional = positional_args(node)
        if theta is None and positional:
            theta = positional[0]
        if theta is not None and not _non_negative_literal(theta.value):
            return None
        callee = self._callee(node, "ReLU", ctx)
        if callee is None:
            return None
        edit, imports = callee
        if not node.args:
            # One edit for the whole call: a second one inside it would overlap.
            text = f"{self._callee_text(node, edit)}(threshold={_DEFAULT_THETA})"
            return FixSpec.safe("Use `ReLU(threshold=...)`", Replace(node, text), imports=imports)
        if theta is None:
            value_edit = append_arg(node, f"threshold={_DEFAULT_THETA}")
        elif theta.keyword is not None:
            value_edit = rename_keyword(theta, "threshold")
        else:
            # ReLU's first positional parameter is `max_value`: name the argument.
            value_edit = Insert(theta.value, "threshold=")
        return FixSpec.safe("Use `ReLU(threshold=...)`", edit, value_edit, imports=imports)

    def _sync_batch_norm_fix(self, node: cst.Call, ctx: Context) -> FixSpec | None:
        if has_star_args(node) or call_keyword(node, "synchronized") is not None:
            return None
        callee = self._callee(node, "BatchNormalization", ctx)
        if callee is None:
            return None
        edit, imports = callee
        return FixSpec.unsafe(
            "Use `BatchNormalization(synchronized=True)` (TensorFlow backend only)",
            edit,
            append_arg(node, "synchronized=True"),
            imports=imports,
        )
