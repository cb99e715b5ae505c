"""A `tf.data` input pipeline with a Keras preprocessing layer (tf.keras 2.x style, after the
TensorFlow tutorials "Working with preprocessing layers" and "Better performance with tf.data").

Keras 2 habits in it: a `Normalization` layer adapted on the training features and applied in
`dataset.map(...)`, outside the model, so that preprocessing runs asynchronously on the CPU; the
dataset batched, cached and prefetched with `tf.data.experimental.AUTOTUNE`; `fit` and `evaluate`
on datasets of `(features, label)` pairs.
"""
# corpus: numbers = "same"
# corpus: remaining = ["KER107", "KER540"]
# corpus: blocked.jax = "ModuleNotFoundError: No module named 'tensorflow'"
# corpus: blocked.torch = "ModuleNotFoundError: No module named 'tensorflow'"
# corpus: with_tensorflow = ["tf-jax", "tf-torch"]

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras.layers.experimental import preprocessing

AUTOTUNE = tf.data.experimental.AUTOTUNE

rng = np.random.RandomState(21)
features = (rng.normal(size=(320, 7)) * [1.0, 10.0, 100.0, 0.1, 5.0, 50.0, 2.0] + [0, 5, -40, 1, 0, 300, 3]).astype(
    "float32"
)
scaled = (features - features.mean(axis=0)) / features.std(axis=0)
labels = (scaled[:, 0] - scaled[:, 2] + 0.5 * scaled[:, 5] > 0).astype("int64")
train_features, train_labels = features[:256], labels[:256]
test_features, test_labels = features[256:], labels[256:]

normalizer = preprocessing.Normalization(axis=-1)
normalizer.adapt(train_features)


def prepare(ds, batch_size=32):
    # Normalize whole batches in the input pipeline, and overlap preprocessing with training.
    ds = ds.batch(batch_size)
    ds = ds.map(lambda x, y: (normalizer(x), y), num_parallel_calls=AUTOTUNE)
    ds = ds.cache()
    return ds.prefetch(buffer_size=AUTOTUNE)


train_ds = prepare(tf.data.Dataset.from_tensor_slices((train_features, train_labels)))
test_ds = prepare(tf.data.Dataset.from_tensor_slices((test_features, test_labels)))

model = keras.Sequential(
    [
        layers.Dense(16, activation="relu", input_shape=(7,)),
        layers.Dense(8, activation="relu"),
        layers.Dense(2),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(train_ds, validation_data=test_ds, epochs=4, verbose=0)
test_loss, test_accuracy = model.evaluate(test_ds, verbose=0)

RESULT = {
    "history": history.history,
    "mean": normalizer.mean.numpy().tolist(),
    "variance": normalizer.variance.numpy().tolist(),
    "test_loss": test_loss,
    "test_accuracy": test_accuracy,
    "predictions": model.predict(normalizer(test_features[:4]), verbose=0).tolist(),
}
