"""A variational autoencoder (the Keras 2 keras.io "Variational AutoEncoder" example, small).

Keras 2 habits in it: a `Sampling` layer drawing `tf.random.normal` noise, encoder and decoder
functional models, a subclassed `keras.Model` with `super(VAE, self).__init__`, loss trackers
(`keras.metrics.Mean`) listed in a `metrics` property, and a `train_step` with a
`tf.GradientTape` computing the reconstruction and KL losses with TensorFlow ops. The sampling
is random while the model trains; the encoder's means and the decoder's outputs before training
are deterministic.
"""
# corpus: numbers = "random"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding an image."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = tf.random.normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


latent_dim = 2

encoder_inputs = keras.Input(shape=(16, 16, 1))
x = layers.Conv2D(8, 3, activation="relu", strides=2, padding="same")(encoder_inputs)
x = layers.Conv2D(16, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Flatten()(x)
x = layers.Dense(16, activation="relu")(x)
z_mean = layers.Dense(latent_dim, name="z_mean")(x)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(x)
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,))
x = layers.Dense(4 * 4 * 16, activation="relu")(latent_inputs)
x = layers.Reshape((4, 4, 16))(x)
x = layers.Conv2DTranspose(16, 3, activation="relu", strides=2, padding="same")(x)
x = layers.Conv2DTranspose(8, 3, activation="relu", strides=2, padding="same")(x)
decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")


class VAE(keras.Model):
    def __init__(self, encoder, decoder, **kwargs):
        super(VAE, self).__init__(**kwargs)
        self.encoder = encoder
        self.decoder = decoder
        self.total_loss_tracker = keras.metrics.Mean(name="total_loss")
        self.reconstruction_loss_tracker = keras.metrics.Mean(name="reconstruction_loss")
        self.kl_loss_tracker = keras.metrics.Mean(name="kl_loss")

    @property
    def metrics(self):
        return [
            self.total_loss_tracker,
            self.reconstruction_loss_tracker,
            self.kl_loss_tracker,
        ]

    def train_step(self, data):
        with tf.GradientTape() as tape:
            z_mean, z_log_var, z = self.encoder(data)
            reconstruction = self.decoder(z)
            reconstruction_loss = tf.reduce_mean(
                tf.reduce_sum(keras.losses.binary_crossentropy(data, reconstruction), axis=(1, 2))
            )
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


def make_blobs(rng, count):
    """16x16 grey images in [0, 1]: one soft blob each, at a random place and of a random size."""
    grid = np.arange(16, dtype="float64")
    rows, cols = np.meshgrid(grid, grid, indexing="ij")
    centers = rng.uniform(3, 13, size=(count, 2))
    widths = rng.uniform(1.5, 3.5, size=(count, 1, 1))
    squared = (rows - centers[:, :1, None]) ** 2 + (cols - centers[:, 1:, None]) ** 2
    images = np.exp(-squared / (2 * widths**2))
    return images[..., None].astype("float32")


rng = np.random.RandomState(4)
images = make_blobs(rng, 256)
probe = images[:3]
grid_latents = np.array([[0.0, 0.0], [1.0, -1.0], [-0.5, 2.0]], dtype="float32")

vae = VAE(encoder, decoder)
vae.compile(optimizer=keras.optimizers.Adam(learning_rate=3e-3))

# Encoder means and variances (not the sampled z) and decoded images are deterministic.
encoded = encoder.predict(probe, verbose=0)
before = {
    "z_mean": encoded[0].tolist(),
    "z_log_var": encoded[1].tolist(),
    "decoded": decoder.predict(grid_latents, verbose=0)[:, 6:10, 6:10, 0].tolist(),
}

history = vae.fit(images, epochs=4, batch_size=32, verbose=0)

RESULT = {
    "before": before,
    "history": history.history,
    "z_mean": encoder.predict(probe, verbose=0)[0].tolist(),
}
