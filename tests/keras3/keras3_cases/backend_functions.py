"""KER221 on the `keras.backend` functions whose table rows carry a fix: the Keras 2 program
fails on Keras 3, and its fixed version computes what Keras 2.15's own `keras.backend`
computes. That reference is the real Keras 2 code: `keras2(program)` runs the program with
`K` loaded from the tf-keras 2.15 source (tests/corpora.py downloads it when the cases are collected) on TensorFlow."""

from __future__ import annotations

import sys
from pathlib import Path

from . import Case, raises, result_shows

# tests/: the corpora downloader. The reference source is fetched when the cases are collected,
# so a fresh machine has it before any program runs (the corpus tests run later).
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
from corpora import fetch  # noqa: E402

TF_KERAS_2_15 = fetch("tf-keras").parent
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
    stub.DVariable = type("DVariable", (), {{}})  # K.set_value asks whether a variable is one
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


# The rows of the math, shape, comparison and loss functions, with their default axes, a
# 3-D second argument of K.dot, ties in K.round and a tiny vector in K.l2_normalize.
EXISTING_ROWS = '''
import numpy as np
import keras
from keras import backend as K

rng = np.random.default_rng(3)
x = keras.ops.convert_to_tensor(rng.normal(size=(2, 3, 4)).astype("float32"))
m = keras.ops.convert_to_tensor(rng.normal(size=(4, 5)).astype("float32"))
m3 = keras.ops.convert_to_tensor(rng.normal(size=(2, 4, 5)).astype("float32"))
pos = keras.ops.convert_to_tensor(rng.uniform(0.1, 2.0, size=(2, 3, 4)).astype("float32"))
probs = keras.ops.softmax(x)
onehot = keras.ops.convert_to_tensor(np.eye(4, dtype="float32")[[[0, 1, 2], [3, 0, 1]]])
labels = keras.ops.convert_to_tensor(np.array([[0, 1, 2], [3, 0, 1]]))
bits = keras.ops.convert_to_tensor((rng.uniform(size=(2, 3, 4)) > 0.5).astype("float32"))
halves = keras.ops.convert_to_tensor(np.array([0.5, 1.5, 2.5, -0.5, -1.5], "float32"))
tiny = keras.ops.convert_to_tensor(np.array([1e-5, -2e-5, 0.0], "float32"))
cond1 = keras.ops.convert_to_tensor(np.array([True, False, True, False]))


def v(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


RESULT = {
    "dot": v(K.dot(x, m)),
    # keras.ops.dot is a batched matmul on PyTorch here: the fix is keras.ops.tensordot.
    "dot3": v(K.dot(x, m3)),
    "sum": v(K.sum(x, axis=1, keepdims=True)),
    "mean": v(K.mean(x, 1)),
    "max": v(K.max(x, axis=-1)),
    "min": v(K.min(x)),
    "prod": v(K.prod(pos, axis=2)),
    "std": v(K.std(x, axis=0)),
    "var": v(K.var(x, axis=[0, 1])),
    "any": v(K.any(bits, axis=1)),
    "all": v(K.all(bits, axis=-1)),
    "bias_add": v(K.bias_add(x, keras.ops.convert_to_tensor(np.arange(4.0, dtype="float32")))),
    "square": v(K.square(x)),
    "sqrt": v(K.sqrt(pos)),
    "exp": v(K.exp(x)),
    "log": v(K.log(pos)),
    "abs": v(K.abs(x)),
    "sign": v(K.sign(x)),
    "round": v(K.round(halves)),
    "pow": v(K.pow(pos, 1.5)),
    "tanh": v(K.tanh(x)),
    "cos": v(K.cos(x)),
    "sin": v(K.sin(x)),
    "concatenate": v(K.concatenate([x, x])),
    "reshape": v(K.reshape(x, (-1, 4))),
    "expand_dims": v(K.expand_dims(x)),
    "squeeze": v(K.squeeze(K.expand_dims(x, 1), 1)),
    "stack": v(K.stack([x, x], axis=1)),
    "tile": v(K.tile(x, (1, 2, 1))),
    "tile_int": v(K.tile(halves, 2)),
    "transpose": v(K.transpose(x)),
    "permute_dimensions": v(K.permute_dimensions(x, (0, 2, 1))),
    "maximum": v(K.maximum(x, 0.0)),
    "minimum": v(K.minimum(x, 0.0)),
    "clip": v(K.clip(x, -0.5, 0.5)),
    "equal": v(K.equal(bits, 1.0)),
    "not_equal": v(K.not_equal(bits, 1.0)),
    "greater": v(K.greater(x, 0.0)),
    "greater_equal": v(K.greater_equal(x, 0.0)),
    "less": v(K.less(x, 0.0)),
    "less_equal": v(K.less_equal(x, 0.0)),
    "cast": v(K.cast(x * 3.0, "int32")),
    "cast_to_floatx": v(K.cast_to_floatx(labels)),
    "ones_like": v(K.ones_like(x)),
    "zeros_like": v(K.zeros_like(x)),
    "softmax": v(K.softmax(x)),
    "softmax_axis": v(K.softmax(x, axis=1)),
    "relu": v(K.relu(x)),
    "elu": v(K.elu(x, 0.5)),
    "sigmoid": v(K.sigmoid(x)),
    "softplus": v(K.softplus(x)),
    "stop_gradient": v(K.stop_gradient(x)),
    "one_hot": v(K.one_hot(labels, 5)),
    "argmax": v(K.argmax(x)),
    "argmin": v(K.argmin(x, axis=1)),
    "cumsum": v(K.cumsum(x)),
    "cumprod": v(K.cumprod(pos, axis=2)),
    "gather": v(K.gather(x, [1, 0])),
    "switch_vector": v(K.switch(cond1, x, -x)),
    "switch_same_rank": v(K.switch(K.greater(x, 0.0), x, -x)),
    "repeat_elements": v(K.repeat_elements(x, 2, axis=1)),
    "batch_flatten": v(K.batch_flatten(x)),
    "flatten": v(K.flatten(x)),
    "l2_normalize": v(K.l2_normalize(x, axis=-1)),
    "l2_normalize_all": v(K.l2_normalize(x)),
    "l2_normalize_tiny": v(K.l2_normalize(tiny)),
    "categorical_crossentropy": v(K.categorical_crossentropy(onehot, probs)),
    "categorical_crossentropy_logits": v(K.categorical_crossentropy(onehot, x, from_logits=True)),
    "sparse_categorical_crossentropy": v(K.sparse_categorical_crossentropy(labels, probs)),
    "sparse_categorical_crossentropy_logits": v(K.sparse_categorical_crossentropy(labels, x, True)),
    "binary_crossentropy": v(K.binary_crossentropy(bits, keras.ops.sigmoid(x))),
    "binary_crossentropy_logits": v(K.binary_crossentropy(bits, x, from_logits=True)),
    "int_shape": list(K.int_shape(x)),
    "shape0": int(K.shape(x)[0]),
    "eval": v(K.eval(x)),
    "get_value": v(K.get_value(keras.Variable(np.ones(3, "float32")))),
    "constant": v(K.constant(2.0, dtype="float32")),
    "ones": v(K.ones((2, 3))),
    "zeros": v(K.zeros((2, 3))),
    "eye": v(K.eye(3)),
    "variable": v(K.variable(np.ones(3, "float32"), dtype="float32")),
}
'''

# Variables and their updates, a name scope, logsumexp. Keras 2's set_value/update read a
# TensorFlow dtype and call tf.compat.v1.assign: its reference program gets tf.Variables.
VARIABLES_AND_SCOPES = '''
import numpy as np
import keras
from keras import backend as K

rng = np.random.default_rng(5)
x = keras.ops.convert_to_tensor(rng.normal(size=(2, 3, 4)).astype("float32"))


def values(t):
    return np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist()


rate = keras.Variable(0.01)
K.set_value(rate, 0.5)
weights = keras.Variable(np.zeros((2, 3), "float32"))
K.set_value(weights, np.arange(6.0).reshape(2, 3))
moving = keras.Variable(np.ones(3, "float32"))
K.update(moving, np.array([0.5, 1.5, 2.5], "float32"))
K.update_add(moving, np.full(3, 2.0, "float32"))
count = keras.Variable(np.array([10.0, 20.0], "float32"))
K.update_sub(count, np.array([1.0, 5.0], "float32"))
with K.name_scope("block"):
    scoped = K.logsumexp(x, axis=-1)
RESULT = {
    "set_value": [values(rate), values(weights)],
    "update-update_add": values(moving),
    "update_sub": values(count),
    "name_scope-logsumexp": values(scoped),
    "logsumexp_all": values(K.logsumexp(x)),
    "logsumexp_keepdims": values(K.logsumexp(x, 1, True)),
}
'''

# K.function's callable takes and returns lists; the fix's keras.Model does for two outputs or
# more (the note: a one-output list gives the tensor itself; no `updates=`; tensors, not arrays).
FUNCTION = '''
import numpy as np
import keras
from keras import backend as K

inputs = keras.Input((3,))
hidden = keras.layers.Dense(2, kernel_initializer="ones", bias_initializer="zeros")(inputs)
outputs = keras.layers.Dense(1, kernel_initializer="ones")(hidden)
model = keras.Model(inputs, outputs)
get_both = K.function([inputs], [hidden, outputs])
hidden_values, output_values = get_both([np.arange(6.0, dtype="float32").reshape(2, 3)])
RESULT = [np.asarray(keras.ops.convert_to_numpy(t), dtype="float64").tolist() for t in (hidden_values, output_values)]
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
    Case(
        "KER221",
        "backend-math-and-shape-functions",
        EXISTING_ROWS,
        raises("AttributeError", "module 'keras.backend' has no attribute 'dot'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        reference="tensorflow",
        reference_program=keras2(EXISTING_ROWS),
        tolerance=1e-5,
    ),
    Case(
        "KER221",
        "backend-variable-updates-and-name-scope",
        VARIABLES_AND_SCOPES,
        raises("AttributeError", "module 'keras.backend' has no attribute 'set_value'"),
        envs=("jax", "tensorflow", "torch"),
        reference="tensorflow",
        reference_program=keras2(VARIABLES_AND_SCOPES).replace(
            "keras.Variable(", "__import__(\"tensorflow\").Variable("
        ),
        tolerance=1e-5,
    ),
    Case(
        "KER221",
        "backend-function-as-a-model",
        FUNCTION,
        raises("AttributeError", "module 'keras.backend' has no attribute 'function'"),
        envs=("jax", "tensorflow", "torch"),
        unsafe=True,
        fixed_check=result_shows(
            "both layers' outputs", lambda r: r == [[[3.0, 3.0], [12.0, 12.0]], [[6.0], [24.0]]]
        ),
    ),
]
