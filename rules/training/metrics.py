"""KER504, KER507, KER508, KER517, KER518: the Keras 2 loss and metric APIs of a model."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, call_keyword, has_star_args, positional_args, string_value
from ..engine.edits import FixSpec, Insert, Replace, remove_arg
from ..engine.names import dotted_name
from ..engine.provenance import assigned_value
from ..engine.rule import Example, Rule
from ._common import block_indent, insert_after_statement, is_metric, is_self_attribute, may_be_model
from ._loss_logs import tracker_update, tracker_update_parts, updates_loss_tracker
from .steps import is_stateless_step, step_method

# Keras 2 `compiled_loss(y_true, y_pred, sample_weight)` -> `compute_loss` keywords.
_LOSS_KEYWORDS = {"y_true": "y", "y_pred": "y_pred", "sample_weight": "sample_weight"}
_LOSS_POSITIONS = ("y", "y_pred", "sample_weight")


class CompiledLossAndMetrics(Rule):
    """
    ## Why
    Keras 2 custom steps used `self.compiled_loss(y, y_pred, regularization_losses=self.losses)`
    and `self.compiled_metrics.update_state(y, y_pred)`. Keras 3 has neither on JAX and PyTorch
    (`AttributeError`); on TensorFlow they are deprecated shims (`model.compiled_loss() is
    deprecated. Instead, use model.compute_loss(x, y, y_pred, sample_weight, training)`).

    ## Example
    ```python
    loss = self.compiled_loss(y, y_pred)
    self.compiled_metrics.update_state(y, y_pred)
    ```

    ## Use instead
    ```python
    loss = self.compute_loss(y=y, y_pred=y_pred)
    for metric in self.metrics:
        if metric.name == "loss":
            metric.update_state(loss, sample_weight=keras.ops.shape(y)[0])
    self.compute_metrics(x=None, y=y, y_pred=y_pred)
    ```
    `compute_loss` already adds `self.losses`, so `regularization_losses=` goes away. In a
    `train_step`/`test_step`, Keras 2's `compiled_loss` also updated the `loss` tracker (weighted
    by the batch size) and `compute_loss` does not: the fix adds that update (the Keras 3
    guide's loop), or History's `loss` would be 0.0 while the model trains.

    ## Backends
    All (missing on JAX and PyTorch, deprecated on TensorFlow).

    ## Fix safety
    Safe for the plain `compiled_loss(y, y_pred[, sample_weight])` outside a step:
    `compute_loss` computes the same compiled loss. In a `train_step`/`test_step` it is unsafe:
    the tracker gets the same update as in Keras 2, weighted by the first dimension of `y`,
    which assumes the targets are one array (not a dict or list of them). No update is added
    when the step updates a tracker named "loss" itself, nor in a JAX step (whose tracker is
    updated statelessly, which this fix does not write). A step whose `compiled_loss(...)`
    result is neither assigned to a name nor a statement of its own gets no fix. Dropping
    `regularization_losses=self.losses` is unsafe (it assumes those are exactly the losses
    `compute_loss` adds); any other `regularization_losses` has no fix.
    `compiled_metrics.update_state(...)` -> `compute_metrics(...)` is unsafe: it also computes
    the results, and the TensorFlow shim updated every metric, including the loss tracker (with
    `y_pred`: the shim logs the mean prediction as `loss`).

    ## References
    - Catalogue K3-TRN-004; `keras/src/backend/tensorflow/trainer.py` compatibility shims and
      `train_step` (`_loss_tracker.update_state(loss, sample_weight=batch_size)`), Keras 3.15.1.
    """

    code = "KER504"
    name = "compiled-loss-and-metrics"
    message = "`self.{attr}` is gone in Keras 3 (JAX, PyTorch) and deprecated on TensorFlow: use `self.{new}`"
    nodes = (cst.Attribute,)
    fix = "mixed"
    deprecated = True
    examples = (
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        loss = «self.compiled_loss»(y, self(x))\n",
            "import tensorflow as tf\n"
            "import keras\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(y=y, y_pred=self(x))\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(loss, sample_weight=keras.ops.shape(y)[0])\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y, sw = data\n"
            "        loss = «self.compiled_loss»(y, y_pred, sw, regularization_losses=self.losses)\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y, sw = data\n"
            "        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sw)\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(loss, sample_weight=keras.ops.shape(y)[0])\n",
            unsafe=True,
        ),
        Example(
            "from keras import Model, ops\n"
            "class M(Model):\n"
            "    def test_step(self, data):\n"
            "        x, y = data\n"
            "        y_pred = self(x, training=False)\n"
            "        «self.compiled_loss»(y_true=y, y_pred=y_pred)\n"
            "        return {m.name: m.result() for m in self.metrics}\n",
            "from keras import Model, ops\n"
            "class M(Model):\n"
            "    def test_step(self, data):\n"
            "        x, y = data\n"
            "        y_pred = self(x, training=False)\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(self.compute_loss(y=y, y_pred=y_pred), sample_weight=ops.shape(y)[0])\n"
            "        return {m.name: m.result() for m in self.metrics}\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def __init__(self, *args, **kwargs):\n"
            "        super().__init__(*args, **kwargs)\n"
            '        self.loss_tracker = keras.metrics.Mean(name="loss")\n'
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        loss = «self.compiled_loss»(y, self(x))\n"
            "        self.loss_tracker.update_state(loss)\n"
            "        return {\"loss\": self.loss_tracker.result()}\n"
            "    def loss_on(self, x, y):\n"
            "        return «self.compiled_loss»(y, self(x))\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def __init__(self, *args, **kwargs):\n"
            "        super().__init__(*args, **kwargs)\n"
            '        self.loss_tracker = keras.metrics.Mean(name="loss")\n'
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(y=y, y_pred=self(x))\n"
            "        self.loss_tracker.update_state(loss)\n"
            "        return {\"loss\": self.loss_tracker.result()}\n"
            "    def loss_on(self, x, y):\n"
            "        return self.compute_loss(y=y, y_pred=self(x))\n",
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        total = «self.compiled_loss»(y, self(x)) + self.extra\n"
            "        return {\"total\": total}\n",
            None,
        ),
        Example(
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, data):\n"
            "        «self.compiled_metrics».update_state(y, y_pred, sample_weight=w)\n",
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, data):\n"
            "        self.compute_metrics(x=None, y=y, y_pred=y_pred, sample_weight=w)\n",
            unsafe=True,
        ),
        Example(
            "from keras import Model\n"
            "class M(Model):\n"
            "    def train_step(self, data):\n"
            "        loss = «self.compiled_loss»(y_true=y, y_pred=p, regularization_losses=extra)\n"
            "        return {m.name: m.result() for m in «self.compiled_metrics».metrics}\n",
            None,
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class M(keras.Model):\n        def train_step(self, data):\n            return self.compiled_loss(data, data)\n    return M\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        return self.compute_loss(y=data, y_pred=data)\n",
        "import keras\nclass Trainer:\n    def step(self, y, p):\n        return self.compiled_loss(y, p)\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        return other.compiled_loss(data, data)\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"compiled_loss", "compiled_metrics"})

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        attr = node.attr.value
        if attr not in ("compiled_loss", "compiled_metrics") or not is_self_attribute(node):
            return
        klass = ctx.klass
        if klass is None or not ctx.is_keras_class(klass):
            return
        parents = ctx.parents
        parent = parents[-1] if parents else None
        if attr == "compiled_loss":
            message = self.message.format(attr=attr, new="compute_loss(y=..., y_pred=...)")
            fix = None
            if isinstance(parent, cst.Call) and parent.func is node:
                fix = self._loss_fix(node, parent, ctx)
            ctx.report(node, message, fix=fix)
            return
        message = self.message.format(attr=attr, new="compute_metrics(x, y, y_pred, sample_weight)")
        fix = None
        grandparent = parents[-2] if len(parents) > 1 else None
        if (
            isinstance(parent, cst.Attribute)
            and parent.attr.value == "update_state"
            and isinstance(grandparent, cst.Call)
            and grandparent.func is parent
        ):
            fix = self._metrics_fix(parent, grandparent)
        ctx.report(node, message, fix=fix)

    def _loss_fix(self, attribute: cst.Attribute, call: cst.Call, ctx: Context) -> FixSpec | None:
        if has_star_args(call):
            return None
        edits: list[Replace | Insert] = [Replace(attribute.attr, "compute_loss")]
        safe = True
        positional = 0
        y: cst.BaseExpression | None = None
        for arg in call.args:
            if arg.keyword is None:
                if positional >= len(_LOSS_POSITIONS):
                    return None
                edits.append(Insert(arg, f"{_LOSS_POSITIONS[positional]}="))
                if positional == 0:
                    y = arg.value
                positional += 1
                continue
            keyword = arg.keyword.value
            if keyword == "regularization_losses":
                if not is_self_attribute(arg.value, "losses"):
                    return None
                edits.append(remove_arg(call, arg))
                safe = False
            elif keyword in _LOSS_KEYWORDS:
                if keyword == "y_true":
                    y = arg.value
                if _LOSS_KEYWORDS[keyword] != keyword:
                    edits.append(Replace(arg.keyword, _LOSS_KEYWORDS[keyword]))
            else:
                return None
        tracker = self._tracker_edits(call, y, ctx)
        if tracker is None:
            return None
        inserts, imports = tracker
        # The tracker's weight is the first dimension of `y`: one array, not a dict or list of
        # targets, which the code does not show.
        safe = safe and not inserts
        return FixSpec.of(safe, "Use `self.compute_loss(y=..., y_pred=...)`", *edits, *inserts, imports=imports)

    @staticmethod
    def _tracker_edits(
        call: cst.Call, y: cst.BaseExpression | None, ctx: Context
    ) -> tuple[list[Insert], tuple[str, ...]] | None:
        """In a `train_step`/`test_step`, `compiled_loss` also updated the `loss` tracker, which
        `compute_loss` does not: without the update that the fix adds, History's `loss` is 0.0.
        No edits outside a step, in a JAX step (its metrics are updated statelessly) or when the
        step updates the tracker itself; None when the loss has no statement of its own."""
        function = step_method(ctx, frozenset({"train_step", "test_step"}))
        klass = ctx.klass
        if function is None or klass is None or ctx.function is not function or is_stateless_step(function):
            return [], ()
        if updates_loss_tracker(ctx, klass, function):
            return [], ()
        parents = ctx.parents
        if len(parents) < 4:
            return None
        # parents[-1] is the call itself (the attribute's parent).
        holder, line, block = parents[-2], parents[-3], parents[-4]
        if not isinstance(line, cst.SimpleStatementLine) or not isinstance(block, cst.IndentedBlock):
            return None
        weight, imports = None, ()
        shape = ctx.reference("keras.ops.shape") if y is not None else None
        if shape is not None and y is not None:
            weight = f"{shape[0]}({ctx.module.code_for_node(y)})[0]"
            imports = shape[1]
        indent = block_indent(ctx, block)
        step = ctx.module.default_indent
        if (
            isinstance(holder, cst.Assign)
            and holder.value is call
            and len(holder.targets) == 1
            and isinstance(holder.targets[0].target, cst.Name)
        ):
            loss = holder.targets[0].target.value
            return [insert_after_statement(line, tracker_update(loss, indent, step, weight), indent)], imports
        if isinstance(holder, cst.Expr) and holder.value is call and len(line.body) == 1:
            # The loss is computed for the tracker only: it becomes the tracker's update.
            before, after = tracker_update_parts(indent, step, weight)
            return [Insert(call, before), Insert(call, after, after=True)], imports
        return None

    def _metrics_fix(self, callee: cst.Attribute, call: cst.Call) -> FixSpec | None:
        if has_star_args(call):
            return None
        positional = [a for a in call.args if a.keyword is None]
        if len(positional) > 3 or any(
            a.keyword is not None and a.keyword.value not in ("y_true", "y_pred", "sample_weight")
            for a in call.args
        ):
            return None
        if not call.args:
            return None
        edits: list[Replace | Insert] = [Replace(callee, "self.compute_metrics")]
        # `compute_metrics` takes `x` first; the default implementation does not use it.
        names = ["x=None, y=", "y_pred=", "sample_weight="]
        if not positional:
            names[0] = "x=None, "
            positional = [call.args[0]]
        for arg, name in zip(positional, names):
            edits.append(Insert(arg, name))
        for arg in call.args:
            if arg.keyword is not None and arg.keyword.value == "y_true":
                edits.append(Replace(arg.keyword, "y"))
        return FixSpec.unsafe("Use `self.compute_metrics(...)`", *edits)


class MetricResetStates(Rule):
    """
    ## Why
    Keras 3 metrics have `reset_state()` only: `metric.reset_states()` raises
    `AttributeError: 'Mean' object has no attribute 'reset_states'`.

    ## Example
    ```python
    self.loss_tracker = keras.metrics.Mean(name="loss")
    ...
    self.loss_tracker.reset_states()
    ```

    ## Use instead
    ```python
    self.loss_tracker.reset_state()
    ```

    ## Backends
    All.

    ## Fix safety
    Safe, and reported only when the code shows the receiver is a metric: it was built by
    `keras.metrics.X(...)` in the same class, function or module, or it is the variable of a
    loop over `.metrics`. Recurrent layers still have `reset_states()` (a different API).

    ## References
    - Catalogue K3-TRN-007.
    """

    code = "KER507"
    name = "metric-reset-states"
    message = "Keras 3 metrics have no `reset_states()`: use `reset_state()`"
    nodes = (cst.Call,)
    fix = "safe"
    deprecated = True
    examples = (
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.tracker = tf.keras.metrics.Mean(name='loss')\n"
            "    def reset(self):\n"
            "        self.tracker.«reset_states»()\n",
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def __init__(self):\n"
            "        super().__init__()\n"
            "        self.tracker = tf.keras.metrics.Mean(name='loss')\n"
            "    def reset(self):\n"
            "        self.tracker.reset_state()\n",
        ),
        Example(
            "from keras import metrics\nacc = metrics.SparseCategoricalAccuracy()\nacc.«reset_states»()\n",
            "from keras import metrics\nacc = metrics.SparseCategoricalAccuracy()\nacc.reset_state()\n",
        ),
        Example(
            "from tensorflow import keras\n"
            "def on_epoch_end(model):\n"
            "    for m in model.metrics:\n"
            "        m.«reset_states»()\n",
            "from tensorflow import keras\n"
            "def on_epoch_end(model):\n"
            "    for m in model.metrics:\n"
            "        m.reset_state()\n",
        ),
    )
    valid = (
        "import keras\ndef f(keras):\n    acc = keras.metrics.Mean()\n    acc.reset_states()\n",
        "import keras\nlstm = keras.layers.LSTM(4, stateful=True)\nlstm.reset_states()\n",
        "import keras\ndef f(metric):\n    metric.reset_states()\n",
        "import keras\nacc = keras.metrics.Mean()\nacc.reset_state()\n",
        "import keras\nacc = MyCounter()\nacc.reset_states()\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"reset_states"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute) or func.attr.value != "reset_states" or node.args:
            return
        if not is_metric(ctx, func.value):
            return
        ctx.report(func.attr, fix=FixSpec.safe("Use `reset_state()`", Replace(func.attr, "reset_state")))


_DISPLAYS = (cst.List, cst.Tuple, cst.Dict)


def _display_size(expr: cst.BaseExpression | None) -> int:
    """The number of items of a list, tuple or dict display (0 for anything else)."""
    if isinstance(expr, (cst.List, cst.Tuple)):
        return sum(1 for element in expr.elements if not isinstance(element, cst.StarredElement))
    if isinstance(expr, cst.Dict):
        return sum(1 for element in expr.elements if isinstance(element, cst.DictElement))
    return 0


def _argument(call: cst.Call, index: int, keyword: str) -> cst.BaseExpression | None:
    arg = call_keyword(call, keyword)
    if arg is None:
        positional = positional_args(call)
        arg = positional[index] if len(positional) > index else None
    return arg.value if arg is not None else None


def _structure(ctx: Context, expr: cst.BaseExpression | None) -> cst.BaseExpression | None:
    """A display, or the display a name is assigned once."""
    if isinstance(expr, cst.Name):
        return assigned_value(ctx, expr)
    return expr


def _output_count(ctx: Context, evaluate: cst.Call) -> int:
    """How many outputs the evaluated model has, as the code shows it: the targets passed
    (`evaluate(x, [y1, y2])`), or the outputs of the functional model the receiver is assigned
    (`multi = keras.Model(a, [o1, o2])`); 0 when nothing shows it."""
    targets = _display_size(_structure(ctx, _argument(evaluate, 1, "y")))
    if targets:
        return targets
    receiver = evaluate.func.value  # type: ignore[attr-defined]
    built = assigned_value(ctx, receiver) if isinstance(receiver, cst.Name) else None
    if not isinstance(built, cst.Call) or not isinstance(built.func, (cst.Name, cst.Attribute)):
        return 0
    api = ctx.keras_api(built.func)
    if api is None or api[0] not in ("Model", "models.Model"):
        return 0
    return _display_size(_structure(ctx, _argument(built, 1, "outputs")))


def _no_return_dict(call: cst.Call) -> bool:
    arg = call_keyword(call, "return_dict")
    return arg is None or (isinstance(arg.value, cst.Name) and arg.value.value == "False")


class PerOutputLossLogs(Rule):
    """
    ## Why
    Keras 3.0 to 3.4 report only the total `loss` of a multi-output model: `evaluate()` and the
    `History` have no `output_1_loss` / `val_output_1_loss` entries, so reading them raises
    `KeyError`. Keras 3.5.0 restored the per-output losses (keras-team/keras#20023).
    `evaluate()` of a multi-output model returns a lone float there when `compile()` was given
    no metrics, so `loss, l1, l2 = multi.evaluate(x, [y1, y2])` raises "TypeError: cannot
    unpack non-iterable float object" (Keras 3.0.5), and with metrics it returns
    `[loss, *metrics]`, which the same unpacking mislabels (metric values taken for losses).
    The unpacking is reported when it takes at least one value per output besides the loss
    and the code shows the model's outputs: the targets passed as a list, tuple or dict, or the
    receiver assigned once a functional `keras.Model(inputs, [o1, o2])`.

    ## Example
    ```python
    history.history["output_1_loss"]
    loss, l1, l2 = multi.evaluate(x, [y1, y2])
    ```

    ## Use instead
    Require Keras >= 3.5, or add per-output metrics in `compile(metrics={...})` and read those
    (`multi.evaluate(x, [y1, y2], return_dict=True)` names every value it returns).

    ## Backends
    All.

    ## Fix safety
    No fix.

    ## References
    - Catalogue K3-TRN-008; keras-team/keras#20023.
    """

    code = "KER508"
    name = "per-output-loss-logs"
    message = "Keras before 3.5 logs no per-output losses: `{key}` is missing there (require keras>=3.5)"
    unpack_message = (
        "Keras before 3.5 returns no per-output losses from `evaluate()` of a multi-output model: "
        "unpacking {count} values fails (a lone loss) or mislabels metrics as losses; "
        "use `return_dict=True` or require keras>=3.5"
    )
    nodes = (cst.Subscript, cst.Assign)
    fixed_in = "3.5.0"
    examples = (
        Example("import keras\nplt.plot(history.history[«'output_1_loss'»])\n"),
        Example("import tensorflow as tf\nv = hist.history[«\"val_head_a_loss\"»][-1]\n"),
        Example(
            "import keras\nmulti = keras.Model(a, [o1, o2])\nmulti.compile('sgd', ['mse', 'mse'])\n"
            "«loss, l1, l2» = multi.evaluate(x, [y, y])\n"
        ),
        Example(
            "import tensorflow as tf\n\ndef score(model, x, labels, boxes):\n"
            "    results = model.evaluate(x, {'cls': labels, 'box': boxes}, verbose=0, return_dict=False)\n"
            "    «total, cls_loss, box_loss, *metrics» = results\n"
            "    return total, cls_loss, box_loss\n"
        ),
        Example(
            "import keras\nouts = [keras.layers.Dense(1)(h), keras.layers.Dense(1)(h)]\n"
            "net = keras.Model(inputs=a, outputs=outs)\n«[loss, first, second]» = net.evaluate(ds)\n"
        ),
    )
    valid = (
        "import keras\nplt.plot(history.history['loss'])\n",
        "import keras\nplt.plot(history.history['val_loss'])\n",
        "import keras\nrow = table['output_1_loss']\n",
        # One output: [loss, *metrics] in every Keras 3.
        "import keras\nmodel = keras.Model(a, out)\nmodel.compile('sgd', 'mse', metrics=['mae'])\n"
        "loss, mae = model.evaluate(x, y)\n",
        # Fewer names than the loss and one per output: nothing expects per-output losses.
        "import keras\nloss, acc = multi.evaluate(x, [y1, y2])\n",
        "import keras\nres = multi.evaluate(x, [y1, y2], return_dict=True)\nloss = res['loss']\n",
        "import keras\nloss, l1, l2 = multi.evaluate(x, y)\n",
        "import keras\nfrom sklearn.base import BaseEstimator\nest = BaseEstimator()\n"
        "a, b, c = est.evaluate(x, [y1, y2])\n",
    )

    def visit(self, node: cst.Subscript | cst.Assign, ctx: Context) -> None:
        if isinstance(node, cst.Assign):
            self._unpacked_evaluate(node, ctx)
            return
        value = node.value
        if not isinstance(value, cst.Attribute) or value.attr.value != "history":
            return
        if len(node.slice) != 1 or not isinstance(node.slice[0].slice, cst.Index):
            return
        index = node.slice[0].slice.value
        key = string_value(index)
        if key is None or not key.endswith("_loss") or key in ("val_loss",):
            return
        ctx.report(index, self.message.format(key=key))

    def _unpacked_evaluate(self, node: cst.Assign, ctx: Context) -> None:
        if len(node.targets) != 1:
            return
        target = node.targets[0].target
        if not isinstance(target, (cst.Tuple, cst.List)):
            return
        names = sum(1 for element in target.elements if not isinstance(element, cst.StarredElement))
        value = node.value
        if isinstance(value, cst.Name):
            value = assigned_value(ctx, value)  # `results = model.evaluate(...)`
        if not (
            isinstance(value, cst.Call)
            and isinstance(value.func, cst.Attribute)
            and value.func.attr.value == "evaluate"
            and _no_return_dict(value)
            and not has_star_args(value)
        ):
            return
        outputs = _output_count(ctx, value)
        if outputs < 2 or names < outputs + 1 or not may_be_model(ctx, value.func.value):
            return
        ctx.report(target, self.unpack_message.format(count=names))


class MetricsNames(Rule):
    """
    ## Why
    Keras 3 builds `model.metrics_names` from `model.metrics`: before training it holds only
    `['loss']`, and for multi-output models its order differs from tf.keras. Pairing it with the
    list `evaluate()` returns mislabels results.

    ## Example
    ```python
    results = dict(zip(model.metrics_names, model.evaluate(x, y)))
    ```

    ## Use instead
    ```python
    results = model.evaluate(x, y, return_dict=True)
    ```

    ## Backends
    All.

    ## Fix safety
    Unsafe, for `dict(zip(model.metrics_names, model.evaluate(...)))` only: the keys are
    Keras 3's metric names, which can differ from the Keras 2 ones. Other uses have no fix.

    ## References
    - Catalogue K3-TRN-017.
    """

    code = "KER517"
    name = "metrics-names"
    message = "`metrics_names` does not match `evaluate()`'s list in Keras 3: use `evaluate(..., return_dict=True)`"
    nodes = (cst.Attribute,)
    fix = "unsafe"
    examples = (
        Example(
            "import keras\nresults = dict(zip(«model.metrics_names», model.evaluate(x, y, verbose=0)))\n",
            "import keras\nresults = model.evaluate(x, y, verbose=0, return_dict=True)\n",
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\nscores = model.evaluate(x, y)\n"
            "for name, s in zip(«model.metrics_names», scores):\n    print(name, s)\n",
        ),
    )
    valid = (
        "import keras\nresults = model.evaluate(x, y, return_dict=True)\n",
        "import keras\nnames = [m.name for m in model.metrics]\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"metrics_names"})

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        if node.attr.value != "metrics_names":
            return
        ctx.report(node, fix=self._dict_fix(node, ctx))

    def _dict_fix(self, node: cst.Attribute, ctx: Context) -> FixSpec | None:
        parents = ctx.parents
        if len(parents) < 4:
            return None
        arg, zip_call, zip_arg, dict_call = parents[-1], parents[-2], parents[-3], parents[-4]
        if not (
            isinstance(arg, cst.Arg)
            and isinstance(zip_call, cst.Call)
            and isinstance(zip_call.func, cst.Name)
            and zip_call.func.value == "zip"
            and isinstance(zip_arg, cst.Arg)
            and isinstance(dict_call, cst.Call)
            and isinstance(dict_call.func, cst.Name)
            and dict_call.func.value == "dict"
            and len(dict_call.args) == 1
            and len(zip_call.args) == 2
            and zip_call.args[0] is arg
        ):
            return None
        if ctx.scopes.is_bound("zip") or ctx.scopes.is_bound("dict"):
            return None
        evaluate = zip_call.args[1].value
        if not (
            isinstance(evaluate, cst.Call)
            and isinstance(evaluate.func, cst.Attribute)
            and evaluate.func.attr.value == "evaluate"
            and dotted_name(evaluate.func.value) is not None
            and dotted_name(evaluate.func.value) == dotted_name(node.value)
            and call_keyword(evaluate, "return_dict") is None
        ):
            return None
        args = list(evaluate.args)
        if args and not isinstance(args[-1].comma, cst.Comma):
            args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=cst.SimpleWhitespace(" ")))
        args.append(cst.Arg(keyword=cst.Name("return_dict"), value=cst.Name("True"),
                            equal=cst.AssignEqual(cst.SimpleWhitespace(""), cst.SimpleWhitespace(""))))
        return FixSpec.unsafe("Use `evaluate(..., return_dict=True)`", Replace(dict_call, evaluate.with_changes(args=args)))


class ModelMetricsRecompiled(Rule):
    """
    ## Why
    In Keras 3 a compiled model's `metrics` holds its loss tracker (`Mean(name="loss")`) and
    a `CompileMetrics` container, whatever `compile()` was given; Keras 2 listed nothing
    before the first training or evaluation. Passing them back to `compile(metrics=...)`
    (to recompile with a new optimizer or loss) makes the loss tracker a metric of
    `(y_true, y_pred)`, and the first `fit` raises "TypeError: Mean.update_state() got
    multiple values for argument 'sample_weight'".

    ## Example
    ```python
    model.compile(optimizer=new_optimizer, loss=model.loss, metrics=model.metrics)
    kwargs = {"optimizer": model.optimizer, "loss": model.loss, "metrics": model.metrics}
    ```

    ## Use instead
    ```python
    model.compile(optimizer=new_optimizer, loss=model.loss, metrics=["accuracy"])
    ```
    Keep the metrics the model was first compiled with (Keras 3 does not give them back as a
    list: `model.metrics` and `model.metrics_names` describe the trackers).

    ## Backends
    All.

    ## Fix safety
    None: the original metrics must come from the code that first compiled the model.

    ## References
    - `keras/src/trainers/trainer.py` (`Trainer.metrics`: the loss tracker and
      `CompileMetrics`); checked on Keras 3.15.1. Catalogue K3-TRN-017 (`metrics_names`).
    """

    code = "KER518"
    name = "model-metrics-recompiled"
    message = "Keras 3 `model.metrics` holds the loss tracker and the compiled-metrics container: `compile(metrics=)` rejects them at `fit`"
    nodes = (cst.Attribute,)
    examples = (
        Example("import keras\nmodel.compile(optimizer='sgd', loss=model.loss, metrics=«model.metrics»)\n"),
        Example(
            "import tensorflow as tf\n"
            "def recompile(model, optimizer):\n"
            "    kwargs = {'optimizer': optimizer, 'loss': model.loss, 'metrics': «model.metrics»}\n"
            "    model.compile(**kwargs)\n"
        ),
        Example("import keras\noptions = dict(loss=net.loss, metrics=«net.metrics»)\n"),
    )
    valid = (
        "import keras\nmodel.compile(optimizer='sgd', loss='mse', metrics=['mae'])\n",
        "import keras\nnames = [m.name for m in model.metrics]\n",
        "import keras\nreport(metrics=model.metrics)\n",
        "import keras\nfrom sklearn.pipeline import Pipeline\n"
        "pipe = Pipeline([])\nsummary = {'metrics': pipe.metrics}\n",
        "import keras\nmodel.compile(optimizer='sgd', loss='mse', metrics=self.metrics)\n",
    )

    def attribute_names(self) -> frozenset[str]:
        """The attribute names `visit` acts on (see `engine.gates`)."""
        return frozenset({"metrics"})

    def visit(self, node: cst.Attribute, ctx: Context) -> None:
        if node.attr.value != "metrics" or not self._passed_as_metrics(node, ctx):
            return
        if isinstance(node.value, cst.Name) and node.value.value == "self":
            return  # a tuner's or trainer's own `self.metrics` list
        if not may_be_model(ctx, node.value):
            return
        ctx.report(node)

    @staticmethod
    def _passed_as_metrics(node: cst.Attribute, ctx: Context) -> bool:
        """`x.compile(metrics=<node>)`, `dict(metrics=<node>)` or `{"metrics": <node>}`."""
        parent = ctx.parents[-1] if ctx.parents else None
        if isinstance(parent, cst.DictElement):
            return parent.value is node and string_value(parent.key) == "metrics"
        if not isinstance(parent, cst.Arg) or parent.value is not node or parent.keyword is None:
            return False
        if parent.keyword.value != "metrics" or len(ctx.parents) < 2:
            return False
        call = ctx.parents[-2]
        if not isinstance(call, cst.Call):
            return False
        func = call.func
        if isinstance(func, cst.Attribute):
            return func.attr.value == "compile"
        return isinstance(func, cst.Name) and func.value == "dict" and not ctx.scopes.is_bound("dict")
