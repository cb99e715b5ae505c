"""KER512: a custom `train_step` / `test_step` / `predict_step` that only repeats the default."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example, Rule
from ._common import block_indent, body_of
from ._default_step import STEP_TRAINING, step_repeats_default, step_resolver
from ._training_flag import layers_see_same_flag

# What the class derives from: the default step deleted, these classes' own step runs.
_MODEL_BASES = frozenset(
    {"Model", "models.Model", "engine.training.Model", "Sequential", "models.Sequential"}
)
# Methods the default step calls: when the class changes them, the default does something else
# than the custom step did.
_STEP_HOOKS = frozenset(
    {
        "compute_loss", "_compute_loss", "compute_metrics", "get_metrics_result", "metrics",
        "compiled_loss", "compiled_metrics", "__call__", "trainable_variables", "trainable_weights",
    }
)


# Steps for the rule's `valid` snippets, each changed a little so that it is no longer the default.
_TAPE_STEP = """\
import tensorflow as tf
import keras
class M(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
"""
_TEST_STEP = """\
import keras
class M(keras.Model):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        return self.compute_metrics(x, y, y_pred, None)
"""


def _registers(ctx: Context, decorator: cst.BaseExpression) -> bool:
    """`@keras.saving.register_keras_serializable(...)`: it records the class and returns it."""
    callee = decorator.func if isinstance(decorator, cst.Call) else decorator
    api = ctx.keras_api(callee)
    return api is not None and api[0].rsplit(".", 1)[-1] == "register_keras_serializable"


def _defined_names(klass: cst.ClassDef) -> set[str]:
    """Names the class body defines: methods, properties and class attributes."""
    names: set[str] = set()
    for stmt in body_of(klass):
        if isinstance(stmt, (cst.FunctionDef, cst.ClassDef)):
            names.add(stmt.name.value)
        elif isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                targets = small.targets if isinstance(small, cst.Assign) else ()
                if isinstance(small, cst.AnnAssign):
                    targets = (small,)  # type: ignore[assignment]
                for target in targets:
                    if isinstance(target.target, cst.Name):
                        names.add(target.target.value)
        else:
            # Definitions under `if` / `try` at class level: too clever to reason about.
            names.add("?")
    return names


class DefaultStepOverride(Rule):
    """
    ## Why
    Keras 2 tutorials taught a custom `train_step` that does exactly what `fit()` does: unpack
    `x, y`, run `self(x, training=True)` under `tf.GradientTape`, take `compiled_loss`, apply
    the gradients, update `compiled_metrics` and return the metrics' results. Keras 3 does the
    same in its own default step on every backend (`keras/src/backend/*/trainer.py`), while the
    copied step works on TensorFlow alone: on JAX, Keras calls `train_step(self, state, data)`
    (`TypeError: train_step() takes 2 positional arguments but 3 were given`, KER501); the tape
    records nothing outside TensorFlow (KER502); and even on TensorFlow the
    `compiled_metrics` shim feeds the mean of the predictions to the `loss` tracker, so History
    shows it as the loss.

    The step counts as the default only when every statement is one of the default's spellings:
    `x, y = data`, `x, y, sample_weight = data` or `keras.utils.unpack_x_y_sample_weight(data)`
    (`data_adapter.` too, and the guides' `if len(data) == 3:`); `self(x, training=True)`
    (`False` in `test_step` / `predict_step`); `self.compiled_loss(y, y_pred[, sample_weight][,
    regularization_losses=self.losses])` or `self.compute_loss(...)`; `tape.gradient` over
    `self.trainable_variables` and `self.optimizer.apply_gradients(zip(...))` or `minimize`;
    `self.compiled_metrics.update_state`, `self.compute_metrics` or the Keras 3 guide's loop over
    `self.metrics`; and `return {m.name: m.result() for m in self.metrics}` or
    `self.get_metrics_result()`. A print, a clipped gradient, an extra loss, a custom tracker,
    another training flag, or a class that overrides `compute_loss`, `compute_metrics` or
    `metrics`, is not the default: no finding.

    ## Example
    ```python
    class Trainer(keras.Model):
        def train_step(self, data):
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = self.compiled_loss(y, y_pred)
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.compiled_metrics.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}
    ```

    ## Use instead
    Nothing: without the method, `fit()` runs Keras 3's own step, on every backend.

    ## Backends
    All: the copied step fails on JAX and PyTorch and logs a wrong loss on TensorFlow.

    ## Fix safety
    Unsafe: the fix deletes the method (a class left empty gets `pass`); an import only the step
    used is left to the import rules. Training does the same, the logs do not: the default step
    updates the `loss` tracker with the real loss (weighted by batch size), so History and the
    progress bar show it where the copied step showed the mean prediction or 0. Two more
    differences are on purpose: Keras 3's `compute_loss` adds `self.losses` (Keras 2's
    `compiled_loss` without `regularization_losses=` left them out), and the default scales the
    loss for a `LossScaleOptimizer` (mixed precision). When the model's `call` takes no
    `training` argument, the default calls `self(x)` and the layers inside get no training flag:
    the finding is then made only when no layer the model calls reads it (Dense, Conv, ...; not
    Dropout or BatchNormalization).

    ## References
    - `Trainer.train_step` in `keras/src/backend/{tensorflow,jax,torch}/trainer.py` (3.15.1).
    - keras.io "Customizing what happens in fit()" (the Keras 2 and Keras 3 versions).
    """

    code = "KER512"
    name = "default-step-override"
    message = "`{name}` only repeats Keras 3's default step, which runs on every backend: delete it"
    nodes = (cst.FunctionDef,)
    fix = "unsafe"
    examples = (
        Example(
            "import tensorflow as tf\n"
            "from tensorflow import keras\n"
            "class Trainer(keras.Model):\n"
            "    def call(self, inputs, training=None):\n"
            "        return self.dense(inputs)\n"
            "\n"
            "    def «train_step»(self, data):\n"
            "        x, y = data\n"
            "        with tf.GradientTape() as tape:\n"
            "            y_pred = self(x, training=True)\n"
            "            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)\n"
            "        grads = tape.gradient(loss, self.trainable_variables)\n"
            "        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))\n"
            "        self.compiled_metrics.update_state(y, y_pred)\n"
            "        return {m.name: m.result() for m in self.metrics}\n"
            "\n"
            "\n"
            "model = Trainer()\n",
            "import tensorflow as tf\n"
            "from tensorflow import keras\n"
            "class Trainer(keras.Model):\n"
            "    def call(self, inputs, training=None):\n"
            "        return self.dense(inputs)\n"
            "\n"
            "\n"
            "model = Trainer()\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class Regressor(keras.Model):\n"
            "    def «test_step»(self, data):\n"
            "        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)\n"
            "        y_pred = self(x, training=False)\n"
            "        loss = self.compute_loss(x, y, y_pred, sample_weight)\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(loss)\n"
            "            else:\n"
            "                metric.update_state(y, y_pred, sample_weight=sample_weight)\n"
            "        return self.get_metrics_result()\n",
            "import keras\n"
            "class Regressor(keras.Model):\n"
            "    pass\n",
            unsafe=True,
        ),
        Example(
            # Keras 2's steps after KER504's fix: the `loss` tracker updated as the default does.
            "import keras\n"
            "from keras import ops\n"
            "class Regressor(keras.Model):\n"
            "    def «test_step»(self, data):\n"
            "        x, y = data\n"
            "        y_pred = self(x, training=False)\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(self.compute_loss(y=y, y_pred=y_pred), sample_weight=ops.shape(y)[0])\n"
            "        self.compute_metrics(x=None, y=y, y_pred=y_pred)\n"
            "        return {m.name: m.result() for m in self.metrics}\n",
            "import keras\n"
            "from keras import ops\n"
            "class Regressor(keras.Model):\n"
            "    pass\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "from keras.engine import data_adapter\n"
            "class Net(tf.keras.Sequential):\n"
            '    """A network."""\n'
            "    def «predict_step»(self, data):\n"
            "        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)\n"
            "        return self(x, training=False)\n"
            "\n"
            "    def «train_step»(self, data):\n"
            "        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)\n"
            "        with tf.GradientTape() as tape:\n"
            "            y_pred = self(x, training=True)\n"
            "            loss = self.compute_loss(x, y, y_pred, sample_weight)\n"
            "        self._validate_target_and_loss(y, loss)\n"
            "        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)\n"
            "        return self.compute_metrics(x, y, y_pred, sample_weight)\n",
            "import tensorflow as tf\n"
            "from keras.engine import data_adapter\n"
            "class Net(tf.keras.Sequential):\n"
            '    """A network."""\n',
            unsafe=True,
        ),
    )
    valid = (
        # Extra work: a clipped gradient, an extra loss, a custom tracker, a print.
        _TAPE_STEP.replace("        self.optimizer", "        grads = [tf.clip_by_norm(g, 1.0) for g in grads]\n"
                           "        self.optimizer"),
        _TAPE_STEP.replace("self.compiled_loss(y, y_pred)", "self.compiled_loss(y, y_pred) + tf.reduce_sum(y_pred)"),
        _TEST_STEP.replace("        return", "        self.loss_tracker.update_state(loss)\n        return"),
        _TEST_STEP.replace("        return", "        print(y_pred)\n        return"),
        # Another training flag; sample weights unpacked but not used.
        _TEST_STEP.replace("training=False", "training=True"),
        _TEST_STEP.replace("x, y = data", "x, y, sw = data"),
        # The class changes what the default step calls, or derives from another custom model.
        _TEST_STEP.replace(
            "    def test_step",
            "    def compute_loss(self, x, y, y_pred, sample_weight=None):\n"
            "        return 2.0 * super().compute_loss(x, y, y_pred, sample_weight)\n\n    def test_step",
        ),
        _TEST_STEP.replace("class M(keras.Model):", "class Base(keras.Model):\n    pass\n\n\nclass M(Base):"),
        # `call` takes no `training`: Keras 3's step would run the Dropout as in inference.
        _TAPE_STEP.replace(
            "    def train_step",
            "    def __init__(self):\n        super().__init__()\n        self.drop = keras.layers.Dropout(0.5)\n\n"
            "    def call(self, inputs):\n        return self.drop(inputs)\n\n    def train_step",
        ),
        # Not a Keras class, and a JAX step.
        _TEST_STEP.replace("class M(keras.Model):", "class Loop:"),
        "import keras\nclass M(keras.Model):\n    def predict_step(self, state, data):\n"
        "        return self(data, training=False)\n",
    )

    def visit(self, node: cst.FunctionDef, ctx: Context) -> None:
        step = node.name.value
        if step not in STEP_TRAINING:
            return
        klass = ctx.klass
        if klass is None:
            return
        body = body_of(klass)
        if not any(stmt is node for stmt in body) or not self._plain_model(ctx, klass):
            return
        if not step_repeats_default(node, step_resolver(ctx, node)):
            return
        if not layers_see_same_flag(ctx, klass):
            return
        ctx.report(node.name, self.message.format(name=step), fix=self._delete(ctx, klass, node))

    @staticmethod
    def _plain_model(ctx: Context, klass: cst.ClassDef) -> bool:
        """A direct subclass of `keras.Model` / `Sequential` that leaves the step's hooks alone:
        without the method, Keras's own default step runs."""
        if len(klass.bases) != 1 or klass.keywords:
            return False
        if not all(_registers(ctx, decorator.decorator) for decorator in klass.decorators):
            return False
        api = ctx.keras_api(klass.bases[0].value)
        if api is None or api[0] not in _MODEL_BASES:
            return False
        return not (_defined_names(klass) & (_STEP_HOOKS | {"?"}))

    @staticmethod
    def _delete(ctx: Context, klass: cst.ClassDef, node: cst.FunctionDef) -> FixSpec:
        body = body_of(klass)
        deleted = [
            stmt
            for stmt in body
            if isinstance(stmt, cst.FunctionDef)
            and stmt.name.value in STEP_TRAINING
            and step_repeats_default(stmt, step_resolver(ctx, stmt))
        ]
        title = f"Delete `{node.name.value}`: Keras 3's default step does the same"
        if len(deleted) < len(body) or node is not deleted[0]:
            return FixSpec.unsafe(title, Replace(node, ""))
        # Every statement of the class goes: the first one becomes `pass`.
        indent = block_indent(ctx, klass.body)
        return FixSpec.unsafe(title, Replace(node, f"{indent}pass\n"))
