"""Keras 2 programs whose custom `train_step` uses `tf.GradientTape` in the standard shape (one
tape, one gradient over the model's variables, one `apply_gradients`, metric updates, logs):
a VAE-like model (reconstruction + KL loss from a sub-model's outputs, custom trackers) and a
regressor with a custom loss. Each trains a few epochs on fixed data from constant weights and
records its History and predictions in `RESULT`.

The sampling of a real VAE is left out (z is the mean): random draws differ between backends,
and without them every backend computes the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

from kerasfix.rules import Settings, all_rules, fix

_VAE = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [self.total_loss_tracker, self.reconstruction_loss_tracker, self.kl_loss_tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs)[0])

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var = self.encoder(data)
            reconstruction = self.decoder(z_mean)
            reconstruction_loss = tf.reduce_mean(tf.reduce_sum(tf.square(data - reconstruction), axis=1))
            kl_loss = -0.5 * (1 + z_log_var - tf.square(z_mean) - tf.exp(z_log_var))
            kl_loss = tf.reduce_mean(tf.reduce_sum(kl_loss, axis=1))
            total_loss = reconstruction_loss + kl_loss
        grads = tape.gradient(total_loss, self.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
        self.total_loss_tracker.update_state(total_loss)
        self.reconstruction_loss_tracker.update_state(reconstruction_loss)
        self.kl_loss_tracker.update_state(kl_loss)
        return {
            "loss": self.total_loss_tracker.result(),
            "reconstruction_loss": self.reconstruction_loss_tracker.result(),
            "kl_loss": self.kl_loss_tracker.result(),
        }


def dense(units, value):
    return keras.layers.Dense(units, kernel_initializer=keras.initializers.Constant(value))


encoder_inputs = keras.Input(shape=(4,))
hidden = dense(3, 0.1)(encoder_inputs)
encoder = keras.Model(encoder_inputs, [dense(2, 0.2)(hidden), dense(2, -0.1)(hidden)])
decoder_inputs = keras.Input(shape=(2,))
decoder = keras.Model(decoder_inputs, dense(4, 0.3)(decoder_inputs))

x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=0.01))
history = vae.fit(x, epochs=4, batch_size=8, shuffle=False, verbose=0).history
RESULT = {"history": history, "predictions": vae.predict(x[:4], verbose=0)}
'''

_CUSTOM_LOSS = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = keras.layers.Dense(8, activation="tanh", kernel_initializer=keras.initializers.Constant(0.05))
        self.out = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.1))
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def call(self, inputs, training=False):
        return self.out(self.hidden(inputs))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            # A Huber-like loss plus a penalty on large predictions.
            error = tf.abs(y - y_pred)
            loss = tf.reduce_mean(tf.where(error < 0.5, 0.5 * tf.square(error), 0.5 * error - 0.125))
            loss += 0.01 * tf.reduce_mean(tf.square(y_pred))
        gradients = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}


x = np.linspace(-1.0, 1.0, 96, dtype="float32").reshape(24, 4)
y = np.sin(3.0 * x).sum(axis=1, keepdims=True)
model = Regressor()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.9))
history = model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0).history
RESULT = {"history": history, "predictions": model.predict(x[:4], verbose=0)}
'''

# The Keras 2 tutorial's step with `compiled_loss` and `compiled_metrics`, and a penalty on the
# predictions (so it is not Keras' default step). KER504 rewrites the Keras 2 calls (and updates
# the `loss` tracker under the tape), then KER502 writes the steps.
_COMPILED = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class Regressor(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = keras.layers.Dense(1, kernel_initializer=keras.initializers.Constant(0.1))

    def call(self, inputs, training=False):
        return self.dense(inputs)

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred, regularization_losses=self.losses)
            penalized = loss + 0.01 * tf.reduce_mean(tf.square(y_pred))
        grads = tape.gradient(penalized, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = np.sin(3.0 * x).sum(axis=1, keepdims=True)
model = Regressor()
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05), loss="mse", metrics=["mae"])
history = model.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0).history
RESULT = {"history": history, "predictions": model.predict(x[:4], verbose=0)}
'''


@dataclass(frozen=True)
class Program:
    name: str
    source: str
    # The History keys the fixed program logs.
    logs: tuple[str, ...]
    # Whether the original's History on TensorFlow is the truth. Keras 3's `compiled_metrics`
    # shim logs the mean prediction as `loss` (KER504): there the fixed program on TensorFlow
    # gives the History, the original still the predictions (the training is the same).
    true_history: bool = True
    # How the original fails on PyTorch (TensorFlow installed): the TensorFlow ops under the tape
    # are handed torch tensors, unless something fails before.
    torch_error: tuple[str, str] = ("RuntimeError", "Can't call numpy() on Tensor that requires grad")


PROGRAMS = (
    Program("vae", _VAE, ("kl_loss", "loss", "reconstruction_loss")),
    Program("custom-loss", _CUSTOM_LOSS, ("loss", "mae")),
    Program(
        "compiled-loss",
        _COMPILED,
        ("loss", "mae"),
        true_history=False,
        torch_error=("AttributeError", "'Regressor' object has no attribute 'compiled_loss'"),
    ),
)


# ----- KER502 with its fix ---------------------------------------------------------------------


def tape_rules() -> list:
    """Every rule (KER502 with its fix among them)."""
    return list(all_rules())


def fixed_source(source: str) -> str:
    return fix(source, "program.py", Settings(), unsafe=True, rules=tape_rules()).source


def imports_tensorflow_only_in_its_step(source: str) -> bool:
    """KER107's fix took the module's TensorFlow import away once the fixed step imported
    TensorFlow itself, in its TensorFlow branch: the program loads where TensorFlow is not
    installed."""
    lines = [line.rstrip("\n") for line in source.splitlines()]
    return "import tensorflow as tf" not in lines and any(
        line.strip() == "import tensorflow as tf" and line.startswith(" ") for line in lines
    )
