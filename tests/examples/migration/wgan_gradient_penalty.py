"""A Wasserstein GAN with gradient penalty (the Keras 2 keras.io "WGAN-GP" example's training
loop, small dense networks on 2-D points).

Keras 2 habits in it: a subclassed `keras.Model` with its own `compile(d_optimizer, g_optimizer,
d_loss_fn, g_loss_fn)`, several critic steps for each generator step in a Python loop inside
`train_step`, and a gradient penalty computed with a nested `tf.GradientTape` that watches the
points interpolated between real and fake samples with `tf.random.uniform` weights. The noise
makes training random; the critic's and generator's outputs before training are deterministic.
"""
# corpus: numbers = "random"
# corpus: loss = "d_loss"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers

noise_dim = 4


def get_discriminator_model():
    inputs = layers.Input(shape=(2,))
    x = layers.Dense(32)(inputs)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(32)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(1)(x)
    return keras.models.Model(inputs, x, name="discriminator")


def get_generator_model():
    noise = layers.Input(shape=(noise_dim,))
    x = layers.Dense(32)(noise)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(32)(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Dense(2)(x)
    return keras.models.Model(noise, x, name="generator")


class WGAN(keras.Model):
    def __init__(self, discriminator, generator, latent_dim, discriminator_extra_steps=3, gp_weight=10.0):
        super(WGAN, self).__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_steps = discriminator_extra_steps
        self.gp_weight = gp_weight

    def compile(self, d_optimizer, g_optimizer, d_loss_fn, g_loss_fn):
        super(WGAN, self).compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.d_loss_fn = d_loss_fn
        self.g_loss_fn = g_loss_fn

    def gradient_penalty(self, batch_size, real_samples, fake_samples):
        """Calculates the gradient penalty.

        This loss is calculated on an interpolated sample
        and added to the discriminator loss.
        """
        # Get the interpolated sample
        alpha = tf.random.uniform([batch_size, 1], 0.0, 1.0)
        diff = fake_samples - real_samples
        interpolated = real_samples + alpha * diff

        with tf.GradientTape() as gp_tape:
            gp_tape.watch(interpolated)
            # 1. Get the discriminator output for this interpolated sample.
            pred = self.discriminator(interpolated, training=True)

        # 2. Calculate the gradients w.r.t to this interpolated sample.
        grads = gp_tape.gradient(pred, [interpolated])[0]
        # 3. Calculate the norm of the gradients.
        norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=[1]))
        gp = tf.reduce_mean((norm - 1.0) ** 2)
        return gp

    def train_step(self, real_samples):
        if isinstance(real_samples, tuple):
            real_samples = real_samples[0]

        # Get the batch size
        batch_size = tf.shape(real_samples)[0]

        # Train the discriminator for `d_steps` steps for each step of the generator.
        for i in range(self.d_steps):
            # Get the latent vector
            random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
            with tf.GradientTape() as tape:
                # Generate fake samples from the latent vector
                fake_samples = self.generator(random_latent_vectors, training=True)
                # Get the logits for the fake samples
                fake_logits = self.discriminator(fake_samples, training=True)
                # Get the logits for the real samples
                real_logits = self.discriminator(real_samples, training=True)

                # Calculate the discriminator loss using the fake and real sample logits
                d_cost = self.d_loss_fn(real_img=real_logits, fake_img=fake_logits)
                # Calculate the gradient penalty
                gp = self.gradient_penalty(batch_size, real_samples, fake_samples)
                # Add the gradient penalty to the original discriminator loss
                d_loss = d_cost + gp * self.gp_weight

            # Get the gradients w.r.t the discriminator loss
            d_gradient = tape.gradient(d_loss, self.discriminator.trainable_variables)
            # Update the weights of the discriminator using the discriminator optimizer
            self.d_optimizer.apply_gradients(zip(d_gradient, self.discriminator.trainable_variables))

        # Train the generator
        random_latent_vectors = tf.random.normal(shape=(batch_size, self.latent_dim))
        with tf.GradientTape() as tape:
            generated_samples = self.generator(random_latent_vectors, training=True)
            gen_logits = self.discriminator(generated_samples, training=True)
            g_loss = self.g_loss_fn(gen_logits)

        gen_gradient = tape.gradient(g_loss, self.generator.trainable_variables)
        self.g_optimizer.apply_gradients(zip(gen_gradient, self.generator.trainable_variables))
        return {"d_loss": d_loss, "g_loss": g_loss}


# Define the loss functions for the discriminator,
# which should be (fake_loss - real_loss).
def discriminator_loss(real_img, fake_img):
    real_loss = tf.reduce_mean(real_img)
    fake_loss = tf.reduce_mean(fake_img)
    return fake_loss - real_loss


# Define the loss functions for the generator.
def generator_loss(fake_img):
    return -tf.reduce_mean(fake_img)


rng = np.random.RandomState(7)
centers = np.array([[2.0, 0.0], [-1.0, 1.7], [-1.0, -1.7]])
real = centers[rng.randint(0, 3, size=(256,))] + rng.normal(0, 0.2, size=(256, 2))
real = real.astype("float32")
latent_probe = np.random.RandomState(8).normal(size=(4, noise_dim)).astype("float32")

g_model = get_generator_model()
d_model = get_discriminator_model()

before = {
    "critic": d_model.predict(real[:4], verbose=0).tolist(),
    "generator": g_model.predict(latent_probe, verbose=0).tolist(),
}

generator_optimizer = keras.optimizers.Adam(learning_rate=0.001, beta_1=0.5, beta_2=0.9)
discriminator_optimizer = keras.optimizers.Adam(learning_rate=0.001, beta_1=0.5, beta_2=0.9)

wgan = WGAN(discriminator=d_model, generator=g_model, latent_dim=noise_dim, discriminator_extra_steps=3)
wgan.compile(
    d_optimizer=discriminator_optimizer,
    g_optimizer=generator_optimizer,
    g_loss_fn=generator_loss,
    d_loss_fn=discriminator_loss,
)
history = wgan.fit(real, batch_size=32, epochs=5, verbose=0)

RESULT = {
    "before": before,
    "history": history.history,
    "generated": g_model.predict(latent_probe, verbose=0).tolist(),
}
