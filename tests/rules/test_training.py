"""Training rules (KER5xx) on whole programs: the seed scenarios, how the rules' fixes combine,
and their backend and version gates."""

from __future__ import annotations

import libcst as cst

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.model import Severity

TRAINING = Settings(select=("KER5",), keras_version=(3, 0, 0))

# A Keras 3 JAX `test_step` whose logs are the loss array, not a dict: Keras then fails with
# "'ArrayImpl' object has no attribute 'items'".
JAX_TEST_STEP = '''\
import keras


class Classifier(keras.Model):
    def test_step(self, state, data):
        x, y = data
        trainable_variables, non_trainable_variables, metrics_variables = state
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=False
        )
        loss = self.compute_loss(x, y, y_pred)
        state = (trainable_variables, non_trainable_variables, metrics_variables)
        return loss, state
'''


# The same step written correctly: the logs are a dict built from the metrics' results.
JAX_TEST_STEP_FIXED = '''\
import keras


class Classifier(keras.Model):
    def test_step(self, state, data):
        x, y = data
        trainable_variables, non_trainable_variables, metrics_variables = state
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=False
        )
        loss = self.compute_loss(x, y, y_pred)
        new_metrics_vars = []
        logs = {}
        for metric in self.metrics:
            this_metric_vars = metrics_variables[
                len(new_metrics_vars) : len(new_metrics_vars) + len(metric.variables)
            ]
            if metric.name == "loss":
                this_metric_vars = metric.stateless_update_state(this_metric_vars, loss)
            else:
                this_metric_vars = metric.stateless_update_state(this_metric_vars, y, y_pred)
            logs[metric.name] = metric.stateless_result(this_metric_vars)
            new_metrics_vars += this_metric_vars
        state = (trainable_variables, non_trainable_variables, new_metrics_vars)
        return logs, state
'''


def codes(source: str, settings: Settings = TRAINING) -> list[str]:
    return [f.code for f in lint(source, "train.py", settings)]


def test_jax_step_returning_an_array_is_reported_and_wrapped_into_a_dict():
    findings = [f for f in lint(JAX_TEST_STEP, "train.py", TRAINING) if f.code == "KER503"]
    assert len(findings) == 1
    assert JAX_TEST_STEP[findings[0].span.start : findings[0].span.end] == "loss"
    assert not findings[0].fix.is_safe
    assert fix(JAX_TEST_STEP, "train.py", TRAINING).source == JAX_TEST_STEP
    fixed = fix(JAX_TEST_STEP, "train.py", TRAINING, unsafe=True).source
    assert fixed == JAX_TEST_STEP.replace("return loss, state", 'return {"loss": loss}, state')
    assert "KER503" not in codes(fixed)


def test_correct_jax_step_is_clean():
    everything = Settings(select=("KER5", "KER7", "KER8"), keras_version=(3, 0, 0))
    assert codes(JAX_TEST_STEP_FIXED, everything) == []


def test_keras2_step_signature_is_a_jax_problem_only():
    source = (
        "import tensorflow as tf\n"
        "class M(tf.keras.Model):\n"
        "    def train_step(self, data):\n"
        "        x, y = data\n"
        "        with tf.GradientTape() as tape:\n"
        "            loss = self.compiled_loss(y, self(x))\n"
        "        return {m.name: m.result() for m in self.metrics}\n"
    )
    assert codes(source) == ["KER501", "KER502", "KER504"]
    tensorflow_only = Settings(select=("KER5",), target_backends=frozenset({"tensorflow"}))
    assert codes(source, tensorflow_only) == ["KER504"]
    torch_only = Settings(select=("KER5",), target_backends=frozenset({"torch"}))
    assert codes(source, torch_only) == ["KER502", "KER504"]


KERAS2_SCRIPT = '''\
import tensorflow as tf
from tensorflow import keras


class Model(keras.Model):
    def __init__(self):
        super().__init__()
        self.tracker = keras.metrics.Mean(name="loss")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}

    def reset(self):
        self.tracker.reset_states()
        print(self.optimizer.lr)


model = Model()
model.compile(optimizer="adam", experimental_run_tf_function=False)
board = keras.callbacks.TensorBoard("logs", write_grads=True)
model.fit_generator(batches(), steps_per_epoch=10, epochs=2, callbacks=[board])
scores = model.evaluate_generator(batches(), 5, workers=4)
'''

KERAS2_SCRIPT_SAFELY_FIXED = '''\
import tensorflow as tf
from tensorflow import keras


class Model(keras.Model):
    def __init__(self):
        super().__init__()
        self.tracker = keras.metrics.Mean(name="loss")

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        self.optimizer.apply_gradients(zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables))
        self.tracker.update_state(loss)
        return {"loss": self.tracker.result()}

    def reset(self):
        self.tracker.reset_state()
        print(self.optimizer.learning_rate)


model = Model()
model.compile(optimizer="adam")
board = keras.callbacks.TensorBoard("logs")
model.fit(batches(), steps_per_epoch=10, epochs=2, callbacks=[board])
scores = model.evaluate_generator(batches(), 5, workers=4)
'''


def test_safe_fixes_of_a_keras2_script_combine_and_leave_the_unsafe_one():
    result = fix(KERAS2_SCRIPT, "train.py", TRAINING)
    assert result.source == KERAS2_SCRIPT_SAFELY_FIXED
    cst.parse_module(result.source)
    left = [f.code for f in result.remaining if f.fix is not None]
    assert left == ["KER509"]
    unsafe = fix(KERAS2_SCRIPT, "train.py", TRAINING, unsafe=True).source
    assert unsafe.endswith("scores = model.evaluate(batches(), steps=5)\n")


def test_per_output_losses_are_reported_only_for_keras_before_3_5():
    source = "import keras\nprint(history.history['head_a_loss'])\n"
    assert codes(source, Settings(select=("KER508",), keras_version=(3, 4, 0))) == ["KER508"]
    assert codes(source, Settings(select=("KER508",), keras_version=(3, 5, 0))) == []


def test_tf_data_note_is_information_once_per_file_and_only_for_jax_or_torch():
    source = (
        "import tensorflow as tf\n"
        "train = tf.data.Dataset.from_tensor_slices(x)\n"
        "val = tf.data.Dataset.from_tensor_slices(y)\n"
    )
    findings = lint(source, "data.py", Settings(select=("KER540",)))
    assert [(f.code, f.severity) for f in findings] == [("KER540", Severity.INFO)]
    assert findings[0].start.line == 1
    tensorflow_only = Settings(select=("KER540",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "data.py", tensorflow_only) == []


def test_metric_and_optimizer_fixes_need_evidence_of_the_receiver():
    source = (
        "import keras\n"
        "def reset(metric, scheduler):\n"
        "    metric.reset_states()\n"
        "    return scheduler.lr\n"
    )
    assert codes(source) == []
    known = (
        "import keras\n"
        "def reset(model):\n"
        "    metric = keras.metrics.AUC()\n"
        "    metric.reset_states()\n"
        "    return model.optimizer.lr\n"
    )
    assert codes(known) == ["KER507", "KER520"]
