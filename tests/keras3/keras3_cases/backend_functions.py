"""KER221 on the `keras.backend` functions whose table rows carry a fix: the Keras 2 program
fails on Keras 3, and its fixed version computes what Keras 2.15's own `keras.backend`
computes. That reference is the real Keras 2 code: `keras2(program)` runs the program with
`K` loaded from the tf-keras 2.15 source (tests/corpora.py downloads it) on TensorFlow."""

from __future__ import annotations

from keras3_harness import CACHE

from . import Case, raises, result_shows

TF_KERAS_2_15 = CACHE / "corpora" / "tf-keras" / "tf_keras-2.15.0"
KERAS2_IMPORT = "from keras import backend as K\n"
# Keras 2.15's tf_keras/src/backend.py needs a few tf_keras modules, not the package's
# __init__ (which registers TF 2.15 internals): empty parent packages that find the
# submodules in the source tree, and a stand-in for dtensor_api (only used with DTensor).
KERAS2_LOADER = f'''
import importlib as _importlib
import os as _os
import sys as _sys
import types as _types


def _keras2_backend(root):
    if not _os.path.isdir(root):
        raise FileNotFoundError(f"{{root}}: run python tests/corpora.py to download tf-keras 2.15")
    for name in ("tf_keras", "tf_keras.src", "tf_keras.src.engine", "tf_keras.src.utils",
                 "tf_keras.src.distribute", "tf_keras.src.dtensor"):
        package = _types.ModuleType(name)
        package.__path__ = [_os.path.join(root, *name.split("."))]
        _sys.modules[name] = package
    stub = _types.ModuleType("tf_keras.src.dtensor.dtensor_api")
    _sys.modules[stub.__name__] = stub
    _sys.modules["tf_keras.src.dtensor"].dtensor_api = stub
    return _importlib.import_module("tf_keras.src.backend")


K = _keras2_backend({str(TF_KERAS_2_15)!r})
'''


def keras2(program: str) -> str:
    """The program with `K` the real Keras 2.15 `keras.backend`."""
    assert KERAS2_IMPORT in program
    return program.replace(KERAS2_IMPORT, KERAS2_LOADER, 1)


SAFE_FUNCTIONS = '''
import numpy as np
import keras
from keras import backend as K

rng = np.random.default_rng(0)
images = keras.ops.convert_to_tensor(rng.normal(size=(2, 7, 7, 3)).astype("float32"))
volume = keras.ops.convert_to_tensor(rng.normal(size=(1, 5, 5, 5, 2)).astype("float32"))
kernel = rng.normal(size=(3, 3, 3, 4)).astype("float32")
kernel3d = rng.normal(size=(2, 2, 2, 2, 3)).astype("float32")
depthwise = rng.normal(size=(3, 3, 3, 2)).astype("float32")
pointwise = rng.normal(size=(1, 1, 6, 4)).astype("float32")
probs = keras.ops.convert_to_tensor(
    np.array([[0.1, 0.5, 0.5, 0.2], [0.7, 0.1, 0.1, 0.1], [0.2, 0.3, 0.4, 0.1]], "float32")
)
onehot = keras.ops.convert_to_tensor(np.eye(4, dtype="float32")[[2, 0, 1]])


def values(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


RESULT = {
    "softsign": values(K.softsign(images[0, 0])),
    "reverse": values(K.reverse(images[0, :3, :2], axes=[0, 1])),
    "dtype": [K.dtype(images), K.dtype(keras.ops.cast(images, "int32"))],
    # A tie at the top counts as a hit in both.
    "in_top_k": values(K.in_top_k(predictions=probs, targets=np.array([2, 0, 3]), k=1)),
    "conv2d": values(K.conv2d(images, kernel, strides=(2, 2), padding="same")),
    "conv2d_dilated": values(K.conv2d(images, kernel, dilation_rate=(2, 2))),
    "conv3d": values(K.conv3d(volume, kernel3d, padding="same")),
    "depthwise_conv2d": values(K.depthwise_conv2d(images, depthwise, padding="same")),
    "separable_conv2d": values(K.separable_conv2d(images, depthwise, pointwise, strides=(2, 2))),
    "categorical_focal_crossentropy": values(K.categorical_focal_crossentropy(onehot, probs, gamma=3.0)),
    "to_dense": values(K.to_dense(images[0, 0])),
    "map_fn": values(K.map_fn(lambda row: row * 2.0 + 1.0, probs)),
}
'''

UNSAFE_FUNCTIONS = '''
import numpy as np
import keras
from keras import backend as K

rng = np.random.default_rng(1)
x = keras.ops.convert_to_tensor(rng.normal(size=(2, 6, 3)).astype("float32"))
# Keras 2 reads the kernel's TensorShape: a tensor, not an array.
kernel = keras.ops.convert_to_tensor(rng.normal(size=(3, 3, 2)).astype("float32"))
mean = np.array([0.5, -0.5, 0.0], "float32")
var = np.array([1.0, 2.0, 0.5], "float32")
beta = np.array([0.1, 0.2, 0.3], "float32")
gamma = np.array([2.0, 1.0, 0.5], "float32")
probs = keras.ops.convert_to_tensor(np.array([[0.1, 0.6, 0.3], [0.8, 0.1, 0.1]], "float32"))


def values(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


def draws(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64")


normal = draws(K.random_normal((4000,), 1.0, 2.0, seed=3))
uniform = draws(K.random_uniform((4000,), -1.0, 1.0, seed=3))
truncated = draws(K.truncated_normal((4000,), stddev=0.5, seed=3))
kept = draws(K.dropout(keras.ops.ones((4000,)), 0.25, seed=3))
RESULT = {
    "ndim": [K.ndim(x), K.ndim(x[0, 0])],
    "arange": [values(K.arange(5)), values(K.arange(1, 7, 2)), values(K.arange(0.0, 1.0, 0.25)),
               K.dtype(K.arange(3)), K.dtype(K.arange(0, 3, dtype="float32"))],
    "conv1d": values(K.conv1d(x, kernel, padding="same")),
    "conv1d_strided": values(K.conv1d(x, kernel, strides=2)),
    "batch_normalization": values(K.batch_normalization(x, mean, var, beta=beta, gamma=gamma, epsilon=1e-3)),
    "map_fn_dtype": values(K.map_fn(lambda row: keras.ops.cast(keras.ops.argmax(row), "float32"), probs,
                                    dtype="float32")),
    # Other numbers than Keras 2 draws: the same distribution.
    "random_normal": [normal.shape[0], bool(abs(normal.mean() - 1.0) < 0.2), bool(abs(normal.std() - 2.0) < 0.2)],
    "random_uniform": [bool(uniform.min() >= -1.0), bool(uniform.max() < 1.0), bool(abs(uniform.mean()) < 0.1)],
    "truncated_normal": [bool(np.abs(truncated).max() <= 1.0), bool(abs(truncated.std() - 0.44) < 0.05)],
    "dropout": [bool(np.isin(np.round(kept, 5), [0.0, round(1 / 0.75, 5)]).all()),
                bool(abs((kept == 0).mean() - 0.25) < 0.05)],
}
'''

CTC = '''
import numpy as np
import keras
from keras import backend as K

y_pred = keras.ops.softmax(keras.ops.convert_to_tensor(np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")))
input_length = np.array([6, 4])
decoded, log_prob = K.ctc_decode(y_pred, input_length)
loss = K.ctc_batch_cost(np.array([[0, 1], [2, 2]]), y_pred, input_length[:, None], np.array([[2], [2]]))
RESULT = [np.asarray(decoded[0]).tolist(), np.asarray(log_prob).tolist(), np.asarray(loss).tolist()]
'''


LAYER_AND_LOSS = '''
import numpy as np
import keras
from keras import backend as K


class AttentionPooling(keras.layers.Layer):
    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))
        super().build(input_shape)

    def call(self, x):
        if K.ndim(x) != 3:
            raise ValueError("expected (batch, time, features)")
        scores = K.squeeze(K.dot(x, self.w), axis=-1)
        weights = K.softmax(scores)
        pooled = K.sum(x * K.expand_dims(weights), axis=1)
        return K.l2_normalize(pooled, axis=-1) * K.int_shape(x)[-1]


def focal_loss(y_true, y_pred):
    y_true = K.cast(y_true, K.dtype(y_pred))
    p = K.clip(y_pred, K.epsilon(), 1.0 - K.epsilon())
    loss = K.categorical_focal_crossentropy(y_true, p, gamma=2.0)
    return K.mean(loss) + 0.01 * K.mean(K.softsign(K.reverse(p, axes=-1)))


rng = np.random.default_rng(0)
x = rng.normal(size=(2, 5, 4)).astype("float32")
layer = AttentionPooling()
layer.build((None, 5, 4))
layer.w.assign(np.linspace(-1.0, 1.0, 4).reshape(4, 1).astype("float32"))
y_true = np.eye(3, dtype="int32")[[0, 2]]
y_pred = keras.ops.softmax(keras.ops.convert_to_tensor(rng.normal(size=(2, 3)).astype("float32")))
RESULT = {
    "pooled": np.asarray(keras.ops.convert_to_numpy(layer(x)), dtype="float64").tolist(),
    "loss": float(keras.ops.convert_to_numpy(focal_loss(y_true, y_pred))),
}
'''

CASES = [
    Case(
        "KER221",
        "backend-functions-with-ops-counterparts",
        SAFE_FUNCTIONS,
        raises("AttributeError", "module 'keras.backend' has no attribute 'softsign'"),
        envs=("jax", "tensorflow", "torch"),
        fixed_check=result_shows(
            "strings and numbers",
            lambda r: r["dtype"] == ["float32", "int32"] and r["in_top_k"] == [1.0, 1.0, 0.0],
        ),
        reference="tensorflow",
        reference_program=keras2(SAFE_FUNCTIONS),
        tolerance=1e-4,
    ),
    Case(
        "KER221",
        "backend-functions-with-unsafe-fixes",
        UNSAFE_FUNCTIONS,
        raises("AttributeError", "module 'keras.backend' has no attribute 'random_normal'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows(
            "Keras 2's shapes and distributions",
            lambda r: r["ndim"] == [3, 1] and r["arange"][3:] == ["int32", "float32"] and all(
                v is True or v == 4000 for key in ("random_normal", "random_uniform", "truncated_normal", "dropout")
                for v in r[key]
            ),
        ),
        reference="tensorflow",
        reference_program=keras2(UNSAFE_FUNCTIONS),
        tolerance=1e-4,
    ),
    Case(
        "KER221",
        "ctc-decode-and-batch-cost",
        CTC,
        # No fix: the note says how to port (tests/keras3/test_backend_ports_keras3.py runs it).
        raises("AttributeError", "module 'keras.backend' has no attribute 'ctc_decode'"),
        envs=("jax", "tensorflow", "torch"),
    ),
    Case(
        "KER221",
        "keras-2-layer-and-loss-on-backend-functions",
        LAYER_AND_LOSS,
        raises("AttributeError", "module 'keras.backend' has no attribute 'ndim'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        reference="tensorflow",
        # Keras 2's K.dot reads the weight's TensorShape; a Keras 3 variable's shape is a tuple,
        # so the reference passes the tf.Variable under it.
        reference_program=keras2(LAYER_AND_LOSS).replace("K.dot(x, self.w)", "K.dot(x, self.w.value)"),
        tolerance=1e-5,
    ),
]
