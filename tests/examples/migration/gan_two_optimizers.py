"""A GAN with two optimizers (the Keras 2 keras.io DCGAN example's training loop, small dense
networks on 2-D points).

Keras 2 habits in it: a subclassed `keras.Model` overriding `compile(d_optimizer, g_optimizer,
loss_fn)` and calling `super(GAN, self).compile()`, loss trackers in a `metrics` property, and a
`train_step` with two `tf.GradientTape`s, `tf.random.normal` latent vectors, `tf.concat` of fake
and real samples and noise added to the labels. The noise makes training random; the
discriminator's and generator's outputs before training are deterministic.
"""
# corpus: numbers = "random"
# corpus: loss = "d_loss"
# corpus: remaining = ["KER523"]
# corpus: blocked.torch = "RuntimeError: all elements of target should be between 0 and 1"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

latent_dim = 4

discriminator = keras.Sequential(
    [
        keras.Input(shape=(2,)),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(1, activation="sigmoid"),
    ],
    name="discriminator",
)

generator = keras.Sequential(
    [
        keras.Input(shape=(latent_dim,)),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(16),
        layers.LeakyReLU(alpha=0.2),
        layers.Dense(2),
    ],
    name="generator",
)


class GAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim):
        super(GAN, self).__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super(GAN, self).compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def train_step(self, real_samples):
        # Sample random points in the latent space
        batch_size = tf.shape(real_samples)[0]
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))

        # Decode them to fake samples
        generated_samples = self.generator(random_latent_vectors)

        # Combine them with real samples
        combined_samples = tf.concat([generated_samples, real_samples], axis=0)

        # Assemble labels discriminating real from fake samples
        labels = tf.concat([tf.ones((batch_size, 1)), tf.zeros((batch_size, 1))], axis=0)
        # Add random noise to the labels - important trick!
        labels += 0.05 * tf.random.uniform(tf.shape(labels))

        # Train the discriminator
        with tf.GradientTape() as tape:
            predictions = self.discriminator(combined_samples)
            d_loss = self.loss_fn(labels, predictions)
        grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))

        # Sample random points in the latent space
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))

        # Assemble labels that say "all real samples"
        misleading_labels = tf.zeros((batch_size, 1))

        # Train the generator (note that we should *not* update the weights
        # of the discriminator)!
        with tf.GradientTape() as tape:
            predictions = self.discriminator(self.generator(random_latent_vectors))
            g_loss = self.loss_fn(misleading_labels, predictions)
        grads = tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))

        # Update metrics
        self.d_loss_metric.update_state(d_loss)
        self.g_loss_metric.update_state(g_loss)
        return {
            "d_loss": self.d_loss_metric.result(),
            "g_loss": self.g_loss_metric.result(),
        }


rng = np.random.RandomState(5)
angles = rng.uniform(0, 2 * np.pi, size=(256,))
real = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 2.0 + rng.normal(0, 0.1, size=(256, 2))
real = real.astype("float32")
latent_probe = np.random.RandomState(6).normal(size=(4, latent_dim)).astype("float32")

before = {
    "discriminator": discriminator.predict(real[:4], verbose=0).tolist(),
    "generator": generator.predict(latent_probe, verbose=0).tolist(),
}

gan = GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)
gan.compile(
    d_optimizer=keras.optimizers.Adam(learning_rate=0.003),
    g_optimizer=keras.optimizers.Adam(learning_rate=0.003),
    loss_fn=keras.losses.BinaryCrossentropy(),
)
history = gan.fit(real, batch_size=32, epochs=5, verbose=0)

RESULT = {
    "before": before,
    "history": history.history,
    "generated": generator.predict(latent_probe, verbose=0).tolist(),
}
