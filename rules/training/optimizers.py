"""KER520, KER521: the Keras 2 optimizer API at run time and in subclasses."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.provenance import OPTIMIZER, class_kind
from ..engine.rule import Example, Rule
from ._common import body_of, is_optimizer

# Attribute -> what to do instead, for the Keras 2 optimizer API Keras 3 optimizers lack.
_MISSING = {
    "lr": "use `learning_rate`",
    "weights": "read `optimizer.variables`",
    "get_weights": "read `optimizer.variables` (`set_weights()` still exists)",
    "get_updates": "override `update_step(gradient, variable, learning_rate)` instead",
    "get_gradients": "compute gradients with the backend, or override `apply(grads, trainable_variables)`",
    "minimize": "compute the gradients yourself and call `optimizer.apply(grads, variables)`",
    "_create_slots": "create slot variables in `build(var_list)` with `add_variable_from_reference`",
    "add_slot": "create slot variables in `build(var_list)` with `add_variable_from_reference`",
    "get_slot": "keep the variables `build(var_list)` creates as attributes",
    "variables": "`variables` is a list property: drop the call",
}

# Keras 2 hooks a Keras 3 optimizer never calls.
_DEAD_HOOKS = {
    "get_gradients": "`apply(self, grads, trainable_variables=None)`",
    "get_updates": "`update_step(self, gradient, variable, learning_rate)`",
    "_resource_apply_dense": "`update_step(self, gradient, variable, learning_rate)`",
    "_resource_apply_sparse": "`update_step(self, gradient, variable, learning_rate)`",
    "_create_slots": "`build(self, var_list)`",
}


def _is_optimizer_class(ctx: Context, klass: cst.ClassDef | None) -> bool:
    """A subclass of a Keras optimizer, also through project classes of other modules."""
    return klass is not None and class_kind(ctx, klass).kind == OPTIMIZER


class OptimizerAttributes(Rule):
    """
    ## Why
    Keras 3 optimizers are a new class. Of the Keras 2 (`OptimizerV2`) API they lack `lr`,
    `weights`, `get_weights()`, `get_updates()`, `get_gradients()`, `minimize()`,
    `_create_slots()`, `add_slot()` and `get_slot()` (`AttributeError: 'Adam' object has no
    attribute 'lr'`). Worse, `model.optimizer.lr = 0.0` raises nothing: it sets a new, unused
    attribute and training goes on with the old learning rate. `variables` is a list property,
    so `optimizer.variables()` raises `TypeError: 'list' object is not callable`.

    ## Example
    ```python
    old = K.get_value(model.optimizer.lr)
    slots = self.optimizer.variables()
    ```

    ## Use instead
    ```python
    old = float(model.optimizer.learning_rate)
    slots = self.optimizer.variables
    ```

    ## Backends
    All.

    ## Fix safety
    Safe for `.lr` -> `.learning_rate` and `.variables()` -> `.variables`, and only when the code
    shows the receiver is an optimizer (`self.optimizer`, `model.optimizer`, a value built by
    `keras.optimizers.X(...)`, or `self` in an optimizer subclass). The other attributes have no
    one-to-one replacement: the message says what to use.

    ## References
    - Catalogue K3-OPT-004.
    """

    code = "KER520"
    name = "optimizer-attributes"
    message = "Keras 3 optimizers have no `{attr}`: {advice}"
    nodes = (cst.Attribute,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import tensorflow as tf\nK = tf.keras.backend\nold = K.get_value(model.optimizer.«lr»)\n",
            "import tensorflow as tf\nK = tf.keras.backend\nold = K.get_value(model.optimizer.learning_rate)\n",
        ),
        Example(
            "import keras\nopt = keras.optimizers.Adam(1e-3)\nopt.«lr» = 1e-4\nprint(opt.«get_weights»())\n",
            "import keras\nopt = keras.optimizers.Adam(1e-3)\nopt.learning_rate = 1e-4\nprint(opt.get_weights())\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def slots(self):\n"
            "        return self.optimizer.«variables()»\n",
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def slots(self):\n"
            "        return self.optimizer.variables\n",
        ),
        Example(
            "from keras.optimizers import SGD\n"
            "class MySGD(SGD):\n"
            "    def step(self, loss, var_list):\n"
            "        return self.«minimize»(loss, var_list)\n",
        ),
    )
    valid = (
        "import keras\ndef f(keras):\n    opt = keras.optimizers.Adam()\n    return opt.lr\n",
        "import keras\nopt = keras.optimizers.Adam(learning_rate=1e-3)\nprint(opt.learning_rate, opt.variables)\n",
        "import keras\ndef f(scheduler):\n    return scheduler.lr\n",
        "import keras\nopt.set_weights(weights)\n",
        "import keras\nresult = scipy.optimize.minimize(f, x0)\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset(_MISSING.keys())

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        attr = node.attr.value
        advice = _MISSING.get(attr)
        if advice is None:
            return
        receiver = node.value
        if not is_optimizer(ctx, receiver) and not (
            isinstance(receiver, cst.Name) and receiver.value == "self" and _is_optimizer_class(ctx, ctx.klass)
        ):
            return
        parent = ctx.parents[-1] if ctx.parents else None
        called = isinstance(parent, cst.Call) and parent.func is node
        message = self.message.format(attr=f"{attr}()" if attr == "variables" else attr, advice=advice)
        if attr == "lr":
            fix = FixSpec.safe("Use `learning_rate`", Replace(node.attr, "learning_rate"))
            ctx.report(node.attr, message, fix=fix)
        elif attr == "variables":
            if called and not parent.args:  # type: ignore[union-attr]
                fix = FixSpec.safe("Read the `variables` property", Replace(node.attr, "variables", end=parent))
                ctx.report(node.attr, message, fix=fix, end=parent)
        else:
            ctx.report(node.attr, message)


class DeadOptimizerHooks(Rule):
    """
    ## Why
    Keras 2 optimizers called `get_gradients`, `get_updates`, `_resource_apply_dense`,
    `_resource_apply_sparse` and `_create_slots`; Keras 3 optimizers never do. A subclass that
    overrides them runs without error and behaves exactly like its parent: gradient
    centralization, clipping or custom updates written there are silently skipped.

    ## Example
    ```python
    class GCRMSprop(keras.optimizers.RMSprop):
        def get_gradients(self, loss, params):
            ...  # gradient centralization
    ```

    ## Use instead
    Override `apply(self, grads, trainable_variables=None)` to transform the gradients (then call
    `super().apply(...)`), or `build(var_list)` and `update_step(gradient, variable,
    learning_rate)` for a new update rule.

    ## Backends
    All.

    ## Fix safety
    No fix: the override must be rewritten for the new hooks.

    ## References
    - Catalogue K3-OPT-005; keras-io `examples/vision/gradient_centralization.py`.
    """

    code = "KER521"
    name = "dead-optimizer-hook"
    message = "Keras 3 optimizers never call `{hook}`: this override is dead code, override {instead}"
    nodes = (cst.FunctionDef,)
    examples = (
        Example(
            "from tensorflow.keras.optimizers import RMSprop\n"
            "class GCRMSprop(RMSprop):\n"
            "    def «get_gradients»(self, loss, params):\n"
            "        return super().get_gradients(loss, params)\n"
        ),
        Example(
            "import keras\n"
            "class MyOpt(keras.optimizers.Optimizer):\n"
            "    def «_resource_apply_dense»(self, grad, var, apply_state=None):\n"
            "        pass\n"
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class O(keras.optimizers.SGD):\n        def get_gradients(self, loss, params):\n            pass\n    return O\n",
        "import keras\nclass Helper:\n    def get_gradients(self, loss, params):\n        pass\n",
        "import keras\nclass MyOpt(keras.optimizers.Optimizer):\n    def update_step(self, g, v, lr):\n        pass\n",
    )

    def visit(self, node: cst.FunctionDef, ctx: Context) -> None:
        instead = _DEAD_HOOKS.get(node.name.value)
        if instead is None:
            return
        klass = ctx.klass
        if klass is None or not any(stmt is node for stmt in body_of(klass)):
            return
        if _is_optimizer_class(ctx, klass):
            ctx.report(node.name, self.message.format(hook=node.name.value, instead=instead))
