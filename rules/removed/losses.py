"""KER606, KER607: `losses.Reduction` and the short loss / metric aliases."""

from __future__ import annotations

import dataclasses

import libcst as cst

from ..engine.context import Context, call_keyword, string_value
from ..engine.edits import FixSpec, Replace
from ..imports._common import Match, TableRule
from ..engine.rule import Example

# Keras 2 `Reduction` members and the strings Keras 3 takes instead. AUTO meant
# SUM_OVER_BATCH_SIZE outside a distribution strategy.
REDUCTIONS = {
    "NONE": "none",
    "SUM": "sum",
    "SUM_OVER_BATCH_SIZE": "sum_over_batch_size",
    "AUTO": "sum_over_batch_size",
}

_WORDS = frozenset({"Reduction", *REDUCTIONS})


class LossReductionEnum(TableRule):
    """
    ## Why
    Keras 3 takes the loss reduction as a string and has no `keras.losses.Reduction` enum:
    `AttributeError: module 'keras.losses' has no attribute 'Reduction'`. The Keras 2 value
    `"auto"` is refused too: `ValueError: Invalid value for argument reduction. Expected one of
    {'none', 'sum', 'mean', None, 'sum_over_batch_size', 'mean_with_sample_weight'}`.
    Only the `tf.keras` shim of TensorFlow 2.16+ still has `tf.keras.losses.Reduction`, whose
    members are those strings: `NONE`, `SUM` and `SUM_OVER_BATCH_SIZE` run there today and
    break after moving to `import keras`, while `AUTO` is `"auto"` and fails already.

    ## Example
    ```python
    loss = tf.keras.losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.NONE)
    loss = keras.losses.Huber(reduction="auto")
    ```

    ## Use instead
    ```python
    loss = keras.losses.MeanSquaredError(reduction="none")
    loss = keras.losses.Huber(reduction="sum_over_batch_size")
    ```

    ## Backends
    All (checked on JAX, TensorFlow and PyTorch, and `Reduction.AUTO` through `tf.keras` on
    TensorFlow with Keras 3.0.5 and 3.15.1). Spelled through `tf.keras`, JAX and PyTorch only: with TensorFlow >= 2.16 the `tf.keras` namespace still serves `Reduction` and its other members on the TensorFlow backend (checked on Keras 3.15.1 with TensorFlow 2.21, tests/keras3/test_tensorflow_keras_modules_keras3.py); not `Reduction.AUTO`, whose "auto" a Keras 3
    loss refuses on every backend.

    ## Fix safety
    Safe: each member becomes its string. `AUTO` becomes `"sum_over_batch_size"`, which is what
    it meant outside a `tf.distribute` strategy. An import of `Reduction` is reported without a
    fix: remove it once its uses are fixed.

    ## References
    - Catalogue K3-TRN-015.
    """

    code = "KER606"
    name = "loss-reduction-enum"
    message = "Keras 3 has no `losses.Reduction`: pass the reduction as a string"
    nodes = (cst.Attribute, cst.ImportFrom, cst.Import, cst.Call)
    fix = "safe"
    uses_of_imports = True
    examples = (
        Example(
            "import tensorflow as tf\nloss = tf.keras.losses.MeanSquaredError(reduction=«tf.keras.losses.Reduction.NONE»)\n",
            "import tensorflow as tf\nloss = tf.keras.losses.MeanSquaredError(reduction=\"none\")\n",
        ),
        Example(
            "from keras import losses\nloss = losses.Huber(reduction=«losses.Reduction.SUM»)\n",
            "from keras import losses\nloss = losses.Huber(reduction=\"sum\")\n",
        ),
        Example(
            "from tensorflow.keras.losses import «Reduction»\nr = «Reduction.AUTO»\n",
            "from tensorflow.keras.losses import Reduction\nr = \"sum_over_batch_size\"\n",
        ),
        Example(
            "import keras\nloss = keras.losses.Huber(«reduction='auto'»)\n",
            "import keras\nloss = keras.losses.Huber(reduction='sum_over_batch_size')\n",
        ),
        Example("import keras\nkinds = list(«keras.losses.Reduction»)\n", None),
    )
    valid = (
        "import keras\nloss = keras.losses.Huber(reduction='sum_over_batch_size')\n",
        "import torch\nloss = torch.nn.MSELoss(reduction='none')\n",
        "def f(tf):\n    return tf.keras.losses.Reduction.NONE\n",
        "import keras\nloss = my_loss(reduction='auto')\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"reduction"})

    def visit(self, node: cst.CSTNode, ctx: Context) -> None:
        if type(node) is cst.Call:
            self._auto(node, ctx)  # type: ignore[arg-type]
        else:
            super().visit(node, ctx)

    def words(self) -> frozenset[str]:
        return _WORDS

    def resolve(self, path: str, origin: str) -> Match | None:
        match = super().resolve(path, origin)
        if match is None:
            return None
        member = path[len(match.row.path) + 1:]
        if member in REDUCTIONS:
            return Match(dataclasses.replace(match.row, fix="safe"), path, REDUCTIONS[member])
        return match

    def message_for(self, match: Match) -> str:
        if match.new is not None:
            return f"Keras 3 has no `losses.Reduction`: use the string \"{match.new}\""
        return super().message_for(match)

    def chain_fix(
        self, node: cst.Attribute, row_node: cst.BaseExpression, match: Match, ctx: Context
    ) -> FixSpec | None:
        return FixSpec.safe(f'Use "{match.new}"', Replace(node, f'"{match.new}"'))

    def _auto(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "reduction")
        if arg is None or not isinstance(arg.value, cst.SimpleString):
            return
        if (string_value(arg.value) or "").lower() != "auto":
            return
        api = ctx.keras_api(node.func)
        if api is None or not api[0].startswith("losses."):
            return
        quote = arg.value.quote
        ctx.report_arg(
            arg,
            'Keras 3 has no "auto" reduction: use "sum_over_batch_size"',
            fix=FixSpec.safe(
                'Use "sum_over_batch_size"', Replace(arg.value, f"{quote}sum_over_batch_size{quote}")
            ),
        )


class LossMetricAlias(TableRule):
    """
    ## Why
    Keras 3 dropped the short aliases of the loss and metric functions (`mse`, `MSE`, `mae`,
    `MAE`, `mape`, `msle`, `kld`, `logcosh`, `kullback_leibler_divergence`) from
    `keras.losses` and `keras.metrics`: `AttributeError: module 'keras.losses' has no attribute
    'mse'`. The string identifiers still work: `loss="mse"` is fine.

    ## Example
    ```python
    model.compile(loss=tf.keras.losses.mse, metrics=[tf.keras.metrics.mae])
    ```

    ## Use instead
    ```python
    model.compile(loss=keras.losses.mean_squared_error, metrics=[keras.metrics.mean_absolute_error])
    ```

    ## Backends
    All. Spelled through `tf.keras`, JAX and PyTorch only: with TensorFlow >= 2.16 the `tf.keras` namespace still serves the aliases on the TensorFlow backend (checked on Keras 3.15.1 with TensorFlow 2.21, tests/keras3/test_tensorflow_keras_modules_keras3.py).

    ## Fix safety
    Safe: the alias and the full name were the same function. An imported alias is renamed
    with `as` (`from keras.losses import mean_squared_error as mse`), so its uses keep working.

    ## References
    - Catalogue K3-TRN-016.
    """

    code = "KER607"
    name = "loss-metric-alias"
    message = "Keras 3 has no short loss / metric aliases: use the full name"
    fix = "safe"
    examples = (
        Example(
            "import tensorflow as tf\nmodel.compile(loss=«tf.keras.losses.mse», metrics=[«tf.keras.metrics.mae»])\n",
            "import tensorflow as tf\nmodel.compile(loss=tf.keras.losses.mean_squared_error, "
            "metrics=[tf.keras.metrics.mean_absolute_error])\n",
        ),
        Example(
            "from keras import losses\nl = «losses.logcosh»(y, p)\n",
            "from keras import losses\nl = losses.log_cosh(y, p)\n",
        ),
        Example(
            "from keras.losses import «MSE», «kld» as divergence\n",
            "from keras.losses import mean_squared_error as MSE, kl_divergence as divergence\n",
        ),
        Example(
            "from tensorflow.keras.metrics import «kullback_leibler_divergence»\n",
            "from tensorflow.keras.metrics import kl_divergence as kullback_leibler_divergence\n",
        ),
    )
    valid = (
        "import keras\nmodel.compile(loss='mse', metrics=['mae'])\n",
        "import keras\nl = keras.losses.mean_squared_error(y, p)\n",
        "from sklearn.metrics import mae\n",
        "def f(losses):\n    return losses.mse\n",
    )
