"""KER501, KER502, KER503, KER505, KER506: custom `train_step` / `test_step` methods."""

from __future__ import annotations

import libcst as cst

from ..engine.context import Context, class_methods, positional_params, string_value
from ..engine.edits import FixSpec, Insert, Replace
from ..engine.rule import Example, Rule
from ._common import (
    block_indent,
    body_of,
    insert_before_statement,
    insert_method,
    is_optimizer,
    local_values,
    statements,
)
from ._jax_logs import is_log_dict, jax_return, logs_fix
from ._loss_logs import tracker_update, updates_loss_tracker
from ._stateless_step import stateless_step_fix
from ._tapes import report_tape_step

_LOG_STEPS = frozenset({"train_step", "test_step"})
_JAX_TEMPLATE = """\
def train_step(self, state, data):
    trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
    x, y = data
    grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
    (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
        trainable_variables, non_trainable_variables, x, y, training=True
    )
    trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables
    )
    # ... metric.stateless_update_state(...) / metric.stateless_result(...) into `logs`
    return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)"""


def step_method(ctx: Context, names: frozenset[str]) -> cst.FunctionDef | None:
    """The enclosing method named in `names` of a Keras Layer/Model class (nested defs count)."""
    klass = ctx.klass
    if klass is None:
        return None
    body = body_of(klass)
    for function in ctx.functions:
        if function.name.value in names and any(stmt is function for stmt in body):
            return function if ctx.is_keras_class(klass) else None
    return None


def is_stateless_step(function: cst.FunctionDef) -> bool:
    """`train_step(self, state, data)`: the JAX signature."""
    return len(positional_params(function)) >= 3


def _backend_guarded(ctx: Context, backend: str) -> bool:
    """Whether an enclosing `if` compares something with the string `backend`
    (`if keras.backend.backend() == "tensorflow":`)."""
    for parent in ctx.parents:
        if isinstance(parent, cst.If) and isinstance(parent.test, cst.Comparison):
            test = parent.test
            for side in (test.left, *(c.comparator for c in test.comparisons)):
                if string_value(side) == backend:
                    return True
    return False


class StepSignatureUnderJax(Rule):
    """
    ## Why
    With the JAX backend, Keras calls `train_step(state, data)` / `test_step(state, data)` /
    `predict_step(state, data)`: JAX steps are pure functions that receive the model's variables
    and return the new ones. A Keras 2 style `def train_step(self, data):` fails at the first
    batch with `TypeError: MyModel.train_step() takes 2 positional arguments but 3 were given`.

    ## Example
    ```python
    class MyModel(keras.Model):
        def train_step(self, data):
            x, y = data
            ...
    ```

    ## Use instead
    A stateless step (trainable, non-trainable, optimizer and metric variables in and out):
    ```python
    def train_step(self, state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data
        (loss, (y_pred, non_trainable_variables)), grads = jax.value_and_grad(
            self.compute_loss_and_updates, has_aux=True
        )(trainable_variables, non_trainable_variables, x, y, training=True)
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        ...
        return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
    ```
    where `compute_loss_and_updates` calls `self.stateless_call(...)`. Often simpler and
    portable: override only `compute_loss()`, or dispatch on `keras.backend.backend()`. A step
    that only repeats Keras 3's default step can go: KER512 deletes it.

    ## Backends
    JAX only: TensorFlow and PyTorch call `train_step(data)`.

    ## Fix safety
    Unsafe, for `test_step` and `predict_step`: the fix writes the JAX step beside the one as
    written (kept for TensorFlow and PyTorch), chosen on `keras.backend.backend()`. It runs the
    same code inside `keras.StatelessScope` over the variables of `state`, and returns the
    metric and non-trainable variables it changed. Code that keeps Python state between steps
    (a counter in an attribute) sees it only while JAX traces the step. No fix for
    `train_step`: a `tf.GradientTape` step gets KER502's.

    ## References
    - Catalogue K3-TRN-001; keras.io guide "Customizing what happens in fit() with JAX".
    """

    code = "KER501"
    name = "train-step-signature-jax"
    message = "On JAX, Keras calls `{name}(self, state, data)`: this Keras 2 signature fails with a TypeError"
    nodes = (cst.FunctionDef,)
    backends = frozenset({"jax"})
    fix = "unsafe"
    examples = (
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def «train_step»(self, data):\n"
            "        x, y = data\n"
            "        return {}\n"
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def «test_step»(self, data):\n"
            "        return {}\n"
        ),
        Example(
            'import keras\n'
            '\n'
            '\n'
            'class Scorer(keras.Model):\n'
            '    def «test_step»(self, data):\n'
            '        x, y = data\n'
            '        y_pred = self(x, training=False)\n'
            '        self.mae.update_state(y, y_pred)\n'
            "        return {'mae': self.mae.result()}\n",
            'import keras\n'
            '\n'
            '\n'
            'class Scorer(keras.Model):\n'
            '    if keras.backend.backend() == "jax":\n'
            '        def test_step(self, state, data):\n'
            '            trainable_variables, non_trainable_variables, metrics_variables = state\n'
            "            # The step's code, run with the variables of `state`.\n"
            '            mapping = [\n'
            '                *zip(self.trainable_variables, trainable_variables),\n'
            '                *zip(self.non_trainable_variables, non_trainable_variables),\n'
            '                *zip(self.metrics_variables, metrics_variables),\n'
            '            ]\n'
            '            with keras.StatelessScope(state_mapping=mapping) as scope:\n'
            '                x, y = data\n'
            '                y_pred = self(x, training=False)\n'
            '                self.mae.update_state(y, y_pred)\n'
            "                logs = {'mae': self.mae.result()}\n"
            '            non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]\n'
            '            metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]\n'
            '            return logs, (trainable_variables, non_trainable_variables, metrics_variables)\n'
            '    else:\n'
            '        def test_step(self, data):\n'
            '            x, y = data\n'
            '            y_pred = self(x, training=False)\n'
            '            self.mae.update_state(y, y_pred)\n'
            "            return {'mae': self.mae.result()}\n",
            unsafe=True,
        ),
        Example(
            "from tensorflow.keras.models import Model as KModel\n"
            "class M(KModel):\n"
            "    def «train_step»(self, batch):\n"
            "        return {}\n"
        ),
        Example(
            "from tensorflow import keras\n"
            "class Base(keras.Model):\n"
            "    pass\n"
            "class M(Base):\n"
            "    def «predict_step»(self, batch):\n"
            "        return self(batch)\n"
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class M(keras.Model):\n        def train_step(self, data):\n            return {}\n    return M\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, state, data):\n        return {}, state\n",
        "import keras\nclass Trainer:\n    def train_step(self, data):\n        return {}\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, *args):\n        return {}\n",
        "import keras\ndef train_step(self, data):\n    return {}\n",
    )

    def visit(self, node: cst.FunctionDef, ctx: Context) -> None:
        name = node.name.value
        if name not in ("train_step", "test_step", "predict_step"):
            return
        params = node.params
        if len(positional_params(node)) != 2 or isinstance(params.star_arg, cst.Param):
            return
        klass = ctx.klass
        if klass is None or not any(stmt is node for stmt in body_of(klass)):
            return
        if not ctx.is_keras_class(klass):
            return
        fix, blocker = stateless_step_fix(ctx, node)
        message = self.message.format(name=name)
        ctx.report(
            node.name,
            message if blocker is None else f"{message}; no fix: {blocker}",
            fix=fix,
            note=f"A JAX step is stateless:\n```python\n{_JAX_TEMPLATE}\n```",
        )


class GradientTapeInTrainStep(Rule):
    """
    ## Why
    `tf.GradientTape` records TensorFlow operations only: with the JAX or PyTorch backend the
    model computes on JAX arrays or torch tensors, which no tape sees. The step fails before it
    gets there: on JAX, Keras calls `train_step(self, state, data)` (a `TypeError` for the
    Keras 2 signature, KER501), and with that signature `self(x)` inside the stateless step
    raises `TypeError: 'NoneType' object is not callable`. On PyTorch the step runs until
    `tape.gradient` is handed the torch loss: `TypeError: Cannot convert the argument
    `type_value`: tensor(...) to a TensorFlow DType`. Without TensorFlow installed the import
    fails.

    ## Example
    ```python
    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
    ```

    ## Use instead
    Keep the TensorFlow step under `if keras.backend.backend() == "tensorflow":` and add a JAX
    (`jax.value_and_grad` + `stateless_apply`) and a PyTorch (`loss.backward()`,
    `self.zero_grad()`) variant, or move the custom logic into `compute_loss()` and keep the
    built-in step.

    ## Backends
    JAX and PyTorch.

    ## Fix safety
    Unsafe. A `train_step` of the standard shape (one `with tf.GradientTape() as tape:` whose
    code computes the loss from forward passes of the model or its sub-models, one
    `tape.gradient(loss, self.trainable_variables)`, one
    `self.optimizer.apply_gradients(zip(...))`, then metric updates and `return <logs>`) is
    written once per backend, at class level under `if keras.backend.backend() == ...:` (only
    the `target-backends`' steps; for one backend, its step alone):
    - TensorFlow: the step as written, importing TensorFlow itself, so that the module's own
      TensorFlow import can go (KER107 still reports it);
    - JAX: `train_step(self, state, data)` runs the tape's code inside `keras.StatelessScope`
      over the variables of `state` (what `stateless_call` does, here for sub-models too),
      differentiated by `jax.value_and_grad`; `self.optimizer.stateless_apply` updates the
      variables, the metric updates and logs run in a second scope, and the step returns
      `(logs, state)` with the new metric variables;
    - PyTorch: `self.zero_grad()`, the tape's code, `loss.backward()`, and
      `self.optimizer.apply(...)` on the variables' gradients under `torch.no_grad()`.

    A metric updated under the tape (KER504's `loss` tracker) has its variables passed through
    the JAX step's differentiated function too. A distiller's shape is carried as well: layers
    called before the tape (the teacher's forward pass) run on JAX in a scope of their own over
    `state`; plain assignments between the tape and the gradient
    (`trainable_vars = self.student.trainable_variables`) are kept; a gradient over one
    sub-model's variables keeps only their gradients on JAX (Keras's optimizer skips variables
    without one, weight decay included, as the tape never gave the others one) and applies
    only their `.grad`s on PyTorch. The migration corpus's knowledge-distillation program gives
    Keras 2's numbers on all three backends after the fixes. Keras 2's `self.compiled_loss` /
    `self.compiled_metrics` are KER504's to rewrite first: the fix waits for it and copies its
    result.

    Checked by running (Keras 3.15.1): a VAE-like step (reconstruction and KL losses from an
    encoder's outputs, three trackers), a custom-loss step and the Keras 2 tutorial's
    `compiled_loss` step, fixed, give on TensorFlow, JAX and PyTorch the predictions of the
    original on TensorFlow and its History (for the tutorial's step, whose original logs a wrong
    `loss`, that of the fixed program on TensorFlow), within 1e-5. The code in the steps is
    copied, not translated: TensorFlow ops in it are the ops rules' (their fixes apply to each
    copy). Random ops in the loss draw other numbers on each backend.

    Steps beyond that shape get the fix of several tapes: two tapes and two optimizers (a GAN),
    tapes in a loop (a critic trained several times per step), a tape inside another's code or
    in a method the step calls that watches tensors (a gradient penalty), code between the
    gradient and the update (gradient clipping), a gradient over part of the variables. Each
    tape is rewritten where it stands, the rest of the step is kept:
    - TensorFlow: the step and the methods with tapes as written;
    - JAX: the whole step runs in one `keras.StatelessScope` over `state`, from which it reads
      the new `state`; each tape's code becomes a function that `jax.value_and_grad`
      differentiates (a method `tape_gradient` added to the class), in an inner scope where
      the watched variables take the function's argument or the watched tensors are its
      arguments; each optimizer's `apply_gradients` runs as written and records its updates in
      the scope. Optimizers other than `self.optimizer` reach `state` through `compile()`: the
      class's `compile()` override gives Keras one `keras.optimizers.MultiOptimizer` mapping
      each optimizer's variables to it, on JAX only (Keras 3.15 and later);
    - PyTorch: each tape's code as written, its gradient from `torch.autograd.grad` (with
      `create_graph` for a tape inside another's code), a watched tensor made to require a
      gradient, and each optimizer's update under `torch.no_grad()`.

    Checked by running (Keras 3.15.1): a GAN (two tapes, two optimizers) and a WGAN-GP (a critic
    loop, a gradient penalty's tape in a method the critic's tape calls), fixed, give on
    TensorFlow, JAX and PyTorch the History and predictions of the original on TensorFlow
    within 1e-5; the migration corpus's GAN and WGAN-GP run on JAX and PyTorch after the fixes.

    No fix, and the message names what blocks it, for: several optimizers without a
    `compile()` override that sets them (or one that passes Keras an optimizer already), the
    model's own optimizer beside others, a tape with options or used for more than its
    gradient, a tape not followed by its gradient, a gradient of an expression or of a name the
    tape's code does not assign, a tape over variables in a method the step calls, a tape in
    `test_step`, a name the written steps bind themselves, and a step that does not end with
    `return <logs>`. A step that only repeats Keras 3's default step is KER512's, which deletes
    it.

    ## References
    - Catalogue K3-TRN-002; keras.io examples converted as "TF backend only".
    """

    code = "KER502"
    name = "gradient-tape-in-train-step"
    message = "`tf.GradientTape` in a custom step works only with the TensorFlow backend"
    nodes = (cst.Call,)
    backends = frozenset({"jax", "torch"})
    fix = "unsafe"
    examples = (
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        with «tf.GradientTape()» as tape:\n"
            "            loss = self.compute_loss()\n"
            "        return {}\n"
        ),
        Example(
            "import keras\nfrom tensorflow import GradientTape as Tape\n"
            "class M(keras.Model):\n"
            "    def test_step(self, data):\n"
            "        with «Tape(persistent=True)» as tape:\n"
            "            pass\n"
            "        return {}\n"
        ),
        Example(
            "import keras\n"
            "import tensorflow as tf\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        x, y = data\n"
            "        with «tf.GradientTape()» as tape:\n"
            "            loss = self.compute_loss(x, y, self(x, training=True))\n"
            "        grads = tape.gradient(loss, self.trainable_variables)\n"
            "        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))\n"
            "        self.tracker.update_state(loss)\n"
            '        return {"loss": self.tracker.result()}\n',
            "import keras\n"
            "import tensorflow as tf\n"
            "class M(keras.Model):\n"
            '    if keras.backend.backend() == "tensorflow":\n'
            "        def train_step(self, data):\n"
            "            import tensorflow as tf\n"
            "            x, y = data\n"
            "            with tf.GradientTape() as tape:\n"
            "                loss = self.compute_loss(x, y, self(x, training=True))\n"
            "            grads = tape.gradient(loss, self.trainable_variables)\n"
            "            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))\n"
            "            self.tracker.update_state(loss)\n"
            '            return {"loss": self.tracker.result()}\n'
            '    elif keras.backend.backend() == "jax":\n'
            "        def train_step(self, state, data):\n"
            "            import jax\n"
            "\n"
            "            trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state\n"
            "            x, y = data\n"
            "\n"
            "            def loss_and_updates(trainable_variables, non_trainable_variables):\n"
            "                # The tape's code, run with the variables JAX differentiates.\n"
            "                mapping = [\n"
            "                    *zip(self.trainable_variables, trainable_variables),\n"
            "                    *zip(self.non_trainable_variables, non_trainable_variables),\n"
            "                ]\n"
            "                with keras.StatelessScope(state_mapping=mapping) as scope:\n"
            "                    loss = self.compute_loss(x, y, self(x, training=True))\n"
            "                non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]\n"
            "                return loss, non_trainable_variables\n"
            "\n"
            "            (loss, non_trainable_variables), grads = jax.value_and_grad(\n"
            "                loss_and_updates, has_aux=True\n"
            "            )(trainable_variables, non_trainable_variables)\n"
            "            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(\n"
            "                optimizer_variables, grads, trainable_variables\n"
            "            )\n"
            "            # The metric updates and the logs, on the updated variables.\n"
            "            mapping = [\n"
            "                *zip(self.trainable_variables, trainable_variables),\n"
            "                *zip(self.non_trainable_variables, non_trainable_variables),\n"
            "                *zip(self.optimizer.variables, optimizer_variables),\n"
            "                *zip(self.metrics_variables, metrics_variables),\n"
            "            ]\n"
            "            with keras.StatelessScope(state_mapping=mapping) as scope:\n"
            "                self.tracker.update_state(loss)\n"
            '                logs = {"loss": self.tracker.result()}\n'
            "            metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]\n"
            "            return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)\n"
            "    else:\n"
            "        def train_step(self, data):\n"
            "            import torch\n"
            "\n"
            "            x, y = data\n"
            "            self.zero_grad()\n"
            "            loss = self.compute_loss(x, y, self(x, training=True))\n"
            "            loss.backward()\n"
            "            variables = list(self.trainable_variables)\n"
            "            grads = [v.value.grad for v in variables]\n"
            "            with torch.no_grad():\n"
            "                self.optimizer.apply(grads, variables)\n"
            "            self.tracker.update_state(loss)\n"
            '            return {"loss": self.tracker.result()}\n',
            unsafe=True,
        ),
    )
    valid = (
        "import keras\nimport tensorflow as tf\n"
        "class M(keras.Model):\n"
        "    def train_step(self, data):\n"
        "        if keras.backend.backend() == \"tensorflow\":\n"
        "            with tf.GradientTape() as tape:\n"
        "                pass\n"
        "        return {}\n",
        "import tensorflow as tf\n"
        "def train(model, x):\n"
        "    with tf.GradientTape() as tape:\n"
        "        pass\n",
        "import keras\n"
        "class M(keras.Model):\n"
        "    def train_step(self, data, tf):\n"
        "        with tf.GradientTape() as tape:\n"
        "            pass\n",
    )

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset({"GradientTape"})

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, (cst.Attribute, cst.Name)) or not ctx.functions:
            return
        if ctx.qualname(func) != "tensorflow.GradientTape":
            return
        function = step_method(ctx, _LOG_STEPS)
        if function is None or _backend_guarded(ctx, "tensorflow"):
            return
        logs = _last_return(function)
        if logs is not None and _is_not_logs(ctx, logs, function):
            # Each backend's step would copy the wrong logs: KER503 makes them a dict first.
            code = " ".join(ctx.module.code_for_node(logs).split())
            shown = f"`{code}`" if len(code) <= 40 else "a value"
            blocker = f"the step returns {shown}, not a dict of logs (KER503's fix comes first)"
            ctx.report(node, f"{self.message}; no fix: {blocker}")
            return
        report_tape_step(ctx, node, function, self.message)


def _last_return(function: cst.FunctionDef) -> cst.BaseExpression | None:
    """The value of the `return` that ends `function`, if it ends with one."""
    body = body_of(function)
    last = body[-1] if body else None
    if isinstance(last, cst.SimpleStatementLine) and isinstance(last.body[-1], cst.Return):
        return last.body[-1].value
    return None


# ----- KER503: the logs a step returns -------------------------------------------------------

_TENSOR_METHODS = frozenset({"compute_loss", "result", "stateless_result", "reduce_mean", "mean", "sum"})
_TENSOR_MODULES = ("tensorflow.", "jax.", "numpy.")


def _is_tensor(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef, depth: int = 0) -> bool:
    """Whether `expr` is, by its shape, a tensor or number rather than a dict."""
    if isinstance(expr, (cst.BinaryOperation, cst.UnaryOperation, cst.Integer, cst.Float)):
        return True
    if isinstance(expr, cst.Call):
        func = expr.func
        if isinstance(func, cst.Attribute) and func.attr.value in _TENSOR_METHODS:
            return True
        qualified = ctx.qualname(func)
        if qualified and qualified.startswith(_TENSOR_MODULES):
            return True
        api = ctx.keras_api(func)
        return api is not None and api[0].startswith(("ops.", "losses."))
    if isinstance(expr, cst.Name) and depth < 2:
        value = local_values(ctx, function).get(expr.value)
        return value is not None and _is_tensor(ctx, value, function, depth + 1)
    return False


def _is_not_logs(ctx: Context, expr: cst.BaseExpression, function: cst.FunctionDef, depth: int = 0) -> bool:
    """Whether `expr` is, by its shape, not a dict of logs: a tensor, a list or a tuple."""
    if isinstance(expr, (cst.List, cst.Tuple, cst.ListComp)) or _is_tensor(ctx, expr, function):
        return True
    if isinstance(expr, cst.Call) and isinstance(expr.func, cst.Name) and expr.func.value in ("list", "tuple"):
        return not ctx.scopes.is_bound(expr.func.value)
    if isinstance(expr, cst.Name) and depth < 2:
        value = local_values(ctx, function).get(expr.value)
        return value is not None and _is_not_logs(ctx, value, function, depth + 1)
    return False


def _value_before(function: cst.FunctionDef, name: str, stop: cst.CSTNode) -> cst.BaseExpression | None:
    """The value last assigned to `name` in the statements before `stop`, in source order."""
    found = None
    for stmt in statements(body_of(function)):
        if stmt is stop:
            break
        if isinstance(stmt, cst.SimpleStatementLine):
            for small in stmt.body:
                if (
                    isinstance(small, cst.Assign)
                    and len(small.targets) == 1
                    and isinstance(small.targets[0].target, cst.Name)
                    and small.targets[0].target.value == name
                ):
                    found = small.value
    return found


def _has_return(function: cst.FunctionDef) -> bool:
    for stmt in statements(body_of(function)):
        if isinstance(stmt, cst.SimpleStatementLine) and any(isinstance(s, cst.Return) for s in stmt.body):
            return True
    return False


class StepMustReturnDict(Rule):
    """
    ## Why
    Keras 3 reads the logs a custom `train_step` / `test_step` returns with `logs.items()`.
    A bare tensor, a list or nothing fails after the step:
    `AttributeError: 'EagerTensor' object has no attribute 'items'` (TensorFlow),
    `'Tensor' object has no attribute 'items'` (PyTorch), `'ArrayImpl' object has no attribute
    'items'` (JAX, where the logs are the first item of the returned `(logs, state)` pair),
    `'NoneType' object has no attribute 'items'` when nothing is returned. A JAX step that
    returns `state, logs` (the wrong order) or the logs alone breaks the same way, and one whose
    logs are the last metric's result loses the loss: with `compile(metrics=["mae"])`,
    `evaluate()` returns `{"mae": ...}` and no `loss` (Keras 3.15.1).

    ## Example
    ```python
    def test_step(self, state, data):
        ...
        loss = self.compute_loss(x, y, y_pred)
        return loss, state
    ```

    ## Use instead
    A JAX step returns every metric's result, read from the metric variables of the state it
    returns (what Keras' own JAX step does), with the `loss` tracker updated:
    ```python
    def test_step(self, state, data):
        ...
        loss = self.compute_loss(x, y, y_pred)
        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:
            for metric in self.metrics:
                if metric.name == "loss":
                    metric.update_state(loss)
            logs = self.get_metrics_result()
        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])
    ```
    When the step already updates the metrics (`stateless_update_state`, the `loss` tracker
    included), only the reading is needed. Other backends: `{m.name: m.result() for m in
    self.metrics}`, or `{"loss": loss}` (see KER505).

    ## Backends
    All.

    ## Fix safety
    Unsafe. On JAX the fix returns `(logs, state)` with `logs` every metric's result
    (`get_metrics_result()`, or the step's `compute_metrics(...)`) read in a `StatelessScope`
    over the returned state's metric variables (its last item). When the step does not update
    the `loss` tracker, the fix updates it with the step's `compute_loss(...)` result (or the
    returned tensor) and returns the new metric variables; each batch counts once, where Keras'
    own step weights it by its size. When the step updates no metric at all and names `x, y =
    data` and `y_pred` (from `self.stateless_call`), the fix also updates the compiled metrics
    (`self.compute_metrics(x, y, y_pred)`, as Keras' own step does); otherwise metrics the step
    does not update show their reset value.
    A JAX step that neither updates the tracker nor computes a loss has no fix. Elsewhere,
    wrapping a tensor into `{"loss": ...}` changes what the progress bar and `History` show,
    and a `loss` key is replaced by the (possibly never updated) loss tracker, see KER505. A list
    of several values or a missing `return` has no fix.

    ## References
    - Catalogue K3-TRN-003; keras-team/keras#20104, #20848; `keras/src/backend/jax/trainer.py`
      (`_update_metrics_variables`), Keras 3.15.1; keras.io guide "Customizing what happens in
      fit() with JAX".
    """

    code = "KER503"
    name = "step-returns-non-dict"
    message = "`{name}` must return a dict of logs: Keras 3 calls `.items()` on what it returns"
    jax_message = (
        "A JAX `{name}` must return `(logs, state)` with `logs` a dict: return every metric's "
        "result (the `loss` tracker's included) read from the returned metric variables"
    )
    jax_no_fix = (
        " (no fix: the step neither updates the `loss` tracker nor computes its loss with "
        "`self.compute_loss(...)`)"
    )
    nodes = (cst.Return, cst.FunctionDef)
    fix = "unsafe"
    examples = (
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(x, y, self(x))\n"
            "        return «loss», state\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(x, y, self(x))\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(loss)\n"
            "            logs = self.get_metrics_result()\n"
            "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        trainable, non_trainable, metrics_vars = state\n"
            "        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        new_metrics_vars = []\n"
            "        for metric in self.metrics:\n"
            "            this_vars = metrics_vars[len(new_metrics_vars) : len(new_metrics_vars) + len(metric.variables)]\n"
            '            if metric.name == "loss":\n'
            "                this_vars = metric.stateless_update_state(this_vars, loss)\n"
            "            else:\n"
            "                this_vars = metric.stateless_update_state(this_vars, y, y_pred)\n"
            "            logs = metric.stateless_result(this_vars)\n"
            "            new_metrics_vars += this_vars\n"
            "        state = (trainable, non_trainable, new_metrics_vars)\n"
            "        return «logs», state\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        trainable, non_trainable, metrics_vars = state\n"
            "        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        new_metrics_vars = []\n"
            "        for metric in self.metrics:\n"
            "            this_vars = metrics_vars[len(new_metrics_vars) : len(new_metrics_vars) + len(metric.variables)]\n"
            '            if metric.name == "loss":\n'
            "                this_vars = metric.stateless_update_state(this_vars, loss)\n"
            "            else:\n"
            "                this_vars = metric.stateless_update_state(this_vars, y, y_pred)\n"
            "            logs = metric.stateless_result(this_vars)\n"
            "            new_metrics_vars += this_vars\n"
            "        state = (trainable, non_trainable, new_metrics_vars)\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))):\n"
            "            logs = self.get_metrics_result()\n"
            "        return logs, state\n",
            unsafe=True,
        ),
        Example(
            "from keras import Model\n"
            "class M(Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        trainable, non_trainable, metrics_vars = state\n"
            "        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        results, new_vars = [], []\n"
            "        for metric in self.metrics:\n"
            "            v = metrics_vars[len(new_vars) : len(new_vars) + len(metric.variables)]\n"
            '            if metric.name == "loss":\n'
            "                v = metric.stateless_update_state(v, loss)\n"
            "            else:\n"
            "                v = metric.stateless_update_state(v, y, y_pred)\n"
            "            results.append(metric.stateless_result(v))\n"
            "            new_vars += v\n"
            "        return «tuple(results)», (trainable, non_trainable, new_vars)\n",
            "from keras import Model\n"
            "import keras\n"
            "class M(Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        trainable, non_trainable, metrics_vars = state\n"
            "        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        results, new_vars = [], []\n"
            "        for metric in self.metrics:\n"
            "            v = metrics_vars[len(new_vars) : len(new_vars) + len(metric.variables)]\n"
            '            if metric.name == "loss":\n'
            "                v = metric.stateless_update_state(v, loss)\n"
            "            else:\n"
            "                v = metric.stateless_update_state(v, y, y_pred)\n"
            "            results.append(metric.stateless_result(v))\n"
            "            new_vars += v\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, new_vars))):\n"
            "            logs = self.get_metrics_result()\n"
            "        return logs, (trainable, non_trainable, new_vars)\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        y_pred, _ = self.stateless_call(state[0], state[1], x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            '        logs = {"loss": loss}\n'
            "        return state, «logs»\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        y_pred, _ = self.stateless_call(state[0], state[1], x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            '        logs = {"loss": loss}\n'
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(loss)\n"
            "            logs = self.compute_metrics(x, y, y_pred)\n"
            "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        y_pred, _ = self.stateless_call(state[0], state[1], x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        return «list(self.compute_metrics(x, y, y_pred).values())», state\n",
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        y_pred, _ = self.stateless_call(state[0], state[1], x)\n"
            "        loss = self.compute_loss(x, y, y_pred)\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(loss)\n"
            "            logs = self.compute_metrics(x, y, y_pred)\n"
            "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(x, y, self(x))\n"
            '        return «{"loss": loss}»\n',
            "import keras\n"
            "class M(keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        x, y = data\n"
            "        loss = self.compute_loss(x, y, self(x))\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(loss)\n"
            "            logs = self.get_metrics_result()\n"
            "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
            unsafe=True,
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, state, data):\n"
            "        trainable, non_trainable, optimizer_vars, metrics_vars = state\n"
            "        results = [m.stateless_result(metrics_vars) for m in self.metrics]\n"
            "        return «results», state\n",
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            "        return «tf.reduce_mean(data)»\n",
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def train_step(self, data):\n"
            '        return {"loss": tf.reduce_mean(data)}\n',
            unsafe=True,
        ),
        Example(
            "from keras import Model, ops\n"
            "class M(Model):\n"
            "    def train_step(self, data):\n"
            "        loss = ops.mean(data)\n"
            "        return «[loss]»\n",
            "from keras import Model, ops\n"
            "class M(Model):\n"
            "    def train_step(self, data):\n"
            "        loss = ops.mean(data)\n"
            '        return {"loss": loss}\n',
            unsafe=True,
        ),
        Example(
            "from tensorflow import keras\n"
            "class M(keras.Model):\n"
            "    def «test_step»(self, data):\n"
            "        self.compiled_metrics.update_state(data, data)\n"
        ),
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        a = self.loss_a.result()\n"
            "        return «[a, a * 2]»\n"
        ),
    )
    valid = (
        # A helper that returns the pair itself.
        "import keras\nclass M(keras.Model):\n    def train_step(self, state, data):\n"
        "        return self._step(state, data)\n",
        # The logs end up a dict: the last value assigned counts.
        "import keras\nclass M(keras.Model):\n    def test_step(self, state, data):\n"
        "        logs = self.loss_tracker.stateless_result(state[2])\n"
        "        logs = {'loss': logs}\n        return logs, state\n",
        "import keras\ndef build(keras):\n    class M(keras.Model):\n        def train_step(self, data):\n            return data * 2\n    return M\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        return {m.name: m.result() for m in self.metrics}\n",
        "import keras\nclass M(keras.Model):\n    def test_step(self, state, data):\n"
        "        logs = {}\n        return logs, state\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        return self.compute_metrics(data, data, data)\n",
        "import keras\nclass M(keras.Model):\n    def predict_step(self, data):\n        return self(data)\n",
        "import keras\nclass Loop:\n    def train_step(self, data):\n        return data * 2\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        def inner():\n            return 1\n        return {\"loss\": inner()}\n",
    )

    def visit(self, node: cst.Return | cst.FunctionDef, ctx: Context) -> None:
        if isinstance(node, cst.FunctionDef):
            self._visit_function(node, ctx)
            return
        function = ctx.function
        if function is None or function.name.value not in _LOG_STEPS:
            return
        if step_method(ctx, _LOG_STEPS) is not function:
            return
        if is_stateless_step(function):
            self._visit_jax_return(node, ctx, function)
            return
        logs = node.value
        message = self.message.format(name=function.name.value)
        if logs is None:
            ctx.report(node, message)
            return
        if isinstance(logs, (cst.List, cst.Tuple)):
            elements = logs.elements
            if isinstance(logs, cst.List) and len(elements) == 1 and isinstance(elements[0], cst.Element):
                edits = [Replace(logs.lbracket, '{"loss": '), Replace(logs.rbracket, "}")]
                if isinstance(elements[0].comma, cst.Comma):
                    edits.append(Replace(elements[0].comma, ""))
                ctx.report(logs, message, fix=FixSpec.unsafe('Return `{"loss": ...}`', *edits))
                return
            ctx.report(logs, message)
            return
        if _is_tensor(ctx, logs, function):
            fix = FixSpec.unsafe(
                'Return `{"loss": ...}`',
                Insert(logs, '{"loss": '),
                Insert(logs, "}", after=True),
            )
            ctx.report(logs, message, fix=fix)

    def _visit_jax_return(self, node: cst.Return, ctx: Context, function: cst.FunctionDef) -> None:
        parts = jax_return(ctx, node, function)
        logs = parts.logs
        line = ctx.parents[-1] if ctx.parents else None
        if isinstance(logs, cst.Name) and line is not None and parts.state is not None and not parts.swapped:
            # `logs = metric.stateless_result(...)` in a loop, then `logs = {...}`: the last value.
            latest = _value_before(function, logs.value, line)
            if latest is not None and is_log_dict(ctx, latest, function):
                return
        not_logs = logs is None or _is_not_logs(ctx, logs, function)
        if parts.swapped:
            pass
        elif parts.state is None:
            # `return self._step(state, data)` may well return the pair: only what is plainly
            # logs (or plainly not) is reported.
            if not (not_logs or is_log_dict(ctx, logs, function)):  # type: ignore[arg-type]
                return
        elif not not_logs:
            return
        klass = ctx.klass
        block = ctx.parents[-2] if len(ctx.parents) > 1 else None
        fix = None
        if (
            klass is not None
            and isinstance(line, cst.SimpleStatementLine)
            and len(line.body) == 1
            and isinstance(block, cst.IndentedBlock)
        ):
            loss = logs if logs is not None and _is_tensor(ctx, logs, function) else None
            fix = logs_fix(ctx, node, function, klass, parts, line, block_indent(ctx, block), loss)
        message = self.jax_message.format(name=function.name.value)
        if fix is None:
            message += self.jax_no_fix
        ctx.report(logs if logs is not None else node, message, fix=fix)

    def _visit_function(self, node: cst.FunctionDef, ctx: Context) -> None:
        if node.name.value not in _LOG_STEPS:
            return
        klass = ctx.klass
        if klass is None or not any(stmt is node for stmt in body_of(klass)):
            return
        if not ctx.is_keras_class(klass) or _has_return(node):
            return
        ctx.report(node.name, self.message.format(name=node.name.value) + " (it returns nothing)")


class LossLogOverwritten(Rule):
    """
    ## Why
    When the logs a custom step returns have exactly the keys of `self.metrics`, Keras 3
    replaces them with the metrics' own results (`Trainer._get_metrics_result_or_logs`), and the
    epoch logs always come from `self.metrics`. `compile()` always creates a `loss` tracker that
    only the built-in step updates: a custom step that returns `{"loss": loss}` without updating
    a tracker shows `loss: 0.0000` in the progress bar and `History`, silently, on every backend.
    A step that updates the tracker (the Keras 3 guide's loop over `self.metrics`, or a
    `Mean(name="loss")` of its own) is not reported.

    ## Example
    ```python
    def train_step(self, data):
        ...
        return {"loss": loss}
    ```

    ## Use instead
    ```python
    @property
    def metrics(self):
        return [m for m in super().metrics if getattr(m, "built", True)]

    def train_step(self, data):
        ...
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
        return {"loss": loss}
    ```
    The `metrics` property is needed when the step updates no compiled metric: Keras builds
    `compile(metrics=[...])`'s metrics at their first update, and reading them unbuilt at the
    epoch's end fails with "Cannot get result() since the metric has not yet been built"
    (Keras 3.15.1, TensorFlow and PyTorch).

    ## Backends
    All.

    ## Fix safety
    Unsafe: the fix updates Keras' own `loss` tracker (the Keras 3 guide's loop) before the
    `return`, so the epoch's `loss` is the mean of the batches' losses where Keras 2 showed the
    last batch's. Keras' own step weights each batch by its size; this update does not, which
    differs only when the last batch is smaller. When the step updates no compiled metric, the fix
    adds the `metrics` property above, which lists the compiled metrics only once Keras' own
    `test_step` has built them: the training logs then have the `loss` only, as in Keras 2.
    The constructor is left as it is (a functional subclass `MyModel(inputs, outputs)` keeps
    working). A JAX step
    (`train_step(self, state, data)`) gets KER503's fix: the tracker updated in a
    `StatelessScope` over the returned metric variables, and every metric's result returned.

    ## References
    - Catalogue K3-TRN-005; keras-team/keras-core#485; keras.io guide "Customizing what happens
      in fit()" (Keras 3).
    """

    code = "KER505"
    name = "loss-log-overwritten"
    message = (
        "This `loss` is replaced by the never-updated `loss` tracker (History shows 0.0): "
        "update the tracker (`metric.update_state(loss)` for the metric named \"loss\" in `self.metrics`)"
    )
    nodes = (cst.Dict,)
    fix = "unsafe"
    examples = (
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, data):\n"
            "        loss = self.compute_loss(y=data, y_pred=self(data))\n"
            '        return {«"loss": loss»}\n',
            "import keras\n"
            "class M(keras.Model):\n"
            "    @property\n"
            "    def metrics(self):\n"
            '        return [m for m in super().metrics if getattr(m, "built", True)]\n'
            "\n"
            "    def train_step(self, data):\n"
            "        loss = self.compute_loss(y=data, y_pred=self(data))\n"
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(loss)\n"
            '        return {"loss": loss}\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def __init__(self, units):\n"
            "        super().__init__()\n"
            "        self.units = units\n"
            "\n"
            "    def train_step(self, data):\n"
            "        if data is None:\n"
            '            return {«"loss": 0.0»}\n'
            '        return {«"loss": tf.reduce_mean(data)»}\n',
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def __init__(self, units):\n"
            "        super().__init__()\n"
            "        self.units = units\n"
            "\n"
            "    @property\n"
            "    def metrics(self):\n"
            '        return [m for m in super().metrics if getattr(m, "built", True)]\n'
            "\n"
            "    def train_step(self, data):\n"
            "        if data is None:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(0.0)\n"
            '            return {"loss": 0.0}\n'
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(tf.reduce_mean(data))\n"
            '        return {"loss": tf.reduce_mean(data)}\n',
            unsafe=True,
        ),
        Example(
            "import tensorflow as tf\n"
            "class M(tf.keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        loss = tf.reduce_mean(data)\n"
            '        return {«"loss": loss»}, state\n',
            "import tensorflow as tf\n"
            "import keras\n"
            "class M(tf.keras.Model):\n"
            "    def test_step(self, state, data):\n"
            "        loss = tf.reduce_mean(data)\n"
            "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
            "            for metric in self.metrics:\n"
            '                if metric.name == "loss":\n'
            "                    metric.update_state(loss)\n"
            "            logs = self.get_metrics_result()\n"
            "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
            unsafe=True,
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class M(keras.Model):\n        def train_step(self, data):\n            return {\"loss\": 1.0}\n    return M\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        '        self.loss_tracker.update_state(1.0)\n        return {"loss": self.loss_tracker.result()}\n',
        "import keras\nclass M(keras.Model):\n    @property\n    def metrics(self):\n        return [self.t]\n"
        '    def train_step(self, data):\n        return {"loss": 1.0}\n',
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        '        return {"my_loss": 1.0}\n',
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        '        return {"loss": 1.0, "acc": 0.5}\n',
        'import keras\ndef train_step(data):\n    return {"loss": 1.0}\n',
        # The Keras 3 guide's loop updates Keras' own tracker.
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        loss = self.compute_loss(y=data, y_pred=self(data))\n"
        "        for metric in self.metrics:\n"
        '            if metric.name == "loss":\n'
        "                metric.update_state(loss)\n"
        "            else:\n"
        "                metric.update_state(data, self(data))\n"
        '        return {"loss": loss}\n',
        # A tracker of the class's own, named "loss".
        "import keras\nclass M(keras.Model):\n    def __init__(self, *args, **kwargs):\n"
        "        super().__init__(*args, **kwargs)\n"
        '        self.tracker = keras.metrics.Mean(name="loss")\n'
        "    def train_step(self, data):\n"
        "        loss = self.compute_loss(y=data, y_pred=self(data))\n"
        "        self.tracker.update_state(loss)\n"
        '        return {"loss": loss}\n',
        # A JAX step whose loop updates the tracker statelessly.
        "import keras\nclass M(keras.Model):\n    def test_step(self, state, data):\n"
        "        trainable, non_trainable, metrics_vars = state\n"
        "        loss = self.compute_loss(y=data, y_pred=data)\n"
        "        for metric in self.metrics:\n"
        "            metrics_vars = metric.stateless_update_state(metrics_vars, loss)\n"
        '        return {"loss": loss}, (trainable, non_trainable, metrics_vars)\n',
    )

    def visit(self, node: cst.Dict, ctx: Context) -> None:
        elements = node.elements
        if len(elements) != 1 or not isinstance(elements[0], cst.DictElement):
            return
        element = elements[0]
        if string_value(element.key) != "loss":
            return
        parent = ctx.parents[-1] if ctx.parents else None
        if isinstance(parent, cst.Element):
            parent = ctx.parents[-2]
            if not isinstance(parent, cst.Tuple):
                return
            parent = ctx.parents[-3]
        if not isinstance(parent, cst.Return):
            return
        function = step_method(ctx, _LOG_STEPS)
        if function is None or ctx.function is not function:
            return
        value = element.value
        if isinstance(value, cst.Call) and isinstance(value.func, cst.Attribute):
            if value.func.attr.value in ("result", "stateless_result"):
                return
        klass = ctx.klass
        if klass is None or "metrics" in class_methods(klass):
            return
        if updates_loss_tracker(ctx, klass, function):
            return
        if is_stateless_step(function):
            fix = self._jax_fix(ctx, function, klass, parent, element)
        else:
            fix = self._tracker_fix(ctx, element)
        ctx.report(element.key, end=element.value, fix=fix)

    @staticmethod
    def _jax_fix(
        ctx: Context, function: cst.FunctionDef, klass: cst.ClassDef, ret: cst.Return, element: cst.DictElement
    ) -> FixSpec | None:
        """KER503's JAX fix: the tracker updated statelessly, every metric's result returned."""
        index = next((i for i, p in enumerate(ctx.parents) if p is ret), None)
        if index is None or index < 2:
            return None
        line, block = ctx.parents[index - 1], ctx.parents[index - 2]
        if not isinstance(line, cst.SimpleStatementLine) or len(line.body) != 1:
            return None
        if not isinstance(block, cst.IndentedBlock):
            return None
        parts = jax_return(ctx, ret, function)
        return logs_fix(ctx, ret, function, klass, parts, line, block_indent(ctx, block), element.value)

    def _tracker_fix(self, ctx: Context, element: cst.DictElement) -> FixSpec | None:
        parents = ctx.parents
        line = block = None
        for index in range(len(parents) - 1, 0, -1):
            if isinstance(parents[index], cst.SimpleStatementLine):
                line, block = parents[index], parents[index - 1]
                break
        if line is None or not isinstance(block, cst.IndentedBlock):
            return None
        indent = block_indent(ctx, block)
        value = ctx.module.code_for_node(element.value)
        update = tracker_update(value, indent, ctx.module.default_indent)
        edits: list[Insert] = [insert_before_statement(line, update, indent)]
        klass, function = ctx.klass, ctx.function
        if klass is not None and function is not None and not _updates_compiled_metrics(function):
            # Keras builds the compiled metrics at their first update, which this step never
            # makes: reading them at the epoch's end fails ("Cannot get result() since the metric
            # has not yet been built"), so they are listed once built (by Keras' own test_step).
            step = klass.body.indent if isinstance(klass.body, cst.IndentedBlock) else None
            step = step if step is not None else ctx.module.default_indent
            prop = insert_method(
                ctx,
                klass,
                "@property",
                "def metrics(self):",
                f'{step}return [m for m in super().metrics if getattr(m, "built", True)]',
                after=class_methods(klass).get("__init__"),
            )
            if prop is None:
                return None
            edits.extend(prop)
        return FixSpec.unsafe("Update Keras' `loss` tracker with this loss", *edits)


def _updates_compiled_metrics(function: cst.FunctionDef) -> bool:
    """Whether the step updates the compiled metrics (`self.compute_metrics(...)`, or the
    Keras 2 `self.compiled_metrics`, which KER504 turns into it)."""
    found: list[bool] = []

    class Finder(cst.CSTVisitor):
        def visit_Attribute(self, node: cst.Attribute) -> None:
            if isinstance(node.value, cst.Name) and node.value.value == "self":
                if node.attr.value in ("compute_metrics", "compiled_metrics"):
                    found.append(True)

    function.visit(Finder())
    return bool(found)


class StatefulUpdateInJaxStep(Rule):
    """
    ## Why
    A JAX step (`train_step(self, state, data)`) is traced as a pure function: the variables come
    in through `state` and go out in the returned state. `self.optimizer.apply_gradients(...)`
    and `metric.update_state(...)` change variables in place, which a traced JAX function cannot
    do: the updates are lost or fail (`TypeError: 'NoneType' object is not callable` inside a
    layer's `call`).

    ## Example
    ```python
    def train_step(self, state, data):
        ...
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
    ```

    ## Use instead
    ```python
    trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
        optimizer_variables, grads, trainable_variables
    )
    metric_variables = metric.stateless_update_state(metric_variables, y, y_pred)
    ```
    Mind the argument order of `stateless_apply`: optimizer variables, gradients, trainable
    variables.

    ## Backends
    JAX.

    ## Fix safety
    No fix: the variables must be threaded through the returned state.

    ## References
    - Catalogue K3-TRN-006; keras.io guide "Customizing what happens in fit() with JAX".
    """

    code = "KER506"
    name = "stateful-update-in-jax-step"
    message = "A JAX step must be stateless: use `{replacement}` and return the new variables"
    nodes = (cst.Call,)
    backends = frozenset({"jax"})
    examples = (
        Example(
            "import keras\n"
            "class M(keras.Model):\n"
            "    def train_step(self, state, data):\n"
            "        «self.optimizer.apply_gradients»(zip(data, self.trainable_variables))\n"
            "        return {}, state\n"
        ),
        Example(
            "from keras import Model\n"
            "class M(Model):\n"
            "    def test_step(self, state, data):\n"
            "        for metric in self.metrics:\n"
            "            «metric.update_state»(data, data)\n"
            "        return {}, state\n"
        ),
    )
    valid = (
        "import keras\ndef build(keras):\n    class M(keras.Model):\n        def train_step(self, state, data):\n            self.optimizer.apply_gradients(data)\n    return M\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, data):\n"
        "        self.optimizer.apply_gradients(zip(data, self.trainable_variables))\n        return {}\n",
        "import keras\nclass M(keras.Model):\n    def train_step(self, state, data):\n"
        "        tv, ov = self.optimizer.stateless_apply(state[2], data, state[0])\n        return {}, state\n",
        "import keras\nclass Agent:\n    def train_step(self, state, data):\n"
        "        self.optimizer.apply_gradients(data)\n",
    )

    _REPLACEMENTS = {
        "apply_gradients": "optimizer.stateless_apply(optimizer_variables, grads, trainable_variables)",
        "apply": "optimizer.stateless_apply(optimizer_variables, grads, trainable_variables)",
        "update_state": "metric.stateless_update_state(metric_variables, ...)",
    }

    def call_leaves(self) -> frozenset[str]:
        """The callees' last names `visit` acts on (see `engine.gates`)."""
        return frozenset(self._REPLACEMENTS.keys())

    def visit(self, node: cst.Call, ctx: Context) -> None:
        func = node.func
        if not isinstance(func, cst.Attribute):
            return
        replacement = self._REPLACEMENTS.get(func.attr.value)
        if replacement is None or not ctx.functions:
            return
        if func.attr.value != "update_state" and not is_optimizer(ctx, func.value):
            return
        function = step_method(ctx, _LOG_STEPS)
        if function is None or not is_stateless_step(function) or _in_stateless_scope(ctx):
            return
        ctx.report(func, self.message.format(replacement=replacement))


def _in_stateless_scope(ctx: Context) -> bool:
    """Inside `with keras.StatelessScope(...)`: updates there are recorded in the scope, the way
    Keras' own JAX step updates its metrics."""
    for parent in ctx.parents:
        if isinstance(parent, cst.With):
            for item in parent.items:
                call = item.item
                if isinstance(call, cst.Call) and isinstance(call.func, (cst.Name, cst.Attribute)):
                    if ctx.qualname(call.func) in ("keras.StatelessScope", "keras.src.backend.StatelessScope"):
                        return True
    return False
