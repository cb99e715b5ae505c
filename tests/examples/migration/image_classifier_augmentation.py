"""A small convolutional image classifier with data augmentation layers (tf.keras 2.x style).

Keras 2 habits in it: Keras imported through TensorFlow, the preprocessing layers of the
`layers.experimental.preprocessing` namespace (TensorFlow 2.3-2.5 tutorials) in a Sequential
block at the start of the model, `Rescaling` of 0-255 pixels, Dropout, and a
`validation_data` held-out split. The augmentation and dropout draw random numbers while the
model trains; its evaluation before training is deterministic (both are off in inference).
"""
# corpus: numbers = "random"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


def make_images(rng, count):
    """Noisy 16x16 RGB images: class 1 is red-tinted, class 0 blue-tinted."""
    labels = rng.randint(0, 2, size=(count,))
    images = rng.uniform(0, 160, size=(count, 16, 16, 3))
    images[labels == 1, :, :, 0] += 90
    images[labels == 0, :, :, 2] += 90
    return images.astype("float32"), labels.astype("float32")


rng = np.random.RandomState(1)
x_train, y_train = make_images(rng, 320)
x_val, y_val = make_images(rng, 64)

data_augmentation = keras.Sequential(
    [
        layers.experimental.preprocessing.RandomFlip("horizontal"),
        layers.experimental.preprocessing.RandomRotation(0.1),
    ]
)

inputs = keras.Input(shape=(16, 16, 3))
x = data_augmentation(inputs)
x = layers.experimental.preprocessing.Rescaling(1.0 / 255)(x)
x = layers.Conv2D(8, 3, padding="same", activation="relu")(x)
x = layers.MaxPooling2D()(x)
x = layers.Conv2D(16, 3, padding="same", activation="relu")(x)
x = layers.GlobalAveragePooling2D()(x)
x = layers.Dropout(0.3)(x)
outputs = layers.Dense(1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs)

model.compile(
    optimizer=keras.optimizers.Adam(learning_rate=3e-3),
    loss="binary_crossentropy",
    metrics=["accuracy"],
)

probe = x_val[:4]
before = {
    "evaluation": model.evaluate(x_val, y_val, verbose=0),
    "predictions": model.predict(probe, verbose=0).tolist(),
}

history = model.fit(x_train, y_train, batch_size=32, epochs=4, validation_data=(x_val, y_val), verbose=0)

RESULT = {
    "before": before,
    "history": history.history,
    "predictions": model.predict(probe, verbose=0).tolist(),
}
