"""KER221's rows without a fix say, in their note, how to port a Keras 2 `keras.backend`
function by hand (rules/data/ops_backend.toml). Each port runs here on Keras 3.15.1 (JAX,
TensorFlow, PyTorch) and gives what Keras 2.15's own function gives: the real one, loaded from
the tf-keras 2.15 source on TensorFlow (keras3_cases/backend_functions.py)."""

from __future__ import annotations

import pytest

from keras3_cases import close
from keras3_cases.backend_functions import keras2
from keras3_harness import ENVS, RUNNER, missing_venv
from kerasfix.rules import Settings, lint

DATA = '''
import numpy as np

rng = np.random.default_rng(7)
# CTC: batch 3, 8 steps, 5 classes; Keras 2's blank is the last class (4).
logits = rng.normal(size=(3, 8, 5)).astype("float32") * 2.0
# Sample 1 reads 2, 2, blank, 2, 1, 1, blank, 3: its best path has a label twice in a row.
logits[1] = -3.0
for step, label in enumerate([2, 2, 4, 2, 1, 1, 4, 3]):
    logits[1, step, label] = 3.0
Y_PRED = (np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)).astype("float32")
INPUT_LENGTH = np.array([8, 8, 5], dtype="int32")
LABELS = np.array([[0, 1, 2, 0], [2, 2, 1, 3], [1, 3, 0, 0]], dtype="int32")
LABEL_LENGTH = np.array([[3], [4], [2]], dtype="int32")

X = rng.normal(size=(2, 3, 4)).astype("float32") * 4.0
TARGETS = (rng.uniform(size=(2, 3, 4)) > 0.5).astype("float32")
PROBS = rng.uniform(0.01, 0.99, size=(2, 3, 4)).astype("float32")
ROWS = rng.normal(size=(2, 4)).astype("float32")
ELEMS = np.array([1.0, -2.0, 3.0, 0.5], dtype="float32")
IMAGES = rng.normal(size=(1, 4, 5, 2)).astype("float32")
TRANSPOSE_KERNEL = rng.normal(size=(3, 3, 2, 2)).astype("float32")
GAMMA = np.array([1.0, 2.0, 0.5, 1.5], dtype="float32")
BETA = np.array([0.0, 0.1, -0.1, 0.2], dtype="float32")
PREDICTIONS = np.array([[0.1, 0.5, 0.4], [0.3, 0.3, 0.4], [0.6, 0.3, 0.1]], dtype="float32")
CLASSES = np.array([2, 0, 2], dtype="int32")


def values(t):
    return np.asarray(t, dtype="float64").tolist()
'''

KERAS2 = (
    '''
import tensorflow as tf
from keras import backend as K
'''
    + DATA
    + '''
y_pred = tf.constant(Y_PRED)
greedy, greedy_log_prob = K.ctc_decode(y_pred, INPUT_LENGTH)
beam, beam_log_prob = K.ctc_decode(y_pred, INPUT_LENGTH, greedy=False, beam_width=10, top_paths=2)
normed, batch_mean, batch_var = K.normalize_batch_in_training(tf.constant(X), GAMMA, BETA, [0, 1])
bernoulli = np.asarray(K.random_bernoulli((4000,), p=0.3, seed=1))
x = tf.constant(X)
RESULT = {
    "ctc_greedy": [values(greedy[0]), values(greedy_log_prob)],
    "ctc_beam_log_prob": values(beam_log_prob),
    "ctc_beam_paths": [values(path) for path in beam],
    "ctc_batch_cost": values(K.ctc_batch_cost(tf.constant(LABELS), y_pred, INPUT_LENGTH[:, None], LABEL_LENGTH)),
    "hard_sigmoid": values(K.hard_sigmoid(x)),
    "binary_focal_crossentropy": values(
        K.binary_focal_crossentropy(tf.constant(TARGETS), tf.constant(PROBS), apply_class_balancing=True, gamma=3.0)
    ),
    "binary_focal_crossentropy_logits": values(
        K.binary_focal_crossentropy(tf.constant(TARGETS), x, from_logits=True)
    ),
    "repeat": values(K.repeat(tf.constant(ROWS), 3)),
    "foldl": values(K.foldl(lambda acc, e: acc * 2.0 + e, tf.constant(ELEMS), 1.0)),
    "foldl_no_initializer": values(K.foldl(lambda acc, e: acc * 2.0 + e, tf.constant(ELEMS))),
    "foldr": values(K.foldr(lambda acc, e: acc * 2.0 + e, tf.constant(ELEMS), 1.0)),
    "foldr_no_initializer": values(K.foldr(lambda acc, e: acc * 2.0 + e, tf.constant(ELEMS))),
    "temporal_padding": values(K.temporal_padding(x, (1, 2))),
    "spatial_2d_padding": values(K.spatial_2d_padding(tf.constant(IMAGES), ((1, 0), (2, 1)))),
    "pool2d_max": values(K.pool2d(tf.constant(IMAGES), (2, 2))),
    "pool2d_avg_same": values(K.pool2d(tf.constant(IMAGES), (2, 2), padding="same", pool_mode="avg")),
    "resize_images": values(K.resize_images(tf.constant(IMAGES), 2, 3, "channels_last")),
    "conv2d_transpose": values(
        K.conv2d_transpose(tf.constant(IMAGES), tf.constant(TRANSPOSE_KERNEL), (1, 8, 10, 2), strides=(2, 2),
                           padding="same")
    ),
    "in_top_k": values(K.in_top_k(PREDICTIONS, CLASSES, 1)),
    "normalize_batch_in_training": [values(normed), values(batch_mean), values(batch_var)],
    "random_bernoulli": [bool(np.isin(bernoulli, [0.0, 1.0]).all()), bool(abs(bernoulli.mean() - 0.3) < 0.03)],
    "moving_average_update": values(K.moving_average_update(tf.Variable(ELEMS), ELEMS * 3.0, 0.9)),
    "batch_get_value": [values(a) for a in K.batch_get_value([tf.Variable(ELEMS), tf.Variable(ROWS)])],
    "count_params": K.count_params(tf.Variable(IMAGES)),
}
'''
)

# Each line is what the row's note says to write.
PORT = (
    '''
import math

import keras
from keras import ops
'''
    + DATA
    + '''
y_pred = Y_PRED
num_classes = y_pred.shape[-1]
log_probs = ops.log(y_pred + keras.config.epsilon())
greedy, greedy_log_prob = ops.ctc_decode(log_probs, INPUT_LENGTH, strategy="greedy", mask_index=num_classes - 1)
beam, beam_log_prob = ops.ctc_decode(
    log_probs, INPUT_LENGTH, strategy="beam_search", beam_width=10, top_paths=2, mask_index=num_classes - 1
)
cost = ops.expand_dims(
    ops.ctc_loss(LABELS, log_probs, ops.squeeze(LABEL_LENGTH, -1), ops.squeeze(INPUT_LENGTH[:, None], -1),
                 mask_index=num_classes - 1),
    -1,
)
batch_mean, batch_var = ops.moments(X, [0, 1])
normed = ops.batch_normalization(X, batch_mean, batch_var, axis=-1, offset=BETA, scale=GAMMA, epsilon=1e-3)
bernoulli = np.asarray(ops.convert_to_numpy(ops.cast(keras.random.uniform((4000,), seed=1) <= 0.3, "float32")))
average = keras.Variable(ELEMS)


def step(acc, e):
    return acc * 2.0 + e


def numbers(t):
    return values(ops.convert_to_numpy(t))


RESULT = {
    "ctc_greedy": [numbers(greedy[0]), numbers(greedy_log_prob)],
    "ctc_beam_log_prob": numbers(beam_log_prob),
    "ctc_beam_paths": [numbers(path) for path in beam],
    "ctc_batch_cost": numbers(cost),
    "hard_sigmoid": numbers(ops.clip(0.2 * X + 0.5, 0.0, 1.0)),
    "binary_focal_crossentropy": numbers(
        keras.losses.binary_focal_crossentropy(
            ops.expand_dims(TARGETS, -1), ops.expand_dims(PROBS, -1), apply_class_balancing=True, gamma=3.0
        )
    ),
    "binary_focal_crossentropy_logits": numbers(
        keras.losses.binary_focal_crossentropy(ops.expand_dims(TARGETS, -1), ops.expand_dims(X, -1), from_logits=True)
    ),
    "repeat": numbers(ops.repeat(ops.expand_dims(ROWS, 1), 3, axis=1)),
    "foldl": numbers(ops.scan(lambda acc, e: (step(acc, e), None), 1.0, ELEMS)[0]),
    "foldl_no_initializer": numbers(ops.scan(lambda acc, e: (step(acc, e), None), ELEMS[0], ELEMS[1:])[0]),
    "foldr": numbers(ops.scan(lambda acc, e: (step(acc, e), None), 1.0, ELEMS, reverse=True)[0]),
    "foldr_no_initializer": numbers(
        ops.scan(lambda acc, e: (step(acc, e), None), ELEMS[-1], ELEMS[:-1], reverse=True)[0]
    ),
    "temporal_padding": numbers(ops.pad(X, [[0, 0], [1, 2], [0, 0]])),
    "spatial_2d_padding": numbers(ops.pad(IMAGES, [[0, 0], [1, 0], [2, 1], [0, 0]])),
    "pool2d_max": numbers(ops.max_pool(IMAGES, (2, 2), strides=(1, 1))),
    "pool2d_avg_same": numbers(ops.average_pool(IMAGES, (2, 2), strides=(1, 1), padding="same")),
    "resize_images": numbers(keras.layers.UpSampling2D(size=(2, 3), data_format="channels_last")(IMAGES)),
    "conv2d_transpose": numbers(ops.conv_transpose(IMAGES, TRANSPOSE_KERNEL, strides=(2, 2), padding="same")),
    "in_top_k": numbers(ops.in_top_k(CLASSES, PREDICTIONS, 1)),
    "normalize_batch_in_training": [numbers(normed), numbers(batch_mean), numbers(batch_var)],
    "random_bernoulli": [bool(np.isin(bernoulli, [0.0, 1.0]).all()), bool(abs(bernoulli.mean() - 0.3) < 0.03)],
    "moving_average_update": numbers(average.assign_sub((average - ELEMS * 3.0) * (1 - 0.9))),
    "batch_get_value": [numbers(ops.convert_to_numpy(a)) for a in [keras.Variable(ELEMS), keras.Variable(ROWS)]],
    "count_params": math.prod(keras.Variable(IMAGES).shape),
}
'''
)

ENV_NAMES = ("jax", "tensorflow", "torch")
# Keras 2's beam search (tf.compat.v1.nn.ctc_beam_search_decoder, merge_repeated=True) also
# merged a label repeated in a path: sample 1's best path 2 2 1 3 came out as 2 1 3.
MERGED_BY_KERAS_2 = {"ctc_beam_paths"}


def _result(env: str, source: str):
    problem = missing_venv(ENVS[env])
    if problem:
        pytest.skip(problem)
    result = RUNNER.run(env, source)
    assert result.ok, result.describe()
    return result.result


@pytest.fixture(scope="module")
def keras2_result():
    for env in ENV_NAMES:
        if not missing_venv(ENVS[env]):
            RUNNER.submit(env, PORT)
    return _result("tensorflow", keras2(KERAS2))


def test_the_notes_name_the_ported_functions():
    """The functions ported here are the ones KER221 reports without a fix."""
    source = "from keras import backend as K\n" + "\n".join(
        f"K.{name}(x)" for name in ("ctc_decode", "ctc_batch_cost", "hard_sigmoid", "binary_focal_crossentropy",
                                    "repeat", "foldl", "foldr", "temporal_padding", "spatial_2d_padding",
                                    "pool2d", "resize_images", "conv2d_transpose", "normalize_batch_in_training",
                                    "random_bernoulli")
    )
    findings = [f for f in lint(source, "t.py", Settings()) if f.code == "KER221"]
    assert len(findings) == 14 and all(f.fix is None and f.note for f in findings)
    notes = {source[f.span.start : f.span.end]: f.note for f in findings}
    assert "mask_index=num_classes - 1" in notes["K.ctc_decode"]
    assert "keras.ops.log(y_pred + keras.config.epsilon())" in notes["K.ctc_decode"]
    assert "keras.ops.squeeze(label_length, -1), keras.ops.squeeze(input_length, -1)" in notes["K.ctc_batch_cost"]


@pytest.mark.parametrize("env", ENV_NAMES)
def test_ports_give_keras_2_numbers(env, keras2_result):
    ported = _result(env, PORT)
    assert ported.keys() == keras2_result.keys()
    for key, expected in keras2_result.items():
        if key in MERGED_BY_KERAS_2:
            continue
        assert close(ported[key], expected, 1e-4), f"{key}: {env} port {ported[key]}\nKeras 2: {expected}"


@pytest.mark.parametrize("env", ENV_NAMES)
def test_beam_search_paths_differ_only_where_keras_2_merged_a_repeat(env, keras2_result):
    ported = _result(env, PORT)["ctc_beam_paths"]
    expected = keras2_result["ctc_beam_paths"]
    best_2, best_3 = expected[0], ported[0]
    assert best_2[1][:4] == [2, 1, 3, -1] and best_3[1][:5] == [2, 2, 1, 3, -1]
    assert best_3[0] == best_2[0] and best_3[2] == best_2[2]
    assert ported[1] == expected[1]


# Why the unsafe rows are unsafe: the Keras 3 spelling at the inputs their notes name.
EDGES = '''
import numpy as np
import keras
from keras import ops

x = np.linspace(-1.0, 1.0, 24).astype("float32").reshape(2, 3, 4)
cond = np.array([[True, False, True], [False, True, True]])


def outcome(f):
    try:
        value = f()
    except Exception as error:
        return "raises " + type(error).__name__
    return np.asarray(ops.convert_to_numpy(value), dtype="float64").round(4).tolist()


RESULT = {
    "ndim_of_input_is_int": isinstance(ops.ndim(keras.Input((3, 4))), int),
    "arange_negative": outcome(lambda: ops.arange(-3)),
    "conv_causal_shape": outcome(lambda: ops.shape(ops.conv(np.ones((1, 5, 2), "float32"), np.ones((3, 2, 1), "float32"),
                                                         padding="causal"))),
    "clip_none": outcome(lambda: ops.clip(x[0, 0], 0.0, None)),
    "clip_inverted": outcome(lambda: ops.clip(x[0, 0], 0.5, -0.5)),
    "where_lower_rank": outcome(lambda: ops.where(cond, x, -x)),
    "where_expanded": outcome(lambda: ops.where(ops.expand_dims(cond, -1), x, -x)),
    "dot_3d_shape": list(ops.shape(ops.dot(x, np.ones((2, 4, 5), "float32")))),
    "same_draws_with_int_seed": bool(np.array_equal(ops.convert_to_numpy(keras.random.normal((5,), seed=3)),
                                                    ops.convert_to_numpy(keras.random.normal((5,), seed=3)))),
}
'''

KERAS2_EDGES = '''
import numpy as np
import tensorflow as tf
from keras import backend as K

x = tf.constant(np.linspace(-1.0, 1.0, 24).astype("float32").reshape(2, 3, 4))
cond = tf.constant([[True, False, True], [False, True, True]])


def outcome(value):
    return np.asarray(value, dtype="float64").round(4).tolist()


RESULT = {
    "arange_negative": outcome(K.arange(-3)),
    "clip_none": outcome(K.clip(x[0, 0], 0.0, None)),
    "clip_inverted": outcome(K.clip(x[0, 0], 0.5, -0.5)),
    "switch_lower_rank": outcome(K.switch(cond, x, -x)),
    "same_draws_with_int_seed": bool(np.array_equal(K.random_normal((5,), seed=3), K.random_normal((5,), seed=3))),
}
'''


def test_keras_2_at_the_edges():
    """What Keras 2.15 gives at the inputs where the unsafe rows' Keras 3 spelling differs."""
    edges = _result("tensorflow", keras2(KERAS2_EDGES))
    assert edges["arange_negative"] == []
    assert edges["clip_none"] == [0.0, 0.0, 0.0, 0.0]
    assert edges["clip_inverted"] == [0.5, 0.5, 0.5, 0.5]
    assert edges["same_draws_with_int_seed"] is False


@pytest.mark.parametrize("env", ENV_NAMES)
def test_keras_3_at_the_edges(env):
    edges = _result(env, EDGES)
    keras2_edges = _result("tensorflow", keras2(KERAS2_EDGES))
    assert edges["ndim_of_input_is_int"] is False
    assert edges["same_draws_with_int_seed"] is True
    assert edges["where_lower_rank"].startswith("raises")
    assert edges["where_expanded"] == keras2_edges["switch_lower_rank"]
    if env == "jax":
        assert edges["arange_negative"] == []
        assert edges["conv_causal_shape"].startswith("raises")
        assert edges["clip_none"] == keras2_edges["clip_none"]
        assert edges["clip_inverted"] == [-0.5, -0.5, -0.5, -0.5]
        assert edges["dot_3d_shape"] == [2, 3, 2, 5]
    elif env == "tensorflow":
        assert edges["arange_negative"].startswith("raises")
        assert edges["conv_causal_shape"].startswith("raises")
        assert edges["clip_none"].startswith("raises")
        assert edges["dot_3d_shape"] == [2, 3, 2, 5]
    else:
        assert edges["arange_negative"].startswith("raises")
        # PyTorch pads "causal" as "valid": 5 steps, kernel 3 -> 3 steps.
        assert edges["conv_causal_shape"] == [1, 3, 1]
        assert edges["clip_none"].startswith("raises")
        assert edges["clip_inverted"] == [-0.5, -0.5, -0.5, -0.5]
        assert edges["dot_3d_shape"] == [2, 3, 5]
