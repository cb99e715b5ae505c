"""KER308/KER309/KER310 stay quiet on a class that only other Keras layers build in their own
methods. Under the real Keras 3.15.1 (JAX and TensorFlow), a registered layer that makes an
unregistered sublayer in `__init__` (without `**kwargs` or `get_config()`, with an object
argument) and another in `build` saves and reloads with the same outputs; the same class used
directly as a layer of a functional model cannot be saved and loaded. kerasfix reports the
second project and not the first. A registered subclassed model that builds the sublayer
through a module-level helper reloads too; without `get_config()` such a model cannot be saved
at all, whether its sublayers are registered or not: kerasfix leaves the sublayer alone in
both."""

from __future__ import annotations

from pathlib import Path

import pytest

from keras3_harness import RUNNER
from kerasfix.rules import Settings, lint
from project_files import write_project

INNER = '''\
import keras


class Inner(keras.layers.Layer):
    def __init__(self, units, activation=keras.activations.relu):
        super().__init__()
        self.dense = keras.layers.Dense(units)
        self.activation = activation

    def call(self, x):
        return self.activation(self.dense(x))
'''

OUTER = '''\
import keras

from inner import Inner


@keras.saving.register_keras_serializable(package="proof")
class Outer(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = Inner(units, activation=keras.activations.tanh)

    def build(self, shape):
        self.second = Inner(2)

    def call(self, x):
        return self.second(self.first(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

ROUND_TRIP = '''\
import numpy as np
import keras

from {module} import {name}

inputs = keras.Input((3,))
model = keras.Model(inputs, {name}(4)(inputs))
data = np.arange(12, dtype="float32").reshape(4, 3)
expected = np.asarray(model(data))
try:
    model.save("model.keras")
    restored = keras.models.load_model("model.keras")
    same = bool(np.allclose(np.asarray(restored(data)), expected))
    error = None
except Exception as exc:
    same, error = False, type(exc).__name__
RESULT = {{"same": same, "error": error}}
'''

FILES = {"inner.py": INNER, "outer.py": OUTER}
OWNED = ROUND_TRIP.format(module="outer", name="Outer")
DIRECT = ROUND_TRIP.format(module="inner", name="Inner")
ENVS = ("jax", "tensorflow")

pytestmark = pytest.mark.keras3(
    runs=[(env, source, FILES) for env in ENVS for source in (OWNED, DIRECT)], rule="KER308", env="jax"
)


@pytest.mark.parametrize("env", ENVS)
def test_an_owned_sublayer_reloads_and_a_direct_layer_does_not(env):
    owned = RUNNER.run(env, OWNED, FILES)
    assert owned.error is None, owned.message
    assert owned.result == {"same": True, "error": None}
    direct = RUNNER.run(env, DIRECT, FILES)
    assert direct.error is None, direct.message
    assert direct.result["same"] is False and direct.result["error"] is not None


def _project(root: Path, program: str) -> Path:
    return write_project(root, {**FILES, "program.py": program})


def test_kerasfix_reports_the_direct_use_only(tmp_path):
    settings = Settings(select=("KER308", "KER309", "KER310"))
    owned = _project(tmp_path / "owned", OWNED)
    assert lint(INNER, str(owned / "inner.py"), settings) == []
    direct = _project(tmp_path / "direct", DIRECT)
    assert sorted(f.code for f in lint(INNER, str(direct / "inner.py"), settings)) == ["KER308", "KER309", "KER310"]



# A registered subclassed model that builds the same unregistered layer through a module-level
# helper reloads with the same outputs. Without `get_config()` (a subclassed model: it defines
# `call()`), saving fails on the model itself, however its layers are registered.
NET = '''\
import keras

from inner import Inner


def make_inner(units):
    return Inner(units, activation=keras.activations.tanh)


@keras.saving.register_keras_serializable(package="proof")
class Net(keras.Model):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.first = make_inner(units)
        self.head = keras.layers.Dense(1)

    def call(self, x):
        return self.head(self.first(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units}
'''

NET_WITHOUT_CONFIG = NET.replace(
    "\n    def get_config(self):\n        return {**super().get_config(), \"units\": self.units}\n", ""
)
REGISTERED_INNER = INNER.replace("class Inner", "@keras.saving.register_keras_serializable(package=\"proof\")\nclass Inner")

NET_ROUND_TRIP = '''\
import numpy as np
import keras

from net import Net

model = Net(4)
data = np.arange(12, dtype="float32").reshape(4, 3)
expected = np.asarray(model(data))
try:
    model.save("model.keras")
    restored = keras.models.load_model("model.keras")
    RESULT = {"same": bool(np.allclose(np.asarray(restored(data)), expected)), "type": type(restored).__name__}
except NotImplementedError as exc:
    RESULT = {"error": type(exc).__name__, "names_the_model": "Object Net " in str(exc)}
'''

NET_FILES = {"inner.py": INNER, "net.py": NET}


@pytest.mark.parametrize("env", ENVS)
def test_a_layer_a_subclassed_model_builds_through_a_helper_reloads(env):
    result = RUNNER.run(env, NET_ROUND_TRIP, NET_FILES)
    assert result.error is None, result.describe()
    assert result.result == {"same": True, "type": "Net"}


@pytest.mark.parametrize("env", ENVS)
@pytest.mark.parametrize("inner", [INNER, REGISTERED_INNER], ids=["unregistered", "registered"])
def test_a_subclassed_model_without_get_config_cannot_be_saved_whatever_its_layers(env, inner):
    result = RUNNER.run(env, NET_ROUND_TRIP, {"inner.py": inner, "net.py": NET_WITHOUT_CONFIG})
    assert result.error is None, result.describe()
    assert result.result == {"error": "NotImplementedError", "names_the_model": True}


@pytest.mark.parametrize("net", [NET, NET_WITHOUT_CONFIG], ids=["get-config", "subclassed"])
def test_kerasfix_leaves_the_helper_built_layer_alone(tmp_path, net):
    settings = Settings(select=("KER308", "KER309", "KER310"))
    root = write_project(tmp_path, {"inner.py": INNER, "net.py": net, "program.py": NET_ROUND_TRIP})
    assert lint(INNER, str(root / "inner.py"), settings) == []


# An owner whose config serializes an object it was given (a Keras layer passed in), and builds
# the unregistered sublayer itself: reloads. The same owner serializing the sublayer it built
# cannot be reloaded without registering it.
WRAP = '''\
import keras

from inner import Inner


@keras.saving.register_keras_serializable(package="proof")
class Wrap(keras.layers.Layer):
    def __init__(self, units, encoder=None, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.encoder = encoder if encoder is not None else keras.layers.Dense(units)
        self.block = Inner(units)

    def call(self, x):
        return self.block(self.encoder(x))

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "encoder": keras.saving.serialize_keras_object(self.encoder)}

    @classmethod
    def from_config(cls, config):
        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])
        return cls(**config)
'''
WRAP_SERIALIZING_BLOCK = WRAP.replace(
    '"encoder": keras.saving.serialize_keras_object(self.encoder)}',
    '"encoder": keras.saving.serialize_keras_object(self.encoder),\n'
    '                "block": keras.saving.serialize_keras_object(self.block)}',
).replace(
    '        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])\n',
    '        config["encoder"] = keras.saving.deserialize_keras_object(config["encoder"])\n'
    '        block = keras.saving.deserialize_keras_object(config.pop("block"))\n'
    '        layer = cls(**config)\n        layer.block = block\n        return layer\n',
)
WRAPPED = ROUND_TRIP.format(module="wrap", name="Wrap")


@pytest.mark.parametrize("env", ENVS)
def test_an_owner_serializing_only_what_it_was_given_reloads_its_built_sublayer(env):
    given = RUNNER.run(env, WRAPPED, {"inner.py": INNER, "wrap.py": WRAP})
    assert given.error is None, given.message
    assert given.result == {"same": True, "error": None}
    built = RUNNER.run(env, WRAPPED, {"inner.py": INNER, "wrap.py": WRAP_SERIALIZING_BLOCK})
    assert built.error is None, built.message
    assert built.result["same"] is False and built.result["error"] is not None


def test_kerasfix_reports_the_sublayer_only_where_its_owner_serializes_it(tmp_path):
    settings = Settings(select=("KER308",))
    given = write_project(tmp_path / "given", {"inner.py": INNER, "wrap.py": WRAP, "program.py": WRAPPED})
    assert lint(INNER, str(given / "inner.py"), settings) == []
    built = write_project(
        tmp_path / "built", {"inner.py": INNER, "wrap.py": WRAP_SERIALIZING_BLOCK, "program.py": WRAPPED}
    )
    assert [f.code for f in lint(INNER, str(built / "inner.py"), settings)] == ["KER308"]
