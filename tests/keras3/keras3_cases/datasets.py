"""KER226: Keras model code inside a tf.data map function, on the backends where it fails."""

from __future__ import annotations

from . import Case, raises, result_shows

PIPELINE = '''
import numpy as np
import tensorflow as tf
import keras

images = np.full((4, 8, 8, 3), 100.0, "float32")
labels = np.arange(4)
ds = tf.data.Dataset.from_tensor_slices((images, labels))
# Made for tf.data: these run on every backend.
ds = ds.map(lambda x, y: (keras.layers.Rescaling(1 / 255.0)(x), y))
ds = ds.map(lambda x, y: (keras.applications.mobilenet_v2.preprocess_input(x * 255.0), y))
# Not made for it.
ds = ds.map(lambda x, y: (keras.applications.resnet50.preprocess_input(x), y))
first, _ = next(iter(ds.batch(2)))
RESULT = np.asarray(first).shape
'''

CASES = [
    Case(
        "KER226",
        "keras-code-in-dataset-map",
        PIPELINE,
        raises("NotImplementedError", "Cannot convert a symbolic tf.Tensor"),
        envs=("tf-jax", "tf-torch"),
    ),
    Case(
        "KER226",
        "keras-code-in-dataset-map-tensorflow",
        PIPELINE,
        # TensorFlow runs the whole pipeline: the finding is for JAX and PyTorch alone.
        result_shows("a batch of two images", lambda r: list(r) == [2, 8, 8, 3]),
        envs=("tensorflow",),
    ),
]
