"""A small Keras 2 training script, written the way tf.keras 2.x tutorials wrote them.

Run `kerasfix check tests/examples/keras2_training.py` to see what breaks in Keras 3, and
`kerasfix check --fix --unsafe-fixes` on a copy to migrate it.
"""

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers
from tensorflow.keras import backend as K


class ScaledDense(layers.Layer):
    """A dense layer with a learned output scale."""

    def __init__(self, units, scale=1.0):
        super().__init__()
        self.units = units
        self.scale = scale

    def build(self, input_shape):
        self.kernel = tf.Variable(
            tf.random.normal([input_shape[-1], self.units], stddev=0.05), name="kernel"
        )
        self.gain = tf.Variable(np.ones((self.units,), dtype="float32") * self.scale)

    def call(self, inputs):
        outputs = tf.matmul(inputs, self.kernel) * self.gain
        return tf.where(outputs > 0.0, outputs, 0.1 * outputs)

    def get_config(self):
        config = super().get_config()
        config.update({"units": self.units, "scale": self.scale})
        return config


class Trainer(keras.Model):
    """A model with its own training step."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = ScaledDense(16, scale=0.5)
        self.act = layers.ThresholdedReLU(theta=0.1)
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.act(self.hidden(inputs)))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def make_data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def main():
    x, y = make_data()
    model = Trainer()
    model.compile(optimizer=keras.optimizers.Adam(lr=1e-2), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=32, verbose=0)
    print("input rank:", K.int_shape(x))
    mean = tf.reduce_mean(model.predict(x, verbose=0))
    print("mean prediction:", float(mean))
    before = model.predict(x[:8], verbose=0)
    model.save("trained_model")
    restored = keras.models.load_model("trained_model")
    after = restored.predict(x[:8], verbose=0)
    print("restored:", after[:2])
    # The reloaded model must predict what the trained one did.
    np.testing.assert_allclose(after, before, rtol=1e-5, atol=1e-6)
    print("reload check passed")


if __name__ == "__main__":
    main()
