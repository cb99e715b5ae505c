"""Keras 2 style custom steps whose logs Keras 3 gets wrong (no `loss`, `loss: 0.0`, the mean
prediction as `loss`, or a crash), each in a program that trains and evaluates the custom model
and, beside it, the same model with Keras' own steps. The logs are true when the custom model's
History and `evaluate()` equal the built-in model's: Keras' own step is the ground truth of what
`loss` (and every metric) is.

Weights start at zero and batches are not shuffled, so both models see the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

PROGRAM = '''
import numpy as np
{imports}
import keras

x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = np.sin(3.0 * x).sum(axis=1, keepdims=True)


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, kernel_initializer="zeros")

    def call(self, inputs, training=False):
        return self.dense(inputs)


class Custom(Regressor):
{step}


def run(model, learning_rate):
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate), loss="mse", metrics={metrics})
    history = model.fit(x, y, epochs=3, batch_size=8, shuffle=False, verbose=0).history
    return {{"history": history, "evaluate": model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)}}


RESULT = {{"custom": run({custom}, {learning_rate}), "builtin": run({builtin}, 0.1)}}
'''

# The Keras 3 guide's JAX test_step (seed 000): its metric loop updates every metric, the loss
# tracker included, and leaves `logs` the last metric's result.
_SEED_LOOP = '''
    def test_step(self, state, data):
        x, y = data
        trainable_variables, non_trainable_variables, metrics_variables = state
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=False
        )
        loss = self.compute_loss(x, y, y_pred)
        new_metrics_vars = []
        {collect}
        for metric in self.metrics:
            this_metric_vars = metrics_variables[
                len(new_metrics_vars) : len(new_metrics_vars) + len(metric.variables)
            ]
            if metric.name == "loss":
                this_metric_vars = metric.stateless_update_state(this_metric_vars, loss)
            else:
                this_metric_vars = metric.stateless_update_state(this_metric_vars, y, y_pred)
            {keep}
            new_metrics_vars += this_metric_vars
        state = (trainable_variables, non_trainable_variables, new_metrics_vars)
        {returns}
'''


def seed_step(collect: str, keep: str, returns: str) -> str:
    return _SEED_LOOP.replace("{collect}", collect).replace("{keep}", keep).replace("{returns}", returns)


# A JAX step that updates no metric and returns the loss it computed.
JAX_LOSS_ONLY = '''
    def test_step(self, state, data):
        trainable, non_trainable, metrics_vars = state
        x, y = data
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)
        loss = keras.ops.mean((y - y_pred) ** 2)
        return loss, (trainable, non_trainable, metrics_vars)
'''

JAX_COMPUTE_METRICS = '''
    def test_step(self, state, data):
        x, y = data
        trainable, non_trainable, metrics_vars = state
        y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x)
        loss = self.compute_loss(x, y, y_pred)
        return list(self.compute_metrics(x, y, y_pred).values()), state
'''

# KER505's JAX shape: the step returns `{"loss": loss}` and updates no tracker.
JAX_TRAIN_STEP = '''
    def train_step(self, state, data):
        trainable, non_trainable, optimizer_vars, metrics_vars = state
        x, y = data

        def loss_fn(trainable):
            y_pred, _ = self.stateless_call(trainable, non_trainable, x)
            return keras.ops.mean((y - y_pred) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(trainable)
        trainable, optimizer_vars = self.optimizer.stateless_apply(optimizer_vars, grads, trainable)
        return {"loss": loss}, (trainable, non_trainable, optimizer_vars, metrics_vars)
'''

# The Keras 2 tutorial's step with TensorFlow. Its gradient is that of twice the loss (at half
# the built-in model's learning rate, the same update), so that the step is not Keras' default
# one (KER512 would delete it) and KER504's fix is what runs.
TF_TAPE_STEP = '''
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            doubled = 2.0 * loss
        grads = tape.gradient(doubled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
'''

# The same with PyTorch, where `compiled_loss` and `compiled_metrics` do not exist.
TORCH_STEP = '''
    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compiled_loss(y, y_pred)
        (2.0 * loss).backward()
        grads = [v.value.grad for v in self.trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(grads, self.trainable_weights)
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
'''

# KER505's shape in a functional subclass, `FunctionalCustom(inputs, outputs)`: the fix must not
# give it an `__init__` that takes keywords only.
TF_FUNCTIONAL_STEP = '''
    pass


class FunctionalCustom(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            doubled = 2.0 * loss
        grads = tape.gradient(doubled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


def functional(model_class):
    inputs = keras.Input((4,))
    return model_class(inputs, keras.layers.Dense(1, kernel_initializer="zeros")(inputs))
'''


@dataclass(frozen=True)
class Program:
    """A custom step, the env it runs in and what the fixed program keeps reporting.

    `compared` are the keys of History and `evaluate()` that must equal the built-in model's
    (all of them when None); `remaining` the findings left after `--fix --unsafe-fixes`."""

    name: str
    env: str
    step: str
    remaining: tuple[str, ...] = ()
    imports: str = ""
    metrics: str = '["mae"]'
    custom: str = "Custom()"
    builtin: str = "Regressor()"
    learning_rate: float = 0.1
    compared: tuple[str, ...] | None = None
    # Text the fixed step must contain: the rule's own fix ran (the step was not deleted).
    fixed_marker: str = ""
    # How the program goes wrong as written: the error Keras raises (kind, text), or else
    # "no-loss" (`evaluate()` has no `loss`), "zero-loss" (History's `loss` is 0.0) or
    # "wrong-loss" (History's `loss` is not the loss).
    before_error: tuple[str, str] | None = None
    before_logs: str = ""

    @property
    def source(self) -> str:
        return PROGRAM.format(
            imports=self.imports,
            step=self.step,
            metrics=self.metrics,
            custom=self.custom,
            builtin=self.builtin,
            learning_rate=self.learning_rate,
        )


_READ = "with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, "
_TRACKER = 'if metric.name == "loss":\n'

PROGRAMS = (
    Program(
        "seed-logs-last-metric",
        "jax",
        seed_step("", "logs = metric.stateless_result(this_metric_vars)", "return logs, state"),
        remaining=(),
        fixed_marker=_READ + "state[-1]))):\n",
        before_logs="no-loss",
    ),
    Program(
        "seed-tuple-of-results",
        "jax",
        seed_step(
            "results = []",
            "results.append(metric.stateless_result(this_metric_vars))",
            "return tuple(results), state",
        ),
        remaining=(),
        fixed_marker=_READ + "state[-1]))):\n",
        before_error=("AttributeError", "'tuple' object has no attribute 'items'"),
    ),
    Program(
        "seed-logs-are-results",
        "jax",
        seed_step(
            "results = []",
            "results.append(metric.stateless_result(this_metric_vars))",
            "logs = results\n        return logs, state",
        ),
        remaining=(),
        fixed_marker=_READ + "state[-1]))):\n",
        before_error=("AttributeError", "'list' object has no attribute 'items'"),
    ),
    Program(
        "seed-state-then-logs",
        "jax",
        seed_step("logs = {}", "logs[metric.name] = metric.stateless_result(this_metric_vars)", "return state, logs"),
        remaining=(),
        fixed_marker=_READ + "state[-1]))):\n",
        before_error=("ValueError", "not enough values to unpack (expected 3, got 2)"),
    ),
    Program(
        "seed-logs-alone",
        "jax",
        seed_step("logs = {}", "logs[metric.name] = metric.stateless_result(this_metric_vars)", "return logs"),
        remaining=(),
        fixed_marker=_READ + "state[-1]))):\n",
        before_error=("ValueError", "too many values to unpack (expected 3)"),
    ),
    Program(
        "compute-metrics-values",
        "jax",
        JAX_COMPUTE_METRICS,
        remaining=(),
        fixed_marker="logs = self.compute_metrics(x, y, y_pred)\n",
        before_error=("TypeError", "'NoneType' object is not callable"),
    ),
    Program(
        "returns-the-loss",
        "jax",
        JAX_LOSS_ONLY,
        remaining=(),
        metrics="[]",
        fixed_marker=_TRACKER,
        before_error=("AttributeError", "ArrayImpl' object has no attribute 'items'"),
    ),
    Program(
        # With compiled metrics the step updates none of them: the fix updates them as Keras'
        # own step does, and the loss is there too.
        "returns-the-loss-with-mae",
        "jax",
        JAX_LOSS_ONLY,
        remaining=(),
        fixed_marker=_TRACKER + "                    metric.update_state(loss)\n"
        "            logs = self.compute_metrics(x, y, y_pred)\n",
        before_error=("AttributeError", "ArrayImpl' object has no attribute 'items'"),
    ),
    Program(
        "jax-train-step-loss-dict",
        "jax",
        JAX_TRAIN_STEP,
        remaining=(),
        imports="import jax",
        metrics="[]",
        fixed_marker=_TRACKER,
        before_logs="zero-loss",
    ),
    Program(
        "tape-step-compiled-loss",
        "tensorflow",
        TF_TAPE_STEP,
        # KER502 writes the train step per backend; the Keras 2 `test_step` is still TensorFlow's.
        remaining=("KER501",),
        imports="import tensorflow as tf",
        learning_rate=0.05,
        fixed_marker="metric.update_state(loss, sample_weight=keras.ops.shape(y)[0])\n",
        before_logs="wrong-loss",
    ),
    Program(
        "torch-step-compiled-loss",
        "torch",
        TORCH_STEP,
        # PyTorch only: the step calls `loss.backward()`.
        remaining=("KER501",),
        imports="import torch",
        learning_rate=0.05,
        fixed_marker="metric.update_state(loss, sample_weight=keras.ops.shape(y)[0])\n",
        before_error=("AttributeError", "'Custom' object has no attribute 'compiled_loss'"),
    ),
    Program(
        "functional-subclass-loss-dict",
        "tensorflow",
        TF_FUNCTIONAL_STEP,
        imports="import tensorflow as tf",
        metrics="None",
        custom="functional(FunctionalCustom)",
        builtin="functional(keras.Model)",
        learning_rate=0.05,
        fixed_marker=_TRACKER,
        before_logs="zero-loss",
    ),
    Program(
        # Compiled metrics that the step never updates are never built: reading them at the
        # epoch's end fails. After the fix, training logs the loss alone (as Keras 2 did) and
        # `evaluate()`, Keras' own test_step, the loss and the metrics.
        "functional-subclass-loss-dict-with-mae",
        "tensorflow",
        TF_FUNCTIONAL_STEP,
        imports="import tensorflow as tf",
        custom="functional(FunctionalCustom)",
        builtin="functional(keras.Model)",
        learning_rate=0.05,
        compared=("loss",),
        fixed_marker=_TRACKER,
        before_error=("ValueError", "Cannot get result() since the metric has not yet been built"),
    ),
)
