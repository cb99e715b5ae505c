"""Custom `train_step` and `test_step` on the JAX backend, as the Keras 3 guide writes them
("Customizing what happens in `fit()` with JAX"): stateless calls, the state passed in and
returned, metrics updated with `stateless_update_state`, and a loss tracker of its own.

Run with KERAS_BACKEND=jax. kerasfix reports nothing here: this is the Keras 3 way.
"""

import jax
import numpy as np

import keras


@keras.saving.register_keras_serializable()
class CustomModel(keras.Model):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y, training=False):
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=training
        )
        loss = self.loss_fn(y, y_pred)
        return loss, (y_pred, non_trainable_variables)

    def train_step(self, state, data):
        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data
        grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
        (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
            trainable_variables, non_trainable_variables, x, y, training=True
        )
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        loss_tracker_vars = metrics_variables[: len(self.loss_tracker.variables)]
        mae_metric_vars = metrics_variables[len(self.loss_tracker.variables) :]
        loss_tracker_vars = self.loss_tracker.stateless_update_state(loss_tracker_vars, loss)
        mae_metric_vars = self.mae_metric.stateless_update_state(mae_metric_vars, y, y_pred)
        logs = {
            self.loss_tracker.name: self.loss_tracker.stateless_result(loss_tracker_vars),
            self.mae_metric.name: self.mae_metric.stateless_result(mae_metric_vars),
        }
        new_metrics_vars = loss_tracker_vars + mae_metric_vars
        state = (trainable_variables, non_trainable_variables, optimizer_variables, new_metrics_vars)
        return logs, state

    def test_step(self, state, data):
        x, y = data
        trainable_variables, non_trainable_variables, metrics_variables = state
        y_pred, non_trainable_variables = self.stateless_call(
            trainable_variables, non_trainable_variables, x, training=False
        )
        loss = self.loss_fn(y, y_pred)
        loss_tracker_vars = metrics_variables[: len(self.loss_tracker.variables)]
        mae_metric_vars = metrics_variables[len(self.loss_tracker.variables) :]
        loss_tracker_vars = self.loss_tracker.stateless_update_state(loss_tracker_vars, loss)
        mae_metric_vars = self.mae_metric.stateless_update_state(mae_metric_vars, y, y_pred)
        logs = {
            self.loss_tracker.name: self.loss_tracker.stateless_result(loss_tracker_vars),
            self.mae_metric.name: self.mae_metric.stateless_result(mae_metric_vars),
        }
        new_metrics_vars = loss_tracker_vars + mae_metric_vars
        state = (trainable_variables, non_trainable_variables, new_metrics_vars)
        return logs, state

    @property
    def metrics(self):
        # Listed here so that Keras resets them at the start of each epoch.
        return [self.loss_tracker, self.mae_metric]


def main():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(1)(keras.layers.Dense(16, activation="relu")(inputs))
    model = CustomModel(inputs, outputs)
    model.compile(optimizer="adam")
    x = np.random.random((512, 32)).astype("float32")
    y = x.mean(axis=1, keepdims=True)
    history = model.fit(x, y, epochs=5, batch_size=64, verbose=0)
    evaluation = model.evaluate(x, y, verbose=0, return_dict=True)
    return {"loss": history.history["loss"], "mae": history.history["mae"], "evaluation": evaluation}


if __name__ == "__main__":
    RESULT = main()
    print(RESULT)
