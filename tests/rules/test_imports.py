"""The import rules (KER1xx) together with every other rule: which rule owns which path, and
what a whole Keras 2 module becomes."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.imports._common import exists, owner, row_for, rows, tf_keras_only
from kerasfix.rules.registry import rule_by_code

MY_FAMILIES = ("KER1", "KER6")
KERAS3_PYTHON = Path("/tmp/k3/bin/python")


def mine(findings):
    return [f for f in findings if f.code.startswith(MY_FAMILIES)]


@pytest.mark.parametrize("path", sorted(rows()))
def test_every_row_belongs_to_a_rule_and_is_absent_from_keras3(path):
    row = rows()[path]
    assert rule_by_code(row.code) is not None
    # `optimizers.legacy` is the one namespace Keras 3 keeps, as stubs that raise.
    assert not exists(path) or path == "optimizers.legacy"
    if row.to is not None:
        assert exists(row.to), f"{path} -> {row.to}, which Keras 3 does not have"


@pytest.mark.parametrize("path", sorted(rows()))
def test_one_rule_reports_a_tf_keras_chain_of_each_row(path):
    source = f"import tensorflow as tf\nx = tf.keras.{path}\n"
    found = mine(lint(source, "a.py", Settings()))
    chain = source.index("tf.keras")
    at_chain = [f for f in found if f.span.start == chain]
    assert [f.code for f in at_chain] == [rows()[path].code]


@pytest.mark.parametrize("path", sorted(tf_keras_only() - {p for p in tf_keras_only() if row_for(p)}))
def test_names_only_the_tf_keras_shim_has_are_never_rewritten(path):
    module, _, name = path.rpartition(".")
    source = f"from tensorflow.keras.{module} import {name}\n" if module else f"from tensorflow.keras import {name}\n"
    findings = lint(source, "a.py", Settings())
    assert {f.code for f in mine(findings)} >= {"KER103"}
    assert fix(source, "a.py", Settings(), unsafe=True).source == source


def test_owner_prefers_the_most_specific_row():
    assert owner("layers.experimental.SyncBatchNormalization", "tf.keras") == "KER608"
    assert owner("layers.experimental.preprocessing.RandomFlip", "tf.keras") == "KER105"
    assert owner("layers.Dense", "tf.keras") is None
    assert owner("backend.int_shape", "tf.keras") == "KER103"
    assert owner("layers.Dense", "tf.python.keras") == "KER102"


def test_a_from_import_mixing_shim_only_names_is_not_rewritten():
    source = "from tensorflow.keras.losses import Loss, Reduction, mse\n"
    findings = mine(lint(source, "a.py", Settings()))
    ker101 = [f for f in findings if f.code == "KER101"]
    assert len(ker101) == 1 and ker101[0].fix is None
    assert "`Reduction`" in ker101[0].message and "`mse`" in ker101[0].message
    assert "`Loss`" not in ker101[0].message


def test_tf_keras_import_rewrite_waits_for_a_free_keras_name():
    # `keras` is bound to tf.keras until its import is fixed; the chain is fixed a pass later.
    source = "import tensorflow as tf\nfrom tensorflow import keras\nx = tf.keras.layers.Dense(1)\n"
    first = lint(source, "a.py", Settings(select=("KER101",)))
    chain = [f for f in first if source[f.span.start : f.span.end] == "tf.keras.layers.Dense"]
    assert len(chain) == 1 and chain[0].fix is None
    result = fix(source, "a.py", Settings(select=("KER101",))).source
    assert result == "import tensorflow as tf\nimport keras\nx = keras.layers.Dense(1)\n"


def test_unconditional_tensorflow_import_is_quiet_for_tensorflow_only_projects():
    source = "import keras\nimport tensorflow as tf\n"
    assert [f.code for f in lint(source, "a.py", Settings(select=("KER107",)))] == ["KER107"]
    tf_only = Settings(select=("KER107",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "a.py", tf_only) == []


KERAS2_MODULE = '''\
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers, losses
from tensorflow.keras.layers import Dense, Dropout
from tensorflow.keras.layers.experimental.preprocessing import Rescaling, RandomFlip
from tensorflow.keras.utils.np_utils import to_categorical
from tensorflow.keras.optimizers.legacy import Adam
from keras.engine.base_layer import Layer

tf.keras.mixed_precision.experimental.set_policy("float32")


class Twice(Layer):
    def call(self, x):
        return x * 2


model = tf.keras.Sequential([
    Rescaling(1 / 255),
    RandomFlip("horizontal"),
    tf.keras.layers.experimental.preprocessing.RandomRotation(0.1),
    layers.Flatten(),
    Dense(16),
    layers.ThresholdedReLU(theta=0.5),
    tf.keras.layers.ThresholdedReLU(),
    Dropout(0.1),
    Twice(),
    Dense(3),
])
opt = Adam(lr=1e-3, decay=1e-4)
loss = losses.MeanSquaredError(reduction=tf.keras.losses.Reduction.NONE)
model.compile(optimizer=opt, loss=losses.mse, metrics=[tf.keras.metrics.mae])
y = to_categorical(np.array([0, 1, 2]))
RESULT = list(model(np.ones((2, 8, 8, 3), dtype="float32")).shape)
'''

KERAS3_MODULE = '''\
import numpy as np
import tensorflow as tf
import keras
from keras import layers, losses
from keras.layers import Dense, Dropout
from keras.layers import Rescaling, RandomFlip
from keras.utils import to_categorical
from keras.optimizers import Adam
from keras.layers import Layer
from keras import mixed_precision

mixed_precision.set_global_policy("float32")


class Twice(Layer):
    def call(self, x):
        return x * 2


model = keras.Sequential([
    Rescaling(1 / 255),
    RandomFlip("horizontal"),
    keras.layers.RandomRotation(0.1),
    layers.Flatten(),
    Dense(16),
    layers.ReLU(threshold=0.5),
    keras.layers.ReLU(threshold=1.0),
    Dropout(0.1),
    Twice(),
    Dense(3),
])
opt = Adam(learning_rate=keras.optimizers.schedules.InverseTimeDecay(1e-3, decay_steps=1, decay_rate=1e-4))
loss = losses.MeanSquaredError(reduction="none")
model.compile(optimizer=opt, loss=losses.mean_squared_error, metrics=[keras.metrics.mean_absolute_error])
y = to_categorical(np.array([0, 1, 2]))
RESULT = list(model(np.ones((2, 8, 8, 3), dtype="float32")).shape)
'''


def _only_my_rules() -> Settings:
    return Settings(select=MY_FAMILIES)


def test_a_keras2_module_becomes_keras3():
    result = fix(KERAS2_MODULE, "model.py", _only_my_rules(), unsafe=True)
    assert result.source == KERAS3_MODULE
    # Only the TensorFlow import is left: it is reported, and has no fix.
    assert [(f.code, f.fix) for f in mine(result.remaining)] == [("KER107", None)]


def test_safe_fixes_alone_leave_the_unsafe_decay_rewrite():
    result = fix(KERAS2_MODULE, "model.py", _only_my_rules(), unsafe=False).source
    assert "decay=1e-4" in result
    assert "tf.keras" not in result


@pytest.mark.skipif(not KERAS3_PYTHON.exists(), reason="needs the Keras 3 + JAX venv")
def test_the_fixed_module_runs_on_keras3_with_jax(tmp_path):
    program = tmp_path / "model.py"
    # The venv has no TensorFlow: the one line KER107 reports is what is left to remove.
    program.write_text(KERAS3_MODULE.replace("import tensorflow as tf\n", "") + "print(RESULT)\n")
    env = dict(os.environ, KERAS_BACKEND="jax")
    run = subprocess.run([str(KERAS3_PYTHON), str(program)], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[2, 3]"


def test_keras2_program_fails_on_keras3_before_the_fix():
    # A guard against a vacuous test above: the original does use removed APIs.
    assert {f.code for f in mine(lint(KERAS2_MODULE, "model.py", _only_my_rules()))} >= {
        "KER101", "KER102", "KER105", "KER109", "KER111", "KER112", "KER601", "KER602", "KER606", "KER607", "KER608",
    }
