"""KER502's docs say how to write a GAN's step for JAX by hand, where the fix has none (two
optimizers): on Keras 3.15+, `keras.optimizers.MultiOptimizer` given to `compile()` puts both
optimizers' variables in the JAX step's `state`, and one `keras.StatelessScope` over the whole
state lets the step call each optimizer as on TensorFlow, with `jax.value_and_grad` in place
of each tape. Checked here on the real Keras 3.15.1: the JAX step gives the History of the
TensorFlow tapes (same start, no random draws in the step), and both optimizers advance."""

from __future__ import annotations

import pytest

from keras3_cases import close
from keras3_harness import RUNNER

PROGRAM = '''
import numpy as np
import keras
from keras import layers, ops

discriminator = keras.Sequential(
    [keras.Input(shape=(2,)), layers.Dense(16), layers.LeakyReLU(negative_slope=0.2), layers.Dense(1, activation="sigmoid")]
)
generator = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(16), layers.LeakyReLU(negative_slope=0.2), layers.Dense(2)])
start = np.random.RandomState(0)
for network in (discriminator, generator):
    network.set_weights([start.normal(0, 0.3, size=w.shape).astype("float32") for w in network.get_weights()])


class GAN(keras.Model):
    def __init__(self, discriminator, generator):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.built = True

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        if keras.backend.backend() == "jax":
            d_variables = self.discriminator.trainable_variables
            super().compile(
                optimizer=keras.optimizers.MultiOptimizer(
                    lambda variable: d_optimizer if any(variable is v for v in d_variables) else g_optimizer
                )
            )
        else:
            super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn
        self.d_loss_metric = keras.metrics.Mean(name="d_loss")
        self.g_loss_metric = keras.metrics.Mean(name="g_loss")

    @property
    def metrics(self):
        return [self.d_loss_metric, self.g_loss_metric]

    def _inputs(self, real):
        latent = ops.reshape(ops.sin(ops.arange(32 * 4, dtype="float32")), (32, 4))
        labels = ops.concatenate([ops.ones((32, 1)), ops.zeros((32, 1))], axis=0)
        return latent, labels + 0.05 * ops.cos(ops.arange(64, dtype="float32"))[:, None]

    if keras.backend.backend() == "tensorflow":

        def train_step(self, real):
            import tensorflow as tf

            latent, labels = self._inputs(real)
            combined = ops.concatenate([self.generator(latent), real], axis=0)
            with tf.GradientTape() as tape:
                d_loss = self.loss_fn(labels, self.discriminator(combined))
            grads = tape.gradient(d_loss, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(grads, self.discriminator.trainable_weights))
            with tf.GradientTape() as tape:
                g_loss = self.loss_fn(ops.zeros((32, 1)), self.discriminator(self.generator(latent)))
            grads = tape.gradient(g_loss, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(grads, self.generator.trainable_weights))
            self.d_loss_metric.update_state(d_loss)
            self.g_loss_metric.update_state(g_loss)
            return {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}

    if keras.backend.backend() == "jax":

        def train_step(self, state, real):
            import jax

            variables = [*self.trainable_variables, *self.non_trainable_variables, *self.optimizer.variables, *self.metrics_variables]
            with keras.StatelessScope(state_mapping=list(zip(variables, [v for part in state for v in part]))) as scope:

                def gradient(loss_of, watched):
                    # A tape: the loss over `watched`'s values, in a scope over the current state.
                    def run(values):
                        current = [(v, scope.get_current_value(v)) for v in variables]
                        with keras.StatelessScope(state_mapping=current + list(zip(watched, values))) as inner:
                            loss = loss_of()
                        return loss, [inner.get_current_value(v) for v in variables]

                    (loss, updated), grads = jax.value_and_grad(run, has_aux=True)([scope.get_current_value(v) for v in watched])
                    for variable, value in zip(variables, updated):
                        variable.assign(value)
                    return loss, grads

                latent, labels = self._inputs(real)
                combined = ops.concatenate([self.generator(latent), real], axis=0)
                watched = self.discriminator.trainable_weights
                d_loss, grads = gradient(lambda: self.loss_fn(labels, self.discriminator(combined)), watched)
                self.d_optimizer.apply_gradients(zip(grads, watched))
                watched = self.generator.trainable_weights
                g_loss, grads = gradient(lambda: self.loss_fn(ops.zeros((32, 1)), self.discriminator(self.generator(latent))), watched)
                self.g_optimizer.apply_gradients(zip(grads, watched))
                self.d_loss_metric.update_state(d_loss)
                self.g_loss_metric.update_state(g_loss)
                logs = {"d_loss": self.d_loss_metric.result(), "g_loss": self.g_loss_metric.result()}
            new, parts = [scope.get_current_value(v) for v in variables], []
            for part in state:
                parts.append(new[: len(part)])
                new = new[len(part) :]
            return logs, tuple(parts)


rng = np.random.RandomState(5)
angles = rng.uniform(0, 2 * np.pi, size=(256,))
real = (np.stack([np.cos(angles), np.sin(angles)], axis=1) * 2.0 + rng.normal(0, 0.1, size=(256, 2))).astype("float32")
d_optimizer, g_optimizer = keras.optimizers.Adam(learning_rate=0.003), keras.optimizers.Adam(learning_rate=0.003)
gan = GAN(discriminator, generator)
gan.compile(d_optimizer=d_optimizer, g_optimizer=g_optimizer, loss_fn=keras.losses.BinaryCrossentropy())
history = gan.fit(real, batch_size=32, epochs=4, verbose=0, shuffle=False)
RESULT = {
    "history": history.history,
    "iterations": [int(ops.convert_to_numpy(o.iterations)) for o in (d_optimizer, g_optimizer)],
    "generated": generator.predict(np.ones((2, 4), "float32"), verbose=0).tolist(),
}
'''


@pytest.mark.keras3(runs=[("jax", PROGRAM, {}), ("tensorflow", PROGRAM, {})], rule="KER502", env="jax", phase="fixed")
def test_a_two_optimizer_step_written_for_jax_gives_the_tapes_numbers():
    tapes = RUNNER.run("tensorflow", PROGRAM)
    assert tapes.ok, tapes.describe()
    stateless = RUNNER.run("jax", PROGRAM)
    assert stateless.ok, stateless.describe()
    # 256 samples in batches of 32, 4 epochs: each optimizer took every step.
    assert stateless.result["iterations"] == tapes.result["iterations"] == [32, 32]
    assert close(stateless.result["history"], tapes.result["history"], 1e-5), (stateless.result, tapes.result)
    assert close(stateless.result["generated"], tapes.result["generated"], 1e-5)
