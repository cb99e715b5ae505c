"""Training rules (KER5xx) on whole programs: the seed scenarios, how the rules' fixes combine,
and their backend and version gates."""

from __future__ import annotations

import libcst as cst

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.engine.model import Severity

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


def test_jax_step_returning_an_array_is_reported_and_returns_every_metric():
    findings = [f for f in lint(JAX_TEST_STEP, "train.py", TRAINING) if f.code == "KER503"]
    assert len(findings) == 1
    assert JAX_TEST_STEP[findings[0].span.start : findings[0].span.end] == "loss"
    assert not findings[0].fix.is_safe
    assert fix(JAX_TEST_STEP, "train.py", TRAINING).source == JAX_TEST_STEP
    fixed = fix(JAX_TEST_STEP, "train.py", TRAINING, unsafe=True).source
    # The loss reaches Keras' `loss` tracker, the compiled metrics are updated as Keras' own
    # step does, and the logs are every metric's result.
    assert fixed == JAX_TEST_STEP.replace(
        "        return loss, state\n",
        "        with keras.StatelessScope(state_mapping=list(zip(self.metrics_variables, state[-1]))) as scope:\n"
        "            for metric in self.metrics:\n"
        '                if metric.name == "loss":\n'
        "                    metric.update_state(loss)\n"
        "            logs = self.compute_metrics(x, y, y_pred)\n"
        "        return logs, (*state[:-1], [scope.get_current_value(v) for v in self.metrics_variables])\n",
    )
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
        "model = tf.keras.models.load_model('m.keras')\n"
    )
    findings = lint(source, "data.py", Settings(select=("KER540",)))
    assert [(f.code, f.severity) for f in findings] == [("KER540", Severity.INFO)]
    assert findings[0].start.line == 1
    # TensorFlow code without Keras is not the JAX or PyTorch code the note is about.
    assert lint(source.replace("model = tf.keras.models.load_model('m.keras')\n", ""), "data.py", Settings(select=("KER540",))) == []
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


# ----- KER512: a custom step that only repeats Keras 3's default ------------------------------

DEFAULT_STEP = Settings(select=("KER512",))

# The model of tests/examples/keras2_training.py: `call` takes no `training`, so the default step
# calls `self(x)`; none of its layers reads the flag, so deleting the step changes nothing.
TUTORIAL_MODEL = '''\
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class ScaledDense(layers.Layer):
    def __init__(self, units):
        super().__init__()
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units))

    def call(self, inputs):
        return tf.where(inputs > 0.0, tf.matmul(inputs, self.kernel), 0.0)


class Trainer(keras.Model):
    """A model with its own training step."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = ScaledDense(16)
        self.act = layers.ThresholdedReLU(theta=0.1)
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.act(self.hidden(inputs)))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


model = Trainer()
'''

TUTORIAL_MODEL_FIXED = TUTORIAL_MODEL[: TUTORIAL_MODEL.index("\n    def train_step")] + "\n\nmodel = Trainer()\n"


def fixed_step(source: str, settings: Settings = DEFAULT_STEP) -> str:
    """The unsafe fix, checked to parse and to be stable under a second run."""
    fixed = fix(source, "train.py", settings, unsafe=True).source
    cst.parse_module(fixed)
    assert fix(fixed, "train.py", settings, unsafe=True).source == fixed
    return fixed


def test_tutorial_step_of_a_model_whose_layers_ignore_the_training_flag_is_deleted():
    findings = lint(TUTORIAL_MODEL, "train.py", DEFAULT_STEP)
    assert [(f.code, TUTORIAL_MODEL[f.span.start : f.span.end]) for f in findings] == [("KER512", "train_step")]
    assert not findings[0].fix.is_safe
    assert fix(TUTORIAL_MODEL, "train.py", DEFAULT_STEP).source == TUTORIAL_MODEL
    assert fixed_step(TUTORIAL_MODEL) == TUTORIAL_MODEL_FIXED
    assert "KER512" not in codes(TUTORIAL_MODEL_FIXED, DEFAULT_STEP)


def test_with_every_rule_the_tutorial_step_goes_whatever_fixes_came_first():
    everything = Settings()
    fixed = fix(TUTORIAL_MODEL, "train.py", everything, unsafe=True).source
    cst.parse_module(fixed)
    assert "train_step" not in fixed and "GradientTape" not in fixed
    assert "compiled_loss" not in fixed and "compute_loss" not in fixed


def test_a_layer_that_reads_the_training_flag_keeps_the_step():
    """The default step calls `self(x)` when `call` takes no `training`: the layers then get no
    flag, where the custom step's `self(x, training=True)` switched them to training."""
    dropout = TUTORIAL_MODEL.replace("layers.ThresholdedReLU(theta=0.1)", "layers.Dropout(0.5)")
    assert codes(dropout, DEFAULT_STEP) == []
    own_flag = TUTORIAL_MODEL.replace(
        "    def call(self, inputs):\n        return tf.where", "    def call(self, inputs, training=None):\n        return tf.where"
    )
    assert codes(own_flag, DEFAULT_STEP) == []
    # A layer built outside the class, or a layer list, may read it: unknown, so no finding.
    passed_in = TUTORIAL_MODEL.replace("self.out = layers.Dense(1)", "self.out = kwargs.pop('head')")
    assert codes(passed_in, DEFAULT_STEP) == []
    looped = TUTORIAL_MODEL.replace(
        "return self.out(self.act(self.hidden(inputs)))",
        "for layer in (self.hidden, self.act):\n            inputs = layer(inputs)\n        return self.out(inputs)",
    )
    assert codes(looped, DEFAULT_STEP) == []
    # With `training` in `call`, Keras 3 passes the flag itself: the layers do not matter.
    with_flag = dropout.replace(
        "    def call(self, inputs):\n        return self.out",
        "    def call(self, inputs, training=False):\n        return self.out",
    )
    assert codes(with_flag, DEFAULT_STEP) == ["KER512"]


GUIDE_STEPS = '''\
import keras
import tensorflow as tf


class Net(keras.Model):
    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        trainable_vars = self.trainable_variables
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply(gradients, trainable_vars)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        return self.compute_metrics(x, y, y_pred, None)
'''


def test_guide_spellings_are_the_default_and_an_emptied_class_gets_pass():
    assert codes(GUIDE_STEPS, DEFAULT_STEP) == ["KER512", "KER512"]
    fixed = fixed_step(GUIDE_STEPS)
    assert fixed == GUIDE_STEPS[: GUIDE_STEPS.index("    def train_step")] + "    pass\n"


def test_a_step_that_does_more_or_less_than_the_default_is_kept():
    variants = {
        "sample weights dropped": GUIDE_STEPS.replace(
            "loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)",
            "loss = self.compute_loss(y=y, y_pred=y_pred)",
        ),
        "clipped gradients": GUIDE_STEPS.replace(
            "        gradients = tape.gradient(loss, trainable_vars)\n",
            "        gradients = tape.gradient(loss, trainable_vars)\n"
            "        gradients = [tf.clip_by_norm(g, 1.0) for g in gradients]\n",
        ),
        "another loss": GUIDE_STEPS.replace(
            "metric.update_state(loss)", "metric.update_state(loss + 1.0)"
        ),
        "a subset of the variables": GUIDE_STEPS.replace(
            "trainable_vars = self.trainable_variables", "trainable_vars = self.trainable_variables[:2]"
        ),
        "no metrics": GUIDE_STEPS.replace(
            "        for metric in self.metrics:\n"
            '            if metric.name == "loss":\n'
            "                metric.update_state(loss)\n"
            "            else:\n"
            "                metric.update_state(y, y_pred, sample_weight=sample_weight)\n",
            "",
        ),
        "inference mode while training": GUIDE_STEPS.replace(
            "y_pred = self(x, training=True)", "y_pred = self(x, training=False)"
        ),
        "compiled as a tf.function": GUIDE_STEPS.replace(
            "    def train_step(self, data):", "    @tf.function\n    def train_step(self, data):"
        ),
    }
    for what, source in variants.items():
        assert codes(source, DEFAULT_STEP) == ["KER512"], what  # the test_step is still the default


def test_a_class_that_changes_what_the_default_step_calls_keeps_its_steps():
    for hook in (
        "    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None):\n        return 0.0\n",
        "    @property\n    def metrics(self):\n        return [self.tracker]\n",
        "    def compute_metrics(self, x, y, y_pred, sample_weight=None):\n        return {}\n",
    ):
        source = GUIDE_STEPS.replace("    def train_step", hook + "\n    def train_step")
        assert codes(source, DEFAULT_STEP) == [], hook
    custom_base = GUIDE_STEPS.replace("class Net(keras.Model):", "class Net(Base):").replace(
        "class Net", "class Base(keras.Model):\n    pass\n\n\nclass Net", 1
    )
    assert codes(custom_base, DEFAULT_STEP) == []


def test_model_metrics_given_back_to_compile():
    source = (
        "import keras\n\n"
        "def override(model, optimizer):\n"
        "    kwargs = {'optimizer': model.optimizer, 'loss': model.loss, 'metrics': model.metrics}\n"
        "    kwargs['optimizer'] = optimizer\n"
        "    model.compile(**kwargs)\n\n"
        "def again(net):\n"
        "    net.compile(optimizer='adam', loss=net.loss, metrics=net.metrics)\n"
    )
    assert [f.code for f in lint(source, "tune.py", TRAINING) if f.code == "KER518"] == ["KER518", "KER518"]


def test_model_metrics_read_or_passed_elsewhere_is_not_reported():
    source = (
        "import keras\nimport pandas as pd\n\n"
        "model = keras.Sequential([keras.layers.Dense(1)])\n"
        "names = [m.name for m in model.metrics]\n"
        "log(metrics=model.metrics)\n"
        "frame = pd.DataFrame()\n"
        "model.compile(optimizer='sgd', loss='mse', metrics=frame.metrics)\n"
        "class Tuner:\n"
        "    def run(self, model):\n"
        "        model.compile(optimizer='sgd', loss='mse', metrics=self.metrics)\n"
    )
    assert [f.code for f in lint(source, "tune.py", TRAINING) if f.code == "KER518"] == []


MULTI_TASK_EVAL = '''
import numpy as np
import keras
from keras import layers


def build(num_classes):
    image = keras.Input((32, 32, 3))
    h = layers.GlobalAveragePooling2D()(layers.Conv2D(8, 3)(image))
    heads = [layers.Dense(num_classes, name="cls")(h), layers.Dense(4, name="box")(h)]
    model = keras.Model(image, heads)
    model.compile("adam", ["sparse_categorical_crossentropy", "mse"])
    return model


def report(model, images, labels, boxes):
    total, cls_loss, box_loss = model.evaluate(images, [labels, boxes], verbose=0)
    print(f"loss {total:.3f} (cls {cls_loss:.3f}, box {box_loss:.3f})")


def report_dict(model, images, labels, boxes):
    scores = model.evaluate(images, [labels, boxes], verbose=0, return_dict=True)
    return scores["loss"]


net = build(10)
scores = net.evaluate(np.zeros((2, 32, 32, 3)), np.zeros((2,)))
loss, cls_loss, box_loss = net.evaluate(np.zeros((2, 32, 32, 3)), np.zeros((2,)))
'''


def test_unpacked_evaluate_of_a_multi_output_model():
    findings = lint(MULTI_TASK_EVAL, "train.py", Settings(select=("KER508",), keras_version=(3, 4, 1)))
    # `report` passes two targets; the last line's receiver `net` is no `keras.Model(...)` call
    # seen here (built by a function), so nothing shows its outputs.
    assert [f.span.start_pos.line for f in findings] == [16]
    assert findings[0].fix is None
    assert "unpacking 3 values" in findings[0].message
    assert lint(MULTI_TASK_EVAL, "train.py", Settings(select=("KER508",), keras_version=(3, 5, 0))) == []


def test_evaluate_order_is_reported_from_the_release_that_changed_it():
    """KER522 speaks for Keras 3.5 and newer; before it, KER508 reports the same unpacking."""
    source = (
        "import keras\n"
        "model = keras.Model(a, [p_out, d_out])\n"
        "model.compile('sgd', loss=['mse', 'mse'], metrics={'priority': ['mae'], 'department': ['accuracy']})\n"
        "loss, p_loss, d_loss, p_mae, d_acc = model.evaluate(x, [p, d])\n"
    )
    assert codes(source, Settings(select=("KER508", "KER522"), keras_version=(3, 15, 1))) == ["KER522"]
    assert codes(source, Settings(select=("KER508", "KER522"), keras_version=(3, 4, 0))) == ["KER508"]
    [finding] = lint(source, "m.py", Settings(select=("KER522",)))
    assert finding.message == (
        "Keras 3 returns these per-output metrics sorted by name (`department_accuracy`, `priority_mae`),"
        " not in `compile()`'s order: the names unpacked here get other metrics' values;"
        " use `evaluate(..., return_dict=True)`"
    )


def test_evaluate_order_fix_in_a_function_reads_by_log_name():
    """Inside a function, with `return_dict=False` given and `results` already a name: the dict
    gets another name, the flag becomes True, and the unpacking keeps its indentation."""
    source = (
        "import keras\n"
        "results = []\n"
        "def report(x, y):\n"
        "    inputs = keras.Input((4,))\n"
        "    first = keras.layers.Dense(1, name='zeta')(inputs)\n"
        "    second = keras.layers.Dense(1, name='alpha')(inputs)\n"
        "    model = keras.Model(inputs=inputs, outputs=[first, second])\n"
        "    model.compile('sgd', loss='mse', metrics={'zeta': ['mae'], 'alpha': ['mse']})\n"
        "    total, z_loss, a_loss, z_mae, a_mse = model.evaluate(x, y, return_dict=False)\n"
        "    return z_mae, a_mse\n"
    )
    fixed = fix(source, "m.py", Settings(select=("KER522",)), unsafe=True).source
    assert fixed == source.replace(
        "    total, z_loss, a_loss, z_mae, a_mse = model.evaluate(x, y, return_dict=False)\n",
        "    evaluation = model.evaluate(x, y, return_dict=True)\n"
        "    total, z_loss, a_loss, z_mae, a_mse = (\n"
        '        evaluation["loss"],\n'
        '        evaluation["zeta_loss"],\n'
        '        evaluation["alpha_loss"],\n'
        '        evaluation["zeta_mae"],\n'
        '        evaluation["alpha_mse"],\n'
        "    )\n",
    )
    compile(fixed, "m.py", "exec")
    assert fix(fixed, "m.py", Settings(select=("KER522",)), unsafe=True).source == fixed
    assert lint(fixed, "m.py", Settings(select=("KER522",))) == []


def test_evaluate_order_has_no_fix_without_every_log_name():
    # A metric object without `name=`: its log name is Keras's to choose.
    source = (
        "import keras\n"
        "inputs = keras.Input((4,))\n"
        "model = keras.Model(inputs, [keras.layers.Dense(1, name='zeta')(inputs), keras.layers.Dense(1, name='alpha')(inputs)])\n"
        "model.compile('sgd', loss='mse', metrics={'zeta': [keras.metrics.AUC()], 'alpha': ['mse']})\n"
        "total, z_loss, a_loss, z_auc, a_mse = model.evaluate(x, y)\n"
    )
    [finding] = lint(source, "m.py", Settings(select=("KER522",)))
    assert finding.fix is None
