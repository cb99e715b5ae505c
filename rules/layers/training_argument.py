"""KER418: a `training` parameter of `call()` without a default."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, class_methods
from ..engine.edits import FixSpec, Insert
from ..engine.rule import Example, Rule


class TrainingArgumentWithoutDefault(Rule):
    """
    ## Why
    Keras 2 filled in a layer's `training` argument when the caller left it out (from the
    enclosing call, the learning phase, or `None`), so `def call(self, inputs, training)` worked
    when called as `layer(x)`. Keras 3 passes `training` only when the caller gives it or an
    enclosing layer or model was called with it: a layer used in a functional model
    (`Drop()(inputs)`), called directly, or called by a model's `call()` that was not given
    `training` fails with `TypeError: missing a required argument: 'training'`, on every
    backend.

    ## Example
    ```python
    class NoisyDense(keras.layers.Layer):
        def call(self, inputs, training):
            ...
    ```

    ## Use instead
    ```python
    class NoisyDense(keras.layers.Layer):
        def call(self, inputs, training=None):
            ...
    ```

    ## Backends
    All (checked on JAX, TensorFlow and PyTorch).

    ## Fix safety
    Safe: the default `None` is what Keras 2 passed when nothing set `training`, and Keras 3
    still passes `True` / `False` wherever the call is given one (`fit()`, `predict()`, an
    enclosing call with `training=`). No fix when a positional parameter without a default
    follows `training` (a default there would need defaults after it too).

    ## References
    - Keras 3 `Layer.__call__` (the `training` argument is taken from the call, then from the
      call context, then from the signature's default).
    """

    code = "KER418"
    name = "training-argument-without-default"
    message = (
        "Keras 3 passes `training` only when the caller gives it: a call without it fails "
        "(\"missing a required argument: 'training'\"): give it a default, `training=None`"
    )
    nodes = (cst.FunctionDef,)
    fix = "safe"
    examples = (
        Example(
            "import keras\n\nclass Noisy(keras.layers.Layer):\n"
            "    def call(self, inputs, «training»):\n"
            "        return inputs + 0.1 if training else inputs\n",
            "import keras\n\nclass Noisy(keras.layers.Layer):\n"
            "    def call(self, inputs, training=None):\n"
            "        return inputs + 0.1 if training else inputs\n",
        ),
        Example(
            "import tensorflow as tf\n\nclass Net(tf.keras.Model):\n"
            "    def call(self, x, «training: bool», mask=None):\n"
            "        return self.body(x, training=training)\n",
            "import tensorflow as tf\n\nclass Net(tf.keras.Model):\n"
            "    def call(self, x, training: bool = None, mask=None):\n"
            "        return self.body(x, training=training)\n",
        ),
        Example(
            "import keras\n\nclass Gate(keras.layers.Layer):\n"
            "    def call(self, inputs, «training», mask):\n"
            "        return inputs\n",
            None,
        ),
        Example(
            "import keras\n\nclass Gate(keras.layers.Layer):\n"
            "    def call(self, inputs, *, «training»):\n"
            "        return inputs\n",
            "import keras\n\nclass Gate(keras.layers.Layer):\n"
            "    def call(self, inputs, *, training=None):\n"
            "        return inputs\n",
        ),
    )
    valid = (
        "import keras\n\nclass Noisy(keras.layers.Layer):\n"
        "    def call(self, inputs, training=None):\n        return inputs\n",
        "import keras\n\nclass Noisy(keras.layers.Layer):\n"
        "    def call(self, inputs, training=False):\n        return inputs\n",
        # Not Keras's call().
        "class Runner:\n    def call(self, inputs, training):\n        return inputs\n",
        "import keras\n\nclass Noisy(keras.layers.Layer):\n"
        "    def step(self, inputs, training):\n        return inputs\n",
        "import keras\n\nclass Noisy(keras.layers.Layer):\n"
        "    def call(self, inputs):\n        def inner(x, training):\n            return x\n"
        "        return inner(inputs, False)\n",
    )

    def visit(self, node: cst.FunctionDef, ctx: Context) -> None:
        if node.name.value != "call":
            return
        klass = ctx.klass
        if klass is None or class_methods(klass).get("call") is not node or not ctx.is_keras_class(klass):
            return
        params = node.params
        positional = [*params.posonly_params, *params.params]
        for index, param in enumerate(positional):
            if param.name.value == "training" and param.default is None:
                later = positional[index + 1:]
                fixable = all(p.default is not None for p in later)
                ctx.report(param.name, end=param.annotation, fix=_default_none(param) if fixable else None)
                return
        for param in params.kwonly_params:
            if param.name.value == "training" and param.default is None:
                ctx.report(param.name, end=param.annotation, fix=_default_none(param))
                return


def _default_none(param: cst.Param) -> FixSpec:
    if param.annotation is not None:
        return FixSpec.safe("Default `training` to None", Insert(param.annotation, " = None", after=True))
    return FixSpec.safe("Default `training` to None", Insert(param.name, "=None", after=True))
