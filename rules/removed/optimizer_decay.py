"""KER602: `decay=` given to a Keras optimizer."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, positional_args
from ..engine.edits import FixSpec, Replace, remove_arg
from ..engine.rule import Example, Rule

SCHEDULE = "keras.optimizers.schedules.InverseTimeDecay"


def _is_zero(expr: cst.BaseExpression) -> bool:
    return isinstance(expr, (cst.Integer, cst.Float)) and float(expr.value.replace("_", "")) == 0


class OptimizerDecayArgument(Rule):
    """
    ## Why
    Keras 2 optimizers took `decay=` and lowered the learning rate at each step as
    `lr / (1 + decay * iterations)`. Keras 3 optimizers ignore it with only a warning
    ("Argument `decay` is no longer supported and will be ignored."), so training silently
    runs with a constant learning rate.

    ## Example
    ```python
    optimizer = keras.optimizers.SGD(learning_rate=0.01, decay=1e-6)
    ```

    ## Use instead
    ```python
    optimizer = keras.optimizers.SGD(
        learning_rate=keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6)
    )
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe: `InverseTimeDecay(lr, decay_steps=1, decay_rate=decay)` computes the Keras 2 formula
    (checked: `InverseTimeDecay(0.1, 1, 0.01)(10) == 0.0909`), but the learning rate is then a
    schedule object, which code that reads or sets `optimizer.learning_rate` may not expect.
    `decay=0` is simply removed (safe). Without an explicit learning rate there is no fix:
    Keras 2 and Keras 3 defaults differ for some optimizers.

    ## References
    - Catalogue K3-OPT-002.
    """

    code = "KER602"
    name = "optimizer-decay-argument"
    message = (
        "`decay=` is ignored by Keras 3 optimizers: use a "
        "`keras.optimizers.schedules.InverseTimeDecay` learning rate"
    )
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import keras\nopt = keras.optimizers.SGD(learning_rate=0.01, «decay=1e-6»)\n",
            "import keras\nopt = keras.optimizers.SGD(learning_rate="
            "keras.optimizers.schedules.InverseTimeDecay(0.01, decay_steps=1, decay_rate=1e-6))\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nopt = tf.keras.optimizers.Adam(1e-3, «decay=1e-4», beta_1=0.8)\n",
            "import tensorflow as tf\nimport keras\nopt = tf.keras.optimizers.Adam("
            "keras.optimizers.schedules.InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-4), beta_1=0.8)\n",
            unsafe=True,
        ),
        Example(
            "from keras import optimizers\nopt = optimizers.RMSprop(learning_rate=lr, «decay=0.0»)\n",
            "from keras import optimizers\nopt = optimizers.RMSprop(learning_rate=lr)\n",
        ),
        Example("from keras.optimizers import Adam\nopt = Adam(«decay=1e-4»)\n", None),
    )
    valid = (
        "import keras\nopt = keras.optimizers.SGD(learning_rate=0.01)\n",
        "import keras\ns = keras.optimizers.schedules.ExponentialDecay(0.1, 1000, decay_rate=0.9)\n",
        "import torch\nopt = torch.optim.SGD(params, lr=0.1, weight_decay=1e-4)\n",
        "def SGD(decay): ...\nopt = SGD(decay=1e-6)\n",
    )

    def call_keywords(self) -> frozenset[str]:
        """The keywords of the calls `visit` acts on (see `engine.gates`)."""
        return frozenset({"decay"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        decay = call_keyword(node, "decay")
        if decay is None:
            return
        api = ctx.keras_api(node.func)
        if api is None or not api[0].startswith("optimizers.") or api[0].startswith("optimizers.schedules."):
            return
        if _is_zero(decay.value):
            ctx.report_arg(decay, fix=FixSpec.safe("Remove `decay=0`", remove_arg(node, decay)))
            return
        rate = call_keyword(node, "learning_rate") or call_keyword(node, "lr")
        if rate is None:
            positional = positional_args(node)
            rate = positional[0] if positional else None
        if rate is None or isinstance(rate.value, cst.Call):
            ctx.report_arg(decay)
            return
        reference = ctx.reference(SCHEDULE)
        if reference is None:
            ctx.report_arg(decay)
            return
        schedule, imports = reference
        code = ctx.module.code_for_node
        text = f"{schedule}({code(rate.value)}, decay_steps=1, decay_rate={code(decay.value)})"
        ctx.report_arg(
            decay,
            fix=FixSpec.unsafe(
                "Replace `decay=` with an `InverseTimeDecay` schedule",
                Replace(rate.value, text),
                remove_arg(node, decay),
                imports=imports,
            ),
        )
