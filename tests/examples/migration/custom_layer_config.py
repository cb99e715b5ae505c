"""A custom layer with its config, a model saved to HDF5 and loaded back (tf.keras 2.x style).

Keras 2 habits in it: Keras imported through TensorFlow, TensorFlow ops in `call()`, a layer
that takes `**kwargs` but returns a config without `super().get_config()`, `custom_objects`
for loading, and the `.h5` file format.
"""
# corpus: numbers = "same"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class ScaledDense(layers.Layer):
    """A dense layer whose output is scaled by a learned per-unit factor."""

    def __init__(self, units, activation=None, **kwargs):
        super(ScaledDense, self).__init__(**kwargs)
        self.units = units
        self.activation = keras.activations.get(activation)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            name="kernel", shape=(input_shape[-1], self.units), initializer="glorot_uniform", trainable=True
        )
        self.scale = self.add_weight(name="scale", shape=(self.units,), initializer="ones", trainable=True)
        super(ScaledDense, self).build(input_shape)

    def call(self, inputs):
        outputs = tf.matmul(inputs, self.kernel) * self.scale
        return self.activation(outputs)

    def get_config(self):
        config = super(ScaledDense, self).get_config()
        config.update({"units": self.units, "activation": keras.activations.serialize(self.activation)})
        return config


rng = np.random.RandomState(0)
x = rng.normal(size=(256, 8)).astype("float32")
y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2).astype("float32")

inputs = keras.Input(shape=(8,))
hidden = ScaledDense(16, activation="tanh")(inputs)
outputs = layers.Dense(1)(hidden)
model = keras.Model(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])
history = model.fit(x, y, batch_size=32, epochs=4, verbose=0)

model.save("scaled.h5")
reloaded = keras.models.load_model("scaled.h5", custom_objects={"ScaledDense": ScaledDense})
probe = x[:5]
assert np.allclose(model.predict(probe, verbose=0), reloaded.predict(probe, verbose=0), atol=1e-6)

RESULT = {
    "history": history.history,
    "predictions": reloaded.predict(probe, verbose=0).tolist(),
    "evaluation": reloaded.evaluate(x, y, verbose=0),
}
