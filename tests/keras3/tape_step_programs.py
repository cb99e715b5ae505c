"""Keras 2 programs whose custom `train_step` uses `tf.GradientTape`: in the standard shape (one
tape, one gradient over the model's variables, one `apply_gradients`, metric updates, logs),
a VAE-like model (reconstruction + KL loss from a sub-model's outputs, custom trackers) and a
regressor with a custom loss; and beyond it, a GAN (two tapes, two optimizers) and a WGAN-GP
(a critic loop and a gradient penalty's tape in a method the critic's tape calls). Each trains a few epochs on fixed data from constant weights and
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


# Two tapes and two optimizers (the keras.io GAN's step), on fixed latent vectors computed from
# the batch: each backend computes the same numbers.
_GAN = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class GAN(keras.Model):
    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_samples):
        batch_size = tf.shape(real_samples)[0]
        latent = tf.sin(tf.concat([real_samples, real_samples], axis=1) * 3.0)
        generated = self.generator(latent)
        combined = tf.concat([generated, real_samples], axis=0)
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
        # Train the generator
        misleading_labels = tf.zeros((batch_size, 1))
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(latent))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}


def dense(units, value, activation=None):
    return keras.layers.Dense(units, activation=activation, kernel_initializer=keras.initializers.Constant(value))


discriminator = keras.Sequential([keras.Input(shape=(2,)), dense(8, 0.2, "tanh"), dense(1, -0.3, "sigmoid")])
generator = keras.Sequential([keras.Input(shape=(4,)), dense(8, 0.1, "tanh"), dense(2, 0.4)])
angles = np.linspace(0.0, 6.0, 64, dtype="float32")
real = np.stack([np.cos(angles), np.sin(angles) * 0.5], axis=1)
gan = GAN(discriminator, generator)
gan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.01),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss_fn=keras.losses.BinaryCrossentropy(),
)
history = gan.fit(real, epochs=4, batch_size=16, shuffle=False, verbose=0).history
RESULT = {"history": history, "predictions": generator.predict(np.sin(real[:4].repeat(2, axis=1)), verbose=0)}
'''

# A WGAN-GP's step: the critic trained twice per step in a loop, and a gradient penalty taken
# with a tape that watches the interpolated samples in a method the critic's tape calls (a
# gradient of a gradient). The interpolation weights come from the batch, not random draws.
_WGAN_GP = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class WGAN(keras.Model):
    def __init__(self, critic, generator, critic_steps=2, gp_weight=10.0):
        super().__init__()
        self.critic = critic
        self.generator = generator
        self.critic_steps = critic_steps
        self.gp_weight = gp_weight

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def gradient_penalty(self, real_samples, fake_samples):
        alpha = tf.sigmoid(real_samples[:, :1])
        interpolated = real_samples + alpha * (fake_samples - real_samples)
        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            pred = self.critic(interpolated, training=True)
        grads = gp_tape.gradient(pred, [interpolated])[0]
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1]) + 1e-12)
        return tf.reduce_mean((norm - 1.0) ** 2)

    def train_step(self, real_samples):
        latent = tf.cos(tf.concat([real_samples, real_samples], axis=1) * 2.0)
        for i in range(self.critic_steps):
            with tf.GradientTape() as tape:
                fake_samples = self.generator(latent, training=True)
                fake_logits = self.critic(fake_samples, training=True)
                real_logits = self.critic(real_samples, training=True)
                d_cost = self.d_loss_fn(real_logits, fake_logits)
                gp = self.gradient_penalty(real_samples, fake_samples)
                d_loss = d_cost + gp * self.gp_weight
            d_gradient = tape.gradient(d_loss, self.critic.trainable_variables)
            self.d_optimizer.apply_gradients(zip(d_gradient, self.critic.trainable_variables))
        with tf.GradientTape() as tape:
            gen_logits = self.critic(self.generator(latent, training=True), training=True)
            g_loss = self.g_loss_fn(gen_logits)
        gen_gradient = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gen_gradient, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


def critic_loss(real_logits, fake_logits):
    return tf.reduce_mean(fake_logits) - tf.reduce_mean(real_logits)


def generator_loss(fake_logits):
    return -tf.reduce_mean(fake_logits)


def dense(units, value, activation=None):
    return keras.layers.Dense(units, activation=activation, kernel_initializer=keras.initializers.Constant(value))


critic = keras.Sequential([keras.Input(shape=(2,)), dense(8, 0.2, "tanh"), dense(1, -0.3)])
generator = keras.Sequential([keras.Input(shape=(4,)), dense(8, 0.1, "tanh"), dense(2, 0.4)])
angles = np.linspace(0.0, 6.0, 64, dtype="float32")
real = np.stack([np.cos(angles), np.sin(angles) * 0.5], axis=1)
wgan = WGAN(critic, generator)
wgan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.01, beta_1=0.5, beta_2=0.9),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.01, beta_1=0.5, beta_2=0.9),
    d_loss_fn=critic_loss,
    g_loss_fn=generator_loss,
)
history = wgan.fit(real, epochs=4, batch_size=16, shuffle=False, verbose=0).history
RESULT = {"history": history, "predictions": generator.predict(np.cos(real[:4].repeat(2, axis=1) * 2.0), verbose=0)}
'''


# One optimizer, two tapes over two sub-models in turn, and gradients clipped before the second
# update: code the one-tape rewrite does not carry.
_TWO_PHASES = '''
import numpy as np
import tensorflow as tf
from tensorflow import keras


class TwoPhases(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super().__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.tracker = keras.metrics.Mean(name="loss")

    @property
    def metrics(self):
        return [self.tracker]

    def call(self, inputs):
        return self.decoder(self.encoder(inputs))

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            encoder_loss = tf.reduce_mean(tf.square(self.decoder(self.encoder(x)) - y))
        grads = tape.gradient(encoder_loss, self.encoder.trainable_weights)
        self.optimizer.apply_gradients(zip(grads, self.encoder.trainable_weights))
        with tf.GradientTape() as tape:
            decoder_loss = tf.reduce_mean(tf.square(self.decoder(self.encoder(x)) - y))
        grads = tape.gradient(decoder_loss, self.decoder.trainable_weights)
        grads = [tf.clip_by_value(g, -0.05, 0.05) for g in grads]
        self.optimizer.apply_gradients(zip(grads, self.decoder.trainable_weights))
        self.tracker.update_state(decoder_loss)
        return {"loss": self.tracker.result()}


def dense(units, value):
    return keras.layers.Dense(units, kernel_initializer=keras.initializers.Constant(value))


encoder = keras.Sequential([keras.Input(shape=(4,)), dense(3, 0.1)])
decoder = keras.Sequential([keras.Input(shape=(3,)), dense(1, 0.2)])
x = np.linspace(-1.0, 1.0, 64, dtype="float32").reshape(16, 4)
y = np.sin(3.0 * x).sum(axis=1, keepdims=True)
model = TwoPhases(encoder, decoder)
model.compile(optimizer=keras.optimizers.Adam(learning_rate=0.02))
# One optimizer for two parts of the model: built on all of it first, as Keras asks.
model.optimizer.build(model.trainable_variables)
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
    # How it fails on JAX (TensorFlow installed).
    jax_error: tuple[str, str] = ("TypeError", "train_step() takes 2 positional arguments but 3 were given")
    # The History key of a loss that falls as the model trains (a GAN's adversarial losses need
    # not: there the same numbers on every backend are the check).
    falling: str | None = "loss"


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
    # A model with no `call()` cannot be built off TensorFlow before its step runs (KER516).
    *(
        Program(
            name,
            source,
            ("d_loss", "g_loss"),
            torch_error=("RuntimeError", "Unable to automatically build the model"),
            jax_error=("RuntimeError", "Unable to automatically build the model"),
            falling=None,
        )
        for name, source in (("gan", _GAN), ("wgan-gp", _WGAN_GP))
    ),
    Program("two-phases", _TWO_PHASES, ("loss",)),
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
