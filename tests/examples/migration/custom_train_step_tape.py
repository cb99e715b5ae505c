"""Customizing what happens in `fit` (the Keras 2 keras.io guide): a subclassed model overrides
`train_step` with a `tf.GradientTape` and `test_step`, using the loss and metrics given to
`compile` (`self.compiled_loss`, `self.compiled_metrics`) and returning every metric's result.
"""
# corpus: numbers = "same"

import numpy as np
import tensorflow as tf
from tensorflow import keras


class CustomModel(keras.Model):
    def train_step(self, data):
        # Unpack the data. Its structure depends on your model and on what you pass to `fit()`.
        x, y = data

        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)  # Forward pass
            # Compute the loss value (the loss function is configured in `compile()`)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)

        # Compute gradients
        trainable_vars = self.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        # Update metrics (includes the metric that tracks the loss)
        self.compiled_metrics.update_state(y, y_pred)
        # Return a dict mapping metric names to current value
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        # Updates the metrics tracking the loss
        self.compiled_loss(y, y_pred, regularization_losses=self.losses)
        # Update the metrics.
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


rng = np.random.RandomState(3)
x = rng.random_sample((320, 16)).astype("float32")
y = (x[:, :4].sum(axis=1, keepdims=True) - x[:, 4:6].prod(axis=1, keepdims=True)).astype("float32")
x_test = rng.random_sample((64, 16)).astype("float32")
y_test = (x_test[:, :4].sum(axis=1, keepdims=True) - x_test[:, 4:6].prod(axis=1, keepdims=True)).astype("float32")

# Construct and compile an instance of CustomModel
inputs = keras.Input(shape=(16,))
hidden = keras.layers.Dense(16, activation="relu")(inputs)
outputs = keras.layers.Dense(1)(hidden)
model = CustomModel(inputs, outputs)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01), loss="mse", metrics=["mae"])

history = model.fit(x, y, batch_size=32, epochs=4, validation_data=(x_test, y_test), verbose=0)

RESULT = {
    "history": history.history,
    "evaluation": model.evaluate(x_test, y_test, verbose=0),
    "predictions": model.predict(x_test[:4], verbose=0).tolist(),
}
