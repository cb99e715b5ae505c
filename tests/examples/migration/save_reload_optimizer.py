"""Training resumed from a saved model (tf.keras 2.x style): a model trained a few epochs, saved to
HDF5 with its optimizer, loaded back with `keras.models.load_model` and trained further.

Keras 2 habits in it: the `.h5` file as the checkpoint of a training run (weights, compile
arguments and the optimizer's state in one file), `fit(..., initial_epoch=...)` to continue the
epoch count, and `optimizer.iterations` read with `K.get_value`.
"""
# corpus: numbers = "same"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras import layers

rng = np.random.RandomState(11)
x = rng.normal(size=(192, 6)).astype("float32")
w = rng.normal(size=(6, 3)).astype("float32")
y = np.argmax(x @ w + 0.3 * rng.normal(size=(192, 3)), axis=1)
x_val = rng.normal(size=(64, 6)).astype("float32")
y_val = np.argmax(x_val @ w, axis=1)

model = keras.Sequential(
    [
        layers.Dense(24, activation="relu", input_shape=(6,)),
        layers.Dense(12, activation="relu"),
        layers.Dense(3, activation="softmax"),
    ]
)
model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.005),
    loss="sparse_categorical_crossentropy",
    metrics=["accuracy"],
)
history_before = model.fit(x, y, batch_size=32, epochs=3, validation_data=(x_val, y_val), verbose=0)
iterations_saved = int(K.get_value(model.optimizer.iterations))

# Save the whole model: architecture, weights, and optimizer state.
model.save("model.h5")
del model

model = keras.models.load_model("model.h5")
iterations_loaded = int(K.get_value(model.optimizer.iterations))
history_after = model.fit(
    x, y, batch_size=32, epochs=6, initial_epoch=3, validation_data=(x_val, y_val), verbose=0
)

RESULT = {
    "history": history_after.history,
    "history_before": history_before.history,
    "iterations_saved": iterations_saved,
    "iterations_loaded": iterations_loaded,
    "iterations_after": int(K.get_value(model.optimizer.iterations)),
    "learning_rate": float(K.get_value(model.optimizer.learning_rate)),
    "predictions": model.predict(x_val[:4], verbose=0).tolist(),
}
