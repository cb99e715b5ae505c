"""KER601: `lr=` given to a Keras optimizer."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword
from ..engine.edits import FixSpec, rename_keyword
from ..engine.rule import Example, Rule


class OptimizerLrArgument(Rule):
    """
    ## Why
    Keras 2 optimizers accepted `lr` as an alias of `learning_rate`. Keras 3 removed the alias:
    `keras.optimizers.Adam(lr=1e-3)` raises `ValueError: Argument(s) not recognized: {'lr': 0.001}`.

    ## Example
    ```python
    optimizer = keras.optimizers.Adam(lr=1e-3)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    ```

    ## Backends
    All.

    ## Fix safety
    Safe: the keyword is renamed, the value is untouched.

    ## References
    - Catalogue K3-OPT-001; Keras 3 `keras.optimizers.Optimizer` signature.
    """

    code = "KER601"
    name = "optimizer-lr-argument"
    message = "`lr=` is not accepted by Keras 3 optimizers: use `learning_rate=`"
    nodes = (cst.Call,)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(«lr=1e-3»)\n",
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(learning_rate=1e-3)\n",
        ),
        Example(
            "from keras import optimizers\nopt = optimizers.SGD(«lr=0.01», momentum=0.9)\n",
            "from keras import optimizers\nopt = optimizers.SGD(learning_rate=0.01, momentum=0.9)\n",
        ),
    )
    valid = (
        "import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\n",
        "def Adam(lr): ...\nopt = Adam(lr=1)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"lr"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        arg = call_keyword(node, "lr")
        if arg is None:
            return
        api = ctx.keras_api(node.func)
        if api is None or not api[0].startswith("optimizers."):
            return
        if call_keyword(node, "learning_rate") is not None:
            ctx.report_arg(arg)
            return
        ctx.report_arg(arg, fix=FixSpec.safe("Rename `lr` to `learning_rate`", rename_keyword(arg, "learning_rate")))
