"""KER418: a `training` parameter of `call()` without a default."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, class_methods
from ..engine.edits import FixSpec, Insert
from ..engine.names import dotted_name
from ..engine.rule import Example, Rule
from ..engine.walker import code_children


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

    Not reported when this file calls the class's instances and every call gives `training=`.

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
        # Every call in the file gives it.
        "import keras\n\nclass Pick(keras.layers.Layer):\n"
        "    def call(self, inputs, other, training):\n        return inputs if training else other\n\n"
        "out = Pick()(a, b, training=is_training)\npick = Pick()\nsame = pick(a, b, training=False)\n",
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
        found = None
        for index, param in enumerate(positional):
            if param.name.value == "training" and param.default is None:
                fixable = all(p.default is not None for p in positional[index + 1:])
                found = (param, fixable)
                break
        for param in params.kwonly_params:
            if found is None and param.name.value == "training" and param.default is None:
                found = (param, True)
        if found is None or _always_given_training(klass.name.value, ctx.module):
            return
        param, fixable = found
        ctx.report(param.name, end=param.annotation, fix=_default_none(param) if fixable else None)


def _always_given_training(name: str, module: cst.Module) -> bool:
    """Whether this file calls the class's instances, and every such call gives `training=`:
    `Block()(x, training=t)`, or `block = Block()` / `self.block = Block()` then
    `block(x, training=t)`. A class called elsewhere (another module, `fit()` on a model) is
    not known to be given it."""
    instances: set[str] = set()
    calls: list[cst.Call] = []
    todo: list[cst.CSTNode] = [module]
    while todo:
        node = todo.pop()
        if isinstance(node, cst.Assign) and _constructs(node.value, name):
            instances.update(dotted_name(t.target) or "" for t in node.targets)
        elif isinstance(node, cst.Call):
            calls.append(node)
        todo.extend(code_children(node))
    instances.discard("")
    used = [
        call for call in calls
        if _constructs(call.func, name) or (dotted_name(call.func) or "") in instances
    ]
    return bool(used) and all(call_keyword(call, "training") is not None for call in used)


def _constructs(expr: cst.BaseExpression, name: str) -> bool:
    return isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value == name


def _default_none(param: cst.Param) -> FixSpec:
    if param.annotation is not None:
        return FixSpec.safe("Default `training` to None", Insert(param.annotation, " = None", after=True))
    return FixSpec.safe("Default `training` to None", Insert(param.name, "=None", after=True))
