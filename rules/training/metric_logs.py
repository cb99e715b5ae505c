"""KER519: a custom step that returns every metric's result, Keras 3's never-updated `loss` tracker
among them."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, positional_params
from ..engine.edits import FixSpec, Replace
from ..engine.rule import Example, Rule
from ._loss_logs import logs_untracked_loss, metrics_comprehension
from .steps import step_method

_STEPS = frozenset({"train_step", "test_step"})
class ZeroLossInLogs(Rule):
    """
    ## Why
    Keras 3's `model.metrics` always starts with the `loss` tracker that `compile()` creates and
    only Keras' own steps (or `compute_loss` callers that update it) feed. Keras 2 listed a loss
    metric only once `compiled_loss` had run. A Keras 2 step that computes its losses itself and
    returns `{m.name: m.result() for m in self.metrics}` therefore gains a `loss` entry of 0.0 on
    Keras 3: History shows `loss: 0.0000`, and `evaluate()`'s list starts with a 0.0, so code that
    unpacks it (`acc, student_loss = model.evaluate(...)`) silently reads the wrong numbers.

    ## Example
    ```python
    def test_step(self, data):
        x, y = data
        y_pred = self.student(x, training=False)
        self.compiled_metrics.update_state(y, y_pred)
        results = {m.name: m.result() for m in self.metrics}
        results.update({"student_loss": self.student_loss_fn(y, y_pred)})
        return results
    ```

    ## Use instead
    ```python
        results = {m.name: m.result() for m in self.metrics if m.name != "loss"}
    ```

    ## Backends
    All. Checked on Keras 3.15.1 (the knowledge-distillation program of the migration corpus).

    ## Fix safety
    Unsafe: the logs lose the `loss` entry, as Keras 2's had none; code that reads
    `logs["loss"]` from this step would now fail instead of reading 0.0. Not reported where the
    step writes a `"loss"` entry itself or calls `compute_loss`/`compiled_loss` (KER504 and
    KER505 are about those steps), nor in a JAX step.

    ## References
    - Keras 3.15.1 `keras/src/trainers/trainer.py` (`Trainer.metrics`); keras.io "Knowledge
      Distillation" (Keras 2 version).
    """

    code = "KER519"
    name = "zero-loss-in-logs"
    message = (
        "These logs include Keras 3's `loss` tracker, which this step never updates: History shows"
        " `loss: 0.0` and `evaluate()`'s list gains a leading 0.0"
    )
    nodes = (cst.DictComp,)
    fix = "unsafe"
    examples = (
        Example(
            "from tensorflow import keras\n\n"
            "class Distiller(keras.Model):\n"
            "    def test_step(self, data):\n"
            "        x, y = data\n"
            "        y_pred = self.student(x, training=False)\n"
            "        self.compiled_metrics.update_state(y, y_pred)\n"
            "        results = «{m.name: m.result() for m in self.metrics}»\n"
            "        results.update({\"student_loss\": self.student_loss_fn(y, y_pred)})\n"
            "        return results\n",
            "from tensorflow import keras\n\n"
            "class Distiller(keras.Model):\n"
            "    def test_step(self, data):\n"
            "        x, y = data\n"
            "        y_pred = self.student(x, training=False)\n"
            "        self.compiled_metrics.update_state(y, y_pred)\n"
            "        results = {m.name: m.result() for m in self.metrics if m.name != \"loss\"}\n"
            "        results.update({\"student_loss\": self.student_loss_fn(y, y_pred)})\n"
            "        return results\n",
            unsafe=True,
        ),
        Example(
            "import keras\n\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        self.tracker.update_state(self.step(data))\n"
            "        return «{metric.name: metric.result() for metric in self.metrics if metric.name != \"total\"}»\n",
            "import keras\n\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        self.tracker.update_state(self.step(data))\n"
            "        return {metric.name: metric.result() for metric in self.metrics if metric.name != \"total\" and metric.name != \"loss\"}\n",
            unsafe=True,
        ),
    )
    valid = (
        # The step writes its own `loss` entry over the tracker's.
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        results = {m.name: m.result() for m in self.metrics}\n"
        "        results.update({'loss': self.step(data)})\n        return results\n",
        # The Keras 3 guide's step: compute_loss, then the loop that updates the tracker.
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        loss = self.compute_loss(y=data, y_pred=self(data))\n"
        "        for metric in self.metrics:\n            if metric.name == 'loss':\n"
        "                metric.update_state(loss)\n"
        "        return {m.name: m.result() for m in self.metrics}\n",
        # A JAX step.
        "import keras\nclass M(keras.Model):\n    def test_step(self, state, data):\n"
        "        return {m.name: m.result() for m in self.metrics}, state\n",
        # Not a step.
        "import keras\nclass M(keras.Model):\n    def report(self):\n"
        "        return {m.name: m.result() for m in self.metrics}\n",
        # The class lists its own metrics.
        "import keras\nclass M(keras.Model):\n    @property\n    def metrics(self):\n        return [self.acc]\n"
        "    def test_step(self, data):\n        return {m.name: m.result() for m in self.metrics}\n",
    )

    def visit(self, node: cst.DictComp, ctx: Context) -> None:
        loop_name = metrics_comprehension(node)
        if loop_name is None:
            return
        step = step_method(ctx, _STEPS)
        klass = ctx.klass
        if step is None or klass is None or len(positional_params(step)) != 2:
            return
        if not logs_untracked_loss(ctx, klass, step, node):
            return
        kept = f'{loop_name}.name != "loss"'
        condition = node.for_in.ifs
        if condition:
            last = condition[-1]
            edit = Replace(last.test, f"{ctx.module.code_for_node(last.test)} and {kept}")
        else:
            edit = Replace(node.for_in.iter, f"{ctx.module.code_for_node(node.for_in.iter)} if {kept}")
        ctx.report(node, fix=FixSpec.unsafe("Leave the `loss` tracker out of the logs", edit))
