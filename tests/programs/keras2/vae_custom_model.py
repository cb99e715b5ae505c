"""Variational autoencoder with a sampling layer and add_loss (tf.keras 2.3)."""
import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras import layers

original_dim = 784
intermediate_dim = 64
latent_dim = 2


class Sampling(layers.Layer):
    """Reparameterisation trick: z = mean + exp(0.5 * log_var) * eps."""

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = tf.shape(z_mean)[0]
        dim = tf.shape(z_mean)[1]
        epsilon = K.random_normal(shape=(batch, dim))
        return z_mean + tf.exp(0.5 * z_log_var) * epsilon


class KLDivergenceLayer(layers.Layer):
    def __init__(self, *args, **kwargs):
        self.is_placeholder = True
        super(KLDivergenceLayer, self).__init__(*args, **kwargs)

    def call(self, inputs):
        mu, log_var = inputs
        kl_batch = -0.5 * K.sum(1 + log_var - K.square(mu) - K.exp(log_var), axis=-1)
        self.add_loss(K.mean(kl_batch), inputs=inputs)
        self.add_metric(K.mean(kl_batch), name="kl_loss", aggregation="mean")
        return inputs


encoder_inputs = keras.Input(shape=(original_dim,), name="encoder_input")
h = layers.Dense(intermediate_dim, activation="relu")(encoder_inputs)
z_mean = layers.Dense(latent_dim, name="z_mean")(h)
z_log_var = layers.Dense(latent_dim, name="z_log_var")(h)
z_mean, z_log_var = KLDivergenceLayer()([z_mean, z_log_var])
z = Sampling()([z_mean, z_log_var])
encoder = keras.Model(encoder_inputs, [z_mean, z_log_var, z], name="encoder")

latent_inputs = keras.Input(shape=(latent_dim,), name="z_sampling")
x = layers.Dense(intermediate_dim, activation="relu")(latent_inputs)
decoder_outputs = layers.Dense(original_dim, activation="sigmoid")(x)
decoder = keras.Model(latent_inputs, decoder_outputs, name="decoder")

outputs = decoder(encoder(encoder_inputs)[2])
vae = keras.Model(encoder_inputs, outputs, name="vae")


def reconstruction_loss(y_true, y_pred):
    return original_dim * keras.losses.binary_crossentropy(y_true, y_pred)


vae.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3), loss=reconstruction_loss)

(x_train, _), (x_test, y_test) = keras.datasets.mnist.load_data()
x_train = x_train.reshape(-1, original_dim).astype("float32") / 255
x_test = x_test.reshape(-1, original_dim).astype("float32") / 255
vae.fit(x_train, x_train, epochs=30, batch_size=128, validation_data=(x_test, x_test))

z_test = encoder.predict(x_test, batch_size=128)[0]
np.save("z_test.npy", z_test)
encoder.save("vae_encoder")
decoder.save("vae_decoder")
grid = np.linspace(-3, 3, 15)
samples = decoder.predict(np.array([[xi, yi] for xi in grid for yi in grid]))
print(samples.shape)
