"""KER7xx: random ops and seeds."""

import math

from . import Case, raises, result_shows

# A Keras 2 layer drawing its noise with TensorFlow's stateful random op.
TF_NOISE_LAYER = '''
import numpy as np
import tensorflow as tf
import keras


class Noise(keras.layers.Layer):
    def __init__(self, rate, **kwargs):
        super().__init__(**kwargs)
        self.rate = rate

    def call(self, x):
        return x + tf.random.normal(tf.shape(x), stddev=self.rate)
'''

CASES = [
    Case(
        "KER701",
        "tf-random-normal-in-call",
        TF_NOISE_LAYER + '''

model = keras.Sequential([keras.Input((1000,)), Noise(0.5)])
noise = model.predict(np.zeros((4, 1000), "float32"), verbose=0)
RESULT = [float(noise.mean()), float(noise.std())]
''',
        # JAX's tracer refuses TensorFlow's conversion with this obscure message.
        raises("AttributeError", "'str' object has no attribute '_error_repr'"),
        envs=("tf-jax",),
        unsafe=True,
        fixed_check=result_shows(
            "noise of mean 0 and std 0.5", lambda r: abs(r[0]) < 0.05 and abs(r[1] - 0.5) < 0.05
        ),
    ),
    Case(
        "KER701",
        "tf-random-normal-in-fit-on-torch",
        TF_NOISE_LAYER + '''

x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), Noise(0.1), keras.layers.Dense(1)])
model.compile(optimizer="sgd", loss="mse")
RESULT = model.fit(x, x.sum(axis=1, keepdims=True), epochs=2, verbose=0).history["loss"]
''',
        # predict() runs on PyTorch (TensorFlow reads the tensor through NumPy), but in fit the
        # input of the op needs gradients and cannot be handed to TensorFlow.
        raises("RuntimeError", "Can't call numpy() on Tensor that requires grad"),
        envs=("tf-torch",),
        unsafe=True,
        fixed_check=result_shows("two finite losses", lambda r: len(r) == 2 and all(math.isfinite(v) for v in r)),
    ),
    Case(
        "KER701",
        "tf-random-normal-works-on-tensorflow",
        TF_NOISE_LAYER + '''

def run():
    keras.utils.set_random_seed(7)
    x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8), Noise(0.1), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    losses = model.fit(x, x.sum(axis=1, keepdims=True), epochs=2, verbose=0).history["loss"]
    first = np.asarray(model.layers[1](np.zeros((2, 1000), "float32")))
    second = np.asarray(model.layers[1](np.zeros((2, 1000), "float32")))
    return [losses, round(float(first.std()), 2), bool((first != second).any())]


RESULT = [run(), run()]
''',
        # The TensorFlow backend runs the op in its own graph: the rule is quiet there.
        result_shows(
            "training, fresh noise of std 0.1 on every call, the same run after the same seed",
            lambda r: r[0] == r[1] and r[0][1:] == [0.1, True] and len(r[0][0]) == 2,
        ),
        envs=("tensorflow",),
    ),
    Case(
        "KER702",
        "tf-set-seed-on-jax",
        '''
import tensorflow as tf
import keras


def weights():
    tf.random.set_seed(42)
    layer = keras.layers.Dense(3)
    layer.build((None, 2))
    return layer.get_weights()[0].tolist()


RESULT = [weights(), weights()]
''',
        result_shows("different weights after the same seed", lambda r: r[0] != r[1]),
        # Keras's own generator is left unseeded on the TensorFlow backend too.
        envs=("tf-jax", "tensorflow", "tf-torch"),
        fixed_check=result_shows("the same weights after the same seed", lambda r: r[0] == r[1]),
    ),
    Case(
        "KER703",
        "unseeded-random-in-call",
        '''
import numpy as np
import keras
from keras import ops


class Noise(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def call(self, x):
        return x + keras.random.normal(ops.shape(x))


model = keras.Sequential([keras.Input((1000,)), Noise()])
first = model.predict(np.zeros((2, 1000), "float32"), verbose=0)
second = model.predict(np.zeros((2, 1000), "float32"), verbose=0)
RESULT = [float(first.std()), bool((first != second).any())]
''',
        raises("ValueError", "[JAX RNG] When tracing a JAX function, you should only use seeded random ops"),
        envs=("jax",),
        unsafe=True,
        fixed_check=result_shows(
            "unit noise, new on every call", lambda r: abs(r[0] - 1.0) < 0.1 and r[1] is True
        ),
    ),
    Case(
        "KER704",
        "int-seed-in-call",
        '''
import numpy as np
import keras
from keras import layers, random


class Drop(layers.Layer):
    def call(self, x):
        return random.dropout(x, 0.5, seed=1337)


model = keras.Sequential([keras.Input((100,)), Drop()])
first = model.predict(np.ones((2, 100), "float32"), verbose=0)
second = model.predict(np.ones((2, 100), "float32"), verbose=0)
RESULT = bool((first == second).all())
''',
        result_shows("the same dropout mask on every call", lambda r: r is True),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows("a new mask on every call", lambda r: r is False),
    ),
]
