"""The same starting point for a program on every Keras: imported first by the migration corpus's
runs (tests/keras3/test_migration_corpus.py) on tf-keras (Keras 2) and on Keras 3 with each
backend.

Each Keras draws initial weights and shuffles batches with its own random generator, so the same
program starts from other weights on each backend and its numbers cannot be compared. Here:
- every random initializer (the Glorot, He and Lecun families, uniform, normal, truncated normal,
  orthogonal) draws its values from NumPy instead, seeded by the order in which weights are
  created, with the initializer's own distribution and parameters;
- `Model.fit` does not shuffle (`shuffle=False`), as a seeded run of one Keras would;
- NumPy's global generator is seeded.
What stays random on purpose (dropout, augmentation layers, `keras.random` noise in a VAE or a GAN)
differs between backends; the tests compare those programs' numbers only where they are
deterministic. Runs inside the Keras venvs: NumPy and the Keras of the run only.
"""

from __future__ import annotations

import math
import os

import numpy as np

_created = [0]


def _fans(shape: tuple[int, ...]) -> tuple[float, float]:
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    receptive = math.prod(shape[:-2]) if len(shape) > 2 else 1
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


def _rng() -> np.random.RandomState:
    _created[0] += 1
    return np.random.RandomState(10_000 + _created[0])


def _truncated(rng: np.random.RandomState, mean: float, stddev: float, shape) -> np.ndarray:
    values = rng.normal(0.0, 1.0, size=shape)
    while True:
        outside = np.abs(values) > 2.0
        if not outside.any():
            return mean + stddev * values
        values[outside] = rng.normal(0.0, 1.0, size=int(outside.sum()))


def values_for(initializer, shape) -> np.ndarray:
    """The values `initializer` would draw for `shape`, from NumPy."""
    shape = tuple(int(d) for d in shape)
    rng = _rng()
    kind = type(initializer).__mro__
    names = {k.__name__ for k in kind}
    if "VarianceScaling" in names:
        fan_in, fan_out = _fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out}.get(initializer.mode, (fan_in + fan_out) / 2.0)
        scale = initializer.scale / max(1.0, fan)
        if initializer.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            values = rng.uniform(-limit, limit, size=shape)
        elif initializer.distribution == "untruncated_normal":
            values = rng.normal(0.0, math.sqrt(scale), size=shape)
        else:
            values = _truncated(rng, 0.0, math.sqrt(scale) / 0.87962566103423978, shape)
    elif "Orthogonal" in names:
        rows = math.prod(shape[:-1]) if len(shape) > 1 else 1
        cols = shape[-1] if shape else 1
        flat = rng.normal(0.0, 1.0, size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(flat)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        values = initializer.gain * q.reshape(shape)
    elif "RandomUniform" in names:
        values = rng.uniform(initializer.minval, initializer.maxval, size=shape)
    elif "TruncatedNormal" in names:
        values = _truncated(rng, initializer.mean, initializer.stddev, shape)
    else:  # RandomNormal
        values = rng.normal(initializer.mean, initializer.stddev, size=shape)
    return np.asarray(values, dtype="float32")


def _patch_keras3() -> None:
    import keras
    from keras.src.initializers import random_initializers as module

    def call(self, shape, dtype=None):
        return keras.ops.convert_to_tensor(values_for(self, shape), dtype=dtype or "float32")

    for kind in (module.RandomNormal, module.TruncatedNormal, module.RandomUniform, module.VarianceScaling,
                 module.Orthogonal):
        kind.__call__ = call
    _no_shuffle(keras.Model)


def _patch_tf_keras() -> None:
    import tensorflow as tf
    import tf_keras
    from tf_keras.src.initializers import initializers as module

    def call(self, shape, dtype=None, **kwargs):
        return tf.constant(values_for(self, shape), dtype=dtype or tf.float32)

    for kind in (module.RandomNormal, module.TruncatedNormal, module.RandomUniform, module.VarianceScaling,
                 module.Orthogonal):
        kind.__call__ = call
    _no_shuffle(tf_keras.Model)


def _no_shuffle(model_class) -> None:
    fit = model_class.fit

    def fit_in_order(self, *args, **kwargs):
        kwargs["shuffle"] = False
        return fit(self, *args, **kwargs)

    model_class.fit = fit_in_order


np.random.seed(0)
if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    _patch_tf_keras()
else:
    _patch_keras3()
