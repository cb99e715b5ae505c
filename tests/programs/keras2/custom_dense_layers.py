"""Reusable layers for a tabular model: a NALU-like cell, a noisy dense layer and a gated unit."""
import tensorflow as tf
from tensorflow.keras import activations, initializers, regularizers
from tensorflow.keras.layers import InputSpec, Layer
from tensorflow.python.keras.utils import tf_utils


class NoisyDense(Layer):
    """Dense layer with factorised Gaussian noise on the weights (NoisyNet)."""

    def __init__(self, units, sigma0=0.5, activation=None, kernel_regularizer=None, **kwargs):
        super(NoisyDense, self).__init__(**kwargs)
        self.units = units
        self.sigma0 = sigma0
        self.activation = activations.get(activation)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape):
        in_dim = input_shape[-1]
        self.mu_w = self.add_weight("mu_w", shape=[in_dim, self.units],
                                    initializer=initializers.RandomUniform(-1. / in_dim ** 0.5, 1. / in_dim ** 0.5),
                                    regularizer=self.kernel_regularizer)
        self.sigma_w = self.add_weight("sigma_w", shape=[in_dim, self.units],
                                       initializer=initializers.Constant(self.sigma0 / in_dim ** 0.5))
        self.mu_b = self.add_weight("mu_b", shape=[self.units], initializer="zeros")
        self.sigma_b = self.add_weight("sigma_b", shape=[self.units],
                                       initializer=initializers.Constant(self.sigma0 / in_dim ** 0.5))
        self.input_spec = InputSpec(min_ndim=2, axes={-1: in_dim})
        self.built = True

    def _f(self, x):
        return tf.sign(x) * tf.sqrt(tf.abs(x))

    def call(self, inputs, training=None):
        in_dim = self.mu_w.shape[0]
        eps_in = self._f(tf.random.normal([in_dim, 1]))
        eps_out = self._f(tf.random.normal([1, self.units]))
        if training is None:
            training = tf.keras.backend.learning_phase()
        w = self.mu_w + tf.cast(training, tf.float32) * self.sigma_w * tf.matmul(eps_in, eps_out)
        b = self.mu_b + tf.cast(training, tf.float32) * self.sigma_b * tf.squeeze(eps_out)
        return self.activation(tf.matmul(inputs, w) + b)

    @tf_utils.shape_type_conversion
    def compute_output_shape(self, input_shape):
        return input_shape[:-1] + (self.units,)

    def get_config(self):
        config = {"units": self.units, "sigma0": self.sigma0,
                  "activation": activations.serialize(self.activation),
                  "kernel_regularizer": regularizers.serialize(self.kernel_regularizer)}
        base_config = super(NoisyDense, self).get_config()
        return dict(list(base_config.items()) + list(config.items()))


class GatedLinearUnit(Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.linear = tf.keras.layers.Dense(self.units)
        self.gate = tf.keras.layers.Dense(self.units, activation="sigmoid")
        super().build(input_shape)

    def call(self, inputs):
        return tf.multiply(self.linear(inputs), self.gate(inputs))

    def get_config(self):
        config = super().get_config()
        config["units"] = self.units
        return config


class FeatureScaler(Layer):
    """Non-trainable per-feature standardisation with statistics set from numpy."""

    def __init__(self, mean, std, **kwargs):
        super().__init__(trainable=False, **kwargs)
        self.mean_init = mean
        self.std_init = std

    def build(self, input_shape):
        self.mean = self.add_weight("mean", shape=(input_shape[-1],), trainable=False,
                                    initializer=tf.constant_initializer(self.mean_init))
        self.std = self.add_weight("std", shape=(input_shape[-1],), trainable=False,
                                   initializer=tf.constant_initializer(self.std_init))

    def call(self, x):
        return (x - self.mean) / tf.maximum(self.std, 1e-6)


def build_tabular_model(n_features, mean, std):
    inputs = tf.keras.Input(shape=(n_features,))
    x = FeatureScaler(mean, std)(inputs)
    x = GatedLinearUnit(64)(x)
    x = NoisyDense(64, activation="relu")(x)
    outputs = tf.keras.layers.Dense(1)(x)
    model = tf.keras.Model(inputs, outputs)
    model.compile(optimizer=tf.keras.optimizers.Adam(1e-3), loss="mse")
    return model
