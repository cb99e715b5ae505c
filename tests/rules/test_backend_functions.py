"""KER221 on a whole Keras 2 program: a custom layer and a loss written with `keras.backend`.
Its safe fixes, then its unsafe ones, give exactly the expected Keras 3 code, which parses and
which a second fix leaves alone; what has no fix keeps its note."""

from __future__ import annotations

import ast

import libcst as cst

from kerasfix.rules import Settings, fix, lint

BACKEND = Settings(select=("KER221",))

KERAS2 = '''\
import keras
from keras import backend as K


class AttentionPooling(keras.layers.Layer):
    """Attention pooling over time."""

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


def greedy_decode(y_pred, input_length):
    decoded, _ = K.ctc_decode(y_pred, input_length)
    return decoded[0]
'''

SAFE = '''\
import keras
from keras import backend as K


class AttentionPooling(keras.layers.Layer):
    """Attention pooling over time."""

    def build(self, input_shape):
        self.w = self.add_weight(name="w", shape=(input_shape[-1], 1))
        super().build(input_shape)

    def call(self, x):
        if K.ndim(x) != 3:
            raise ValueError("expected (batch, time, features)")
        scores = keras.ops.squeeze(keras.ops.tensordot(x, self.w, axes=[[-1], [-2]]), axis=-1)
        weights = keras.ops.softmax(scores)
        pooled = keras.ops.sum(x * keras.ops.expand_dims(weights, axis=-1), axis=1)
        return keras.ops.normalize(pooled, axis=-1) * x.shape[-1]


def focal_loss(y_true, y_pred):
    y_true = keras.ops.cast(y_true, keras.ops.dtype(y_pred))
    p = K.clip(y_pred, K.epsilon(), 1.0 - K.epsilon())
    loss = keras.losses.categorical_focal_crossentropy(y_true, p, gamma=2.0)
    return keras.ops.mean(loss) + 0.01 * keras.ops.mean(keras.ops.softsign(keras.ops.flip(p, axis=-1)))


def greedy_decode(y_pred, input_length):
    decoded, _ = K.ctc_decode(y_pred, input_length)
    return decoded[0]
'''

# K.ndim is unsafe (keras.ops.ndim of a symbolic keras.Input is a KerasTensor; in call() it
# gets a backend tensor and returns an int), and so is K.clip (no None bound in keras.ops.clip).
UNSAFE = SAFE.replace("if K.ndim(x) != 3:", "if keras.ops.ndim(x) != 3:").replace(
    "p = K.clip(y_pred,", "p = keras.ops.clip(y_pred,"
)


def test_safe_fixes_of_a_keras_2_layer_and_loss():
    assert fix(KERAS2, "layer.py", BACKEND).source == SAFE


def test_unsafe_fixes_add_ndim_and_clip():
    assert UNSAFE != SAFE
    assert fix(KERAS2, "layer.py", BACKEND, unsafe=True).source == UNSAFE


def test_fixed_programs_parse_and_fixing_twice_changes_nothing():
    for unsafe, expected in ((False, SAFE), (True, UNSAFE)):
        ast.parse(expected)
        cst.parse_module(expected)
        assert fix(expected, "layer.py", BACKEND, unsafe=unsafe).source == expected


def test_what_is_left_is_reported_with_its_note():
    left = {f.message: f for f in lint(UNSAFE, "layer.py", BACKEND)}
    assert list(left) == ["`keras.backend.ctc_decode` was removed in Keras 3: use `keras.ops.ctc_decode`"]
    note = next(iter(left.values())).note
    assert "mask_index=num_classes - 1" in note and "keras.ops.log(y_pred + keras.config.epsilon())" in note
    safe_left = [f.message for f in lint(SAFE, "layer.py", BACKEND)]
    assert safe_left[0] == "`keras.backend.ndim` was removed in Keras 3: use `keras.ops.ndim`"
