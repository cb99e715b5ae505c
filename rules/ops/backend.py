"""KER221: Keras 2 `keras.backend` (`K.*`) functions that Keras 3 removed."""

from __future__ import annotations

from functools import lru_cache

import libcst as cst

from ..engine.context import Context
from ..engine.rule import Example, Rule
from ..engine.tables import load_lines
from ..imports._common import shim_backends
from ._sites import may_be_keras
from ._table import backend_rows, build_fix


@lru_cache(maxsize=1)
def _kept() -> frozenset[str]:
    """The names Keras 3's keras.backend still has (epsilon, floatx, ...)."""
    prefix = "keras.backend."
    return frozenset(n[len(prefix):] for n in load_lines("keras3_api.txt") if n.startswith(prefix))


class RemovedBackendFunction(Rule):
    """
    ## Why
    Keras 3's `keras.backend` keeps 14 names (`epsilon`, `floatx`, `image_data_format`,
    `clear_session`, `is_keras_tensor`, ...). Every other `K.*` function is gone:
    `K.int_shape(x)` raises `AttributeError: module 'keras.backend' has no attribute
    'int_shape'`. Most have a `keras.ops` counterpart (table `rules/data/ops_backend.toml`,
    catalogue K3-BK-001); some defaults differ and the fix spells them out: `K.argmax` and
    `K.concatenate` work on the last axis (`axis=-1`), `K.expand_dims` adds the last axis,
    `K.l2_normalize` without an axis normalizes the whole tensor.

    Scope: every `K.*` call, in any code, whatever the spelling (`from keras import backend as
    K`, `tf.keras.backend`, `from tensorflow.keras import backend`). Under TensorFlow >= 2.16
    `tf.keras.backend` still resolves many of them through the legacy compatibility namespace,
    until the import moves to `keras`.

    ## Example
    ```python
    from keras import backend as K
    width = K.int_shape(x)[-1]
    best = K.argmax(probs)
    ```

    ## Use instead
    ```python
    width = x.shape[-1]
    best = keras.ops.argmax(probs, axis=-1)
    ```

    ## Backends
    All: `keras.backend` is Keras 3's on every backend. On the TensorFlow backend the
    `tf.keras.backend` spelling still finds most of them through the shim (`int_shape`,
    `argmax`, `get_value`, `name_scope`, ...), so that spelling of those is reported for JAX and
    PyTorch only, but its `set_value` and `batch_set_value` fail on a Keras 3
    variable such as `model.optimizer.learning_rate`: `AttributeError: 'str' object has no
    attribute 'name'`, and are reported for every backend. Checked on Keras 3.15.1 with
    TensorFlow 2.21.

    ## Fix safety
    Safe where the table says safe (`int_shape`, math and shape functions, convolutions,
    `set_value` -> `v.assign`, `cast_to_floatx`, `K.dot` -> `keras.ops.tensordot(x, y,
    axes=[[-1], [-2]])`, which is K.dot on every backend where `keras.ops.dot` is a batched
    matmul on PyTorch, ...). Unsafe for `K.shape` (a tuple, not a tensor), `K.function` (a
    `keras.Model`), `K.ndim` (`keras.ops.ndim` of a symbolic `keras.Input` is a KerasTensor,
    not an int), `K.clip` (no None bound), `K.switch` (broadcasts a lower-rank condition from
    the other side), `K.arange` (a negative start without stop raises), `K.conv1d` (no causal
    padding), `K.batch_normalization` (one value per feature) and the random functions (`keras.random.*` draws other numbers, and an int `seed=` draws
    the same ones on every call). No fix, with a note saying what to write, for functions
    without a one-call counterpart: learning phase, sessions, `K.rnn`, `K.gradients`,
    `K.batch_dot`, `K.hard_sigmoid` (another slope), `K.pool2d` (another default stride),
    `K.ctc_decode` and `K.ctc_batch_cost` (Keras 3 takes log-probabilities and the blank
    index: `keras.ops.ctc_decode(keras.ops.log(y_pred + keras.config.epsilon()),
    input_length, mask_index=num_classes - 1)`, whose `[0]` is Keras 2's best path); nor for
    calls whose arguments the table cannot carry over, and for functions imported by name
    (`from keras.backend import int_shape`), whose import must go too.

    ## References
    - Catalogue K3-BK-001; issues "module 'keras.api.backend' has no attribute 'int_shape'"
      (Francesco601/machine-learning-stuff#2), "... has no attribute 'sigmoid'"
      (qubvel/efficientnet#158).
    """

    code = "KER221"
    name = "removed-backend-function"
    message = "This `keras.backend` function was removed in Keras 3"
    nodes = (cst.Call,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "from keras import backend as K\nimport keras\n\n"
            "width = «K.int_shape»(x)[-1]\n"
            "best = «K.argmax»(probs)\n"
            "both = «K.concatenate»([a, b])\n",
            "from keras import backend as K\nimport keras\n\n"
            "width = x.shape[-1]\n"
            "best = keras.ops.argmax(probs, axis=-1)\n"
            "both = keras.ops.concatenate([a, b], axis=-1)\n",
        ),
        Example(
            "import tensorflow as tf\n\n"
            "«tf.keras.backend.set_value»(model.optimizer.learning_rate, 1e-4)\n"
            "y = «tf.keras.backend.permute_dimensions»(x, pattern=(0, 2, 1))\n",
            "import tensorflow as tf\nimport keras\n\n"
            "model.optimizer.learning_rate.assign(1e-4)\n"
            "y = keras.ops.transpose(x, axes=(0, 2, 1))\n",
        ),
        Example(
            "from tensorflow.keras import backend\nfrom keras import ops\n\n"
            "flat = «backend.batch_flatten»(x)\n"
            "z = «backend.cast_to_floatx»(x)\n"
            "e = «backend.expand_dims»(x)\n",
            "from tensorflow.keras import backend\nfrom keras import ops\nimport keras\n\n"
            "flat = ops.reshape(x, (ops.shape(x)[0], -1))\n"
            "z = ops.cast(x, keras.config.floatx())\n"
            "e = ops.expand_dims(x, axis=-1)\n",
        ),
        Example(
            "import keras.backend as K\nimport keras\n\nn = «K.shape»(x)[0]\n",
            "import keras.backend as K\nimport keras\n\nn = keras.ops.shape(x)[0]\n",
            unsafe=True,
        ),
        Example(
            "from keras import backend as K\n\n"
            "if «K.learning_phase»():\n    pass\n"
            "y = «K.switch»(c, lambda: a, lambda: b)\n",
            None,
        ),
    )
    valid = (
        "from keras import backend as K\neps = K.epsilon()\nK.clear_session()\nfmt = K.image_data_format()\n",
        "import keras\nname = keras.backend.backend()\n",
        "def f(K):\n    return K.int_shape(x)\n",
        "import torch.backends as backend\nbackend.cudnn.enabled = True\n",
    )

    @classmethod
    def table_rows(cls) -> tuple[tuple[str, bool], ...]:
        rows = {row.names[0]: row for row in backend_rows().values()}
        return tuple((f"K.{name}", row.safety != "none") for name, row in sorted(rows.items()))

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, (cst.Attribute, cst.Name)) or not may_be_keras(func, ctx):
            return
        api = ctx.keras_api(func)
        if api is None or not api[0].startswith("backend."):
            return
        name = api[0][len("backend."):]
        row = backend_rows().get(name)
        # `K.experimental.*` has rows of its own; other dotted names are not functions of K.
        if ("." in name and row is None) or name in _kept():
            return
        message = f"`keras.backend.{name}` was removed in Keras 3"
        fix = None
        note = None
        if row is not None:
            note = row.note or None
            if row.target:
                message += f": use `keras.{row.target}`"
            if isinstance(func, cst.Attribute):
                fix = build_fix(node, row, ctx)
        ctx.report(func, message, fix=fix, note=note, backends=shim_backends(*api))
