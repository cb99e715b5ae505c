"""A layer that sets `self._convert_input_args = False` is called with its inputs as they come:
its TensorFlow ops run on every backend, in a `tf.data` pipeline and eagerly, as Keras's own
`TextVectorization` does. Under the real Keras 3.15.1 the same layer gives the same numbers on
JAX, PyTorch and TensorFlow; without the attribute, its `tf.data` use fails on JAX and PyTorch.
kerasfix reports the TensorFlow ops of the second layer only."""

from __future__ import annotations

import pytest

from keras3_harness import RUNNER
from kerasfix.rules import Settings, lint

LAYER = '''\
import numpy as np
import tensorflow as tf
import keras


class Augment(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self._convert_input_args = False
        self._allow_non_tensor_positional_args = True

    def call(self, images):
        images = tf.convert_to_tensor(images)
        flipped = tf.image.flip_left_right(images)
        return tf.cast(flipped, "float32") * tf.reduce_mean(images)
'''

CONVERTING = LAYER.replace(
    "        self._convert_input_args = False\n        self._allow_non_tensor_positional_args = True\n", ""
)

PROGRAM = '''

data = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
layer = Augment()
try:
    batches = tf.data.Dataset.from_tensor_slices(data).batch(2).map(layer)
    piped = np.concatenate([np.asarray(batch) for batch in batches])
    RESULT = {"piped": piped.ravel().tolist(), "eager": np.asarray(layer(data)).ravel().tolist()}
except NotImplementedError as exc:
    RESULT = {"error": type(exc).__name__}
'''

KEEPING, PLAIN = LAYER + PROGRAM, CONVERTING + PROGRAM
ENVS = ("tensorflow", "tf-jax", "tf-torch")

pytestmark = pytest.mark.keras3(
    runs=[(env, source, None) for env in ENVS for source in (KEEPING, PLAIN)], rule="KER201", env="tf-jax"
)


def test_the_layer_gives_the_same_numbers_on_every_backend():
    results = {env: RUNNER.run(env, KEEPING) for env in ENVS}
    for env, result in results.items():
        assert result.error is None, (env, result.message)
    reference = results["tensorflow"].result
    assert reference["piped"] == reference["eager"]
    for env in ("tf-jax", "tf-torch"):
        assert results[env].result == reference, env


@pytest.mark.parametrize("env", ["tf-jax", "tf-torch"])
def test_without_the_attribute_the_pipeline_fails(env):
    result = RUNNER.run(env, PLAIN)
    assert result.error is None, result.message
    assert result.result == {"error": "NotImplementedError"}


def test_kerasfix_reports_only_the_converting_layer():
    settings = Settings(select=("KER2",))
    assert [f.code for f in lint(KEEPING, "keeping.py", settings)] == []
    found = lint(PLAIN, "plain.py", settings)
    # The four TensorFlow calls of `call()` (0-based lines 10 to 12).
    assert sorted(f.span.start_pos.line for f in found if f.code == "KER201") == [10, 11, 12, 12]
