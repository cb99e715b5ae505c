import tensorflow as tf

from .base import BaseModel


class TrainerModel(BaseModel):
    """A Keras 2 custom training step, inherited by every model of the package."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:  # expect
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)  # expect
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)  # expect
        return {m.name: m.result() for m in self.metrics}
