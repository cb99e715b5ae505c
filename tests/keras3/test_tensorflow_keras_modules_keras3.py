"""What the engine assumes of a module that takes Keras from TensorFlow inside a project
written for Keras 3 (`backend_scope`), under the real packages:

- the APIs whose use marks a module as written for Keras 3 (`project.KERAS_3_APIS`) are in
  Keras 3.15.1 and 3.0.5 (`keras.tree` from 3.1 on), and in no Keras 2 (tf-keras 2.21, which TensorFlow serves as
  `tf.keras` under TF_USE_LEGACY_KERAS=1);
- with Keras 3, `tf.keras` is Keras 3 on the TensorFlow backend: its classes are Keras 3's, and
  a layer written with them and TensorFlow ops computes in a Keras 3 model what NumPy does. Such
  a module is TensorFlow-backend code, not Keras 2 code to migrate."""

from __future__ import annotations

import pytest

from keras3_harness import RUNNER
from kerasfix.rules.engine.project import KERAS_3_APIS

PROGRAM = f'''
import os

if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    import tf_keras as keras
else:
    import keras

APIS = {[api.partition(".")[2] for api in KERAS_3_APIS if api.startswith("keras.")]!r}
RESULT = {{
    "keras": keras.__version__,
    "apis": {{api: hasattr(keras, api) for api in APIS}},
}}
try:
    import numpy as np
    import tensorflow as tf
    from tensorflow import keras as tf_keras
except ImportError:  # the Keras 3.0 venv for JAX has no TensorFlow
    pass
else:
    RESULT["same_layer_class"] = tf_keras.layers.Layer is keras.layers.Layer

    class PairConcat(tf_keras.layers.Layer):
        def call(self, a, b):
            return tf.concat([a, tf.reshape(b, tf.shape(a))], axis=-1)

    a = keras.Input((3,))
    b = keras.Input((3,))
    model = keras.Model([a, b], PairConcat()(a, b))
    x = np.arange(6, dtype="float32").reshape(2, 3)
    y = np.ones((2, 3), dtype="float32")
    RESULT["same_numbers"] = bool(np.allclose(model.predict([x, y], verbose=0), np.concatenate([x, y], axis=-1)))
    RESULT["backend"] = keras.backend.backend()
'''

ENVS = {"tensorflow": True, "keras3.0-jax": True, "tf-keras": False}

# No `keras3` mark: these runs prove no rule's claim (rules/data/checked.toml), only what the
# engine's reading of a project rests on.


@pytest.mark.parametrize("env", ENVS)
def test_keras_3_apis_and_tensorflow_keras_under_real_keras(env):
    result = RUNNER.run(env, PROGRAM)
    assert result.ok, result.describe()
    keras_3 = ENVS[env]
    answer = result.result
    assert answer["keras"].startswith("3." if keras_3 else "2."), answer
    # `keras.tree` came with Keras 3.1: the one API the 3.0 venv lacks, and still in no Keras 2.
    expected = {api: keras_3 and not (api == "tree" and answer["keras"].startswith("3.0.")) for api in answer["apis"]}
    assert answer["apis"] == expected
    assert len(answer["apis"]) == len(KERAS_3_APIS) - 1  # every one but the `keras_core` package
    if env == "tensorflow":
        assert answer["same_layer_class"] is True
        assert answer["same_numbers"] is True
        assert answer["backend"] == "tensorflow"
    elif env == "tf-keras":
        # Keras 2 runs the same layer too: the module is not what tells Keras 2 code apart.
        assert answer["same_numbers"] is True


SHIM_PROGRAM = '''
import numpy as np
import tensorflow as tf
import keras

k = tf.keras
x = np.arange(6, dtype="float32").reshape(2, 3)
zeros = np.zeros((2, 3), dtype="float32")


def name_scope():
    with k.backend.name_scope("block"):
        return float(keras.ops.sum(x)) == 15.0


def binary_crossentropy():
    target, output = np.array([[0.0, 1.0]], "float32"), np.array([[0.2, 0.7]], "float32")
    expected = -(target * np.log(output) + (1 - target) * np.log(1 - output))
    return bool(np.allclose(k.backend.binary_crossentropy(target, output), expected, atol=1e-6))


def random_size_layers():
    model = keras.Sequential([keras.Input((4, 4, 1)), k.layers.RandomWidth(0.2), k.layers.RandomHeight(0.2)])
    return tuple(model(np.ones((1, 4, 4, 1), "float32"), training=False).shape) == (1, 4, 4, 1)


def reduction():
    legacy = keras.losses.MeanSquaredError(reduction=k.losses.Reduction.SUM)(zeros, x)
    return float(legacy) == float(keras.losses.MeanSquaredError(reduction="sum")(zeros, x))


def loss_alias():
    return bool(np.allclose(k.losses.mse(zeros, x), keras.losses.mean_squared_error(zeros, x)))


def reduction_auto():
    try:
        keras.losses.MeanSquaredError(reduction=k.losses.Reduction.AUTO)(zeros, x)
    except ValueError:
        return "ValueError"
    return True


def thresholded_relu():
    values = np.array([[-1.0, 0.5, 2.0]], "float32")
    return bool(np.allclose(k.layers.ThresholdedReLU(theta=1.0)(values), [[0.0, 0.0, 2.0]]))


def tokenizer():
    words = k.preprocessing.text.Tokenizer()
    words.fit_on_texts(["a b b"])
    return words.texts_to_sequences(["b a"]) == [[1, 2]]


def image_data_generator():
    images = np.arange(2 * 4 * 4 * 1, dtype="float32").reshape(2, 4, 4, 1)
    batch = next(k.preprocessing.image.ImageDataGenerator(rescale=0.5).flow(images, batch_size=2, shuffle=False))
    return bool(np.allclose(batch, images * 0.5))


def set_value():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    try:
        k.backend.set_value(model.optimizer.learning_rate, 1e-4)
    except AttributeError:
        return "AttributeError"
    return True


RESULT = {
    f.__name__: f()
    for f in (
        name_scope, binary_crossentropy, random_size_layers, reduction, loss_alias, reduction_auto, thresholded_relu,
        tokenizer, image_data_generator, set_value,
    )
}
'''


def test_names_tf_keras_still_serves_work_on_tensorflow_except_the_setters():
    """What `rules/imports/_common.shim_backends` rests on: spelled through `tf.keras`, these
    Keras 2 names compute on Keras 3's TensorFlow backend what Keras 3's own API does (or Keras 2
    did); the setters fail on a Keras 3 variable, and `Reduction.AUTO` in a Keras 3 loss."""
    result = RUNNER.run("tensorflow", SHIM_PROGRAM)
    assert result.ok, result.describe()
    assert result.result == {
        "name_scope": True,
        "binary_crossentropy": True,
        "random_size_layers": True,
        "reduction": True,
        "loss_alias": True,
        "reduction_auto": "ValueError",
        "thresholded_relu": True,
        "tokenizer": True,
        "image_data_generator": True,
        "set_value": "AttributeError",
    }
