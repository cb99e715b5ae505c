"""Whole programs under the real Keras 3: the shipped Keras 2 training script before and after
`kerasfix check --fix --unsafe-fixes`, the JAX custom steps of the Keras guide, and a Flax NNX
model with a list of layers saved and restored with Orbax."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from keras3_harness import RUNNER, kerasfix_cli
from kerasfix.rules import Settings, lint

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
KERAS2_SCRIPT = EXAMPLES / "keras2_training.py"
JAX_STEPS = EXAMPLES / "jax_custom_steps.py"


def fixed_by_cli(script: Path, tmp_path: Path) -> str:
    copy = tmp_path / script.name
    shutil.copy(script, copy)
    done = kerasfix_cli("check", "--fix", "--unsafe-fixes", copy.name, cwd=tmp_path)
    # Exit 0: every finding was fixed (1 would mean some remain; 2 an error).
    assert done.returncode == 0, done.stdout + done.stderr
    return copy.read_text(encoding="utf-8")


def test_keras2_script_fails_under_keras3():
    """The shipped script is real Keras 2: Keras 3 (through tf.keras) stops at `lr=`."""
    result = RUNNER.run("tensorflow", KERAS2_SCRIPT.read_text(encoding="utf-8"))
    assert result.error == "ValueError" and "Argument(s) not recognized: {'lr': 0.01}" in result.message, (
        result.describe()
    )


def test_fixed_keras2_script_runs_on_jax_without_tensorflow(tmp_path):
    fixed = fixed_by_cli(KERAS2_SCRIPT, tmp_path)
    result = RUNNER.run("jax", fixed)
    assert result.ok, f"{fixed}\n{result.describe()}"
    assert "reload check passed" in result.stdout


def test_jax_venv_has_no_tensorflow():
    result = RUNNER.run("jax", "import importlib.util\nRESULT = importlib.util.find_spec('tensorflow') is None")
    assert result.ok and result.result is True, result.describe()


def test_jax_custom_steps_of_the_guide_are_clean_and_train():
    source = JAX_STEPS.read_text(encoding="utf-8")
    assert [f.code for f in lint(source, JAX_STEPS.name, Settings())] == []
    result = RUNNER.run("jax", source)
    assert result.ok, result.describe()
    losses = result.result["loss"]
    assert losses[-1] < losses[0] / 4, losses
    # The custom loss tracker is what History shows: not the 0.0 of an untouched tracker.
    assert all(loss > 0.0 for loss in losses)
    assert set(result.result["evaluation"]) == {"loss", "mae"}


KERAS2_STEP = '''
import numpy as np
import tensorflow as tf
import keras


class CustomModel(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}


inputs = keras.Input(shape=(4,))
model = CustomModel(inputs, keras.layers.Dense(1)(inputs))
model.compile(optimizer="adam", loss="mse")
history = model.fit(np.ones((8, 4), "float32"), np.ones((8, 1), "float32"), verbose=0)
'''


@pytest.mark.keras3(runs=[], rule="KER501", env="tf-jax", phase="program")
def test_keras2_train_step_is_reported_and_fails_on_jax():
    codes = {f.code for f in lint(KERAS2_STEP, "step.py", Settings())}
    assert {"KER501", "KER502"} <= codes, codes
    result = RUNNER.run("tf-jax", KERAS2_STEP)
    assert result.error == "TypeError" and "train_step() takes 2 positional arguments but 3 were given" in (
        result.message
    ), result.describe()


NNX_PROGRAM = '''
from pathlib import Path

import jax
import jax.numpy as jnp
import orbax.checkpoint as ocp
from flax import nnx


class Stack(nnx.Module):
    """A model that keeps its layers in a list: its state has integer keys."""

    def __init__(self, rngs):
        self.layers = nnx.List([nnx.Linear(3, 3, rngs=rngs) for _ in range(3)])

    def __call__(self, x):
        for layer in self.layers:
            x = jax.nn.relu(layer(x))
        return x


def save(model, path):
    _, state = nnx.split(model)
    checkpointer = ocp.StandardCheckpointer()
    checkpointer.save(path, nnx.to_pure_dict(state))
    checkpointer.wait_until_finished()


def load(path):
    model = Stack(nnx.Rngs(1))
    checkpointer = ocp.StandardCheckpointer()
    restored = checkpointer.restore(path)
    nnx.update(model, restored)
    return model


x = jnp.linspace(-1.0, 1.0, 6).reshape(2, 3)
model = Stack(nnx.Rngs(0))
path = Path.cwd() / "state"  # the run's working folder, removed after it
save(model, path)
restored = load(path)
RESULT = [model(x).tolist(), restored(x).tolist()]
'''

# The rule's "Use instead": convert Orbax's string keys back to the list indices.
NNX_INT_KEYS = '''
def int_keys(tree):
    return {int(k) if isinstance(k, str) and k.isdigit() else k:
            int_keys(v) if isinstance(v, dict) else v for k, v in tree.items()}


def load'''


@pytest.mark.keras3(runs=[], rule="KER803", env="nnx", phase="program")
def test_nnx_orbax_round_trip_with_integer_keys():
    assert "KER803" in {f.code for f in lint(NNX_PROGRAM, "nnx.py", Settings())}
    before = RUNNER.run("nnx", NNX_PROGRAM)
    # Flax 0.12.8: nnx.update raises on the string keys (the rule's docs: older Flax skipped them).
    assert before.error == "KeyError" and "Invalid key: 0" in before.message, before.describe()

    after_source = NNX_PROGRAM.replace("def load", NNX_INT_KEYS, 1).replace(
        "nnx.update(model, restored)", "nnx.update(model, int_keys(restored))"
    )
    assert "KER803" not in {f.code for f in lint(after_source, "nnx.py", Settings())}
    after = RUNNER.run("nnx", after_source)
    assert after.ok, after.describe()
    original, reloaded = after.result
    assert original == reloaded


def test_nnx_replace_by_pure_dict_converts_integer_keys_in_flax_0_12():
    """KER803 also reports `replace_by_pure_dict(restored)`: it fails on Flax before #4317 only.
    On Flax 0.12.8 the round trip works; the finding is a portability warning there."""
    source = NNX_PROGRAM.replace(
        """    model = Stack(nnx.Rngs(1))
    checkpointer = ocp.StandardCheckpointer()
    restored = checkpointer.restore(path)
    nnx.update(model, restored)
    return model""",
        """    graphdef, state = nnx.split(Stack(nnx.Rngs(1)))
    checkpointer = ocp.StandardCheckpointer()
    restored = checkpointer.restore(path)
    state.replace_by_pure_dict(restored)
    return nnx.merge(graphdef, state)""",
    )
    assert "KER803" in {f.code for f in lint(source, "nnx.py", Settings())}
    result = RUNNER.run("nnx", source)
    assert result.ok, result.describe()
    original, reloaded = result.result
    assert original == reloaded


def test_version_gates_hold_on_the_newest_keras():
    """KER420 and KER508 are quiet from Keras 3.4 / 3.5 on (`fixed_in`): there the programs
    they report on 3.0 run."""
    from keras3_cases.registry import ALL_CASES

    gated = [case for case in ALL_CASES if case.rule in ("KER420", "KER508")]
    assert {case.rule for case in gated} == {"KER420", "KER508"}
    for case in gated:
        assert case.rule not in {f.code for f in lint(case.before, "case.py", Settings())}
        result = RUNNER.run("jax", case.before)
        assert result.ok, result.describe()


# Code the rules leave quiet because it works on Keras 3: each program runs on every backend,
# and the result shows the point (the loss counted, the layer reloaded with its name ...).
QUIET = {
    "add-loss-in-a-helper-that-call-runs": (
        "KER407",
        '''
import numpy as np
import keras


class Pool(keras.layers.Layer):
    def call(self, x):
        return self.select(x)

    def select(self, x):
        self.add_loss(keras.ops.mean(x))
        return x


layer = Pool()
layer(np.full((2, 3), 2.0, "float32"))
RESULT = [float(keras.ops.convert_to_numpy(loss)) for loss in layer.losses]
''',
        [2.0],
    ),
    "init-taking-the-base-config-keys": (
        "KER309",
        '''
import numpy as np
import keras


@keras.saving.register_keras_serializable()
class Scale(keras.layers.Layer):
    def __init__(self, factor, name=None, trainable=True, dtype=None):
        super().__init__(name=name, trainable=trainable, dtype=dtype)
        self.factor = factor

    def call(self, x):
        return x * self.factor

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


model = keras.Sequential([keras.Input((2,)), Scale(3.0, name="triple")])
model.save("model.keras")
restored = keras.models.load_model("model.keras")
RESULT = [restored.layers[-1].name, restored.predict(np.ones((1, 2)), verbose=0).tolist()]
''',
        ["triple", [[3.0, 3.0]]],
    ),
    "embedding-input-dim": (
        "KER413",
        '''
import numpy as np
import keras

emb = keras.layers.Embedding(input_dim=10, output_dim=2, embeddings_initializer="ones")
RESULT = keras.ops.convert_to_numpy(emb(np.array([[1, 9]]))).tolist()
''',
        [[[1.0, 1.0], [1.0, 1.0]]],
    ),
}


@pytest.mark.parametrize("name", sorted(QUIET))
def test_code_the_rules_leave_quiet_runs_on_every_backend(name):
    code, program, expected = QUIET[name]
    assert code not in {f.code for f in lint(program, "quiet.py", Settings())}
    for env in ("jax", "tensorflow", "torch"):
        result = RUNNER.run(env, program)
        assert result.ok, result.describe()
        assert result.result == expected, (env, result.result)


ADDONS_COUNTERPARTS = '''
import numpy as np
import keras

y_true = np.array([[1.0, 0.0, 1.0], [0.0, 0.0, 1.0]], "float32")
y_pred = np.array([[0.8, 0.3, 0.6], [0.1, 0.7, 0.9]], "float32")
# TensorFlow Addons' sigmoid_focal_crossentropy (alpha 0.25, gamma 2), written out from its
# source: the sum over the last axis of alpha_factor * (1 - p_t) ** gamma * binary crossentropy.
p = np.clip(y_pred, 1e-7, 1 - 1e-7)
ce = -(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))
p_t = y_true * y_pred + (1 - y_true) * (1 - y_pred)
alpha_factor = y_true * 0.25 + (1 - y_true) * 0.75
tfa_focal = np.sum(alpha_factor * (1 - p_t) ** 2 * ce, axis=-1)
keras_focal = keras.ops.convert_to_numpy(
    keras.losses.binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=True, alpha=0.25)
)
# tfa's gelu defaulted to the tanh approximation.
x = np.linspace(-3, 3, 7).astype("float32")
tfa_gelu = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
keras_gelu = keras.ops.convert_to_numpy(keras.activations.gelu(x, approximate=True))
RESULT = [
    bool(np.allclose(keras_focal * y_true.shape[-1], tfa_focal, atol=1e-5)),
    bool(np.allclose(keras_gelu, tfa_gelu, atol=1e-5)),
]
'''


def test_addons_counterparts_give_addons_numbers_with_the_noted_arguments():
    """KER106's notes: `BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.25)` is
    tfa's weighting, averaged where tfa summed over the last axis; `gelu(approximate=True)` is
    tfa's default gelu."""
    for env in ("jax", "tensorflow", "torch"):
        result = RUNNER.run(env, ADDONS_COUNTERPARTS)
        assert result.ok, result.describe()
        assert result.result == [True, True], (env, result.result)
