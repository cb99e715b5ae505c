"""A functional model with two inputs and two named outputs, a custom loss and a custom metric
written with backend ops (tf.keras 2.x style, after the Keras guide "The Functional API": a
ticket-priority model with a regression head and a classification head).

Keras 2 habits in it: loss functions and metrics written with `tensorflow.keras.backend`
(`K.mean`, `K.square`, `K.abs`, `K.epsilon`, `K.clip`), losses, metrics and `loss_weights` as
dicts keyed by the output names, and `model.evaluate` returning the total loss, each output's
loss and each output's metrics as one list, unpacked into variables.
"""
# On Keras 3 `evaluate` returns the metrics in another order (by sorted log name): KER522's fix
# reads them by their log names from `evaluate(..., return_dict=True)`.
# Keras 3.15.1 on TensorFlow averages each output's loss over the evaluation's batches without
# weighing them by their size (the batch dimension is unknown in its compiled step), so with a
# last batch of 24 after one of 32 its per-output losses differ from Keras 2's (the total loss
# does not); with one batch they agree. That is Keras's, not the program's.
# corpus: numbers = "same"
# corpus: differs.tensorflow = ["priority_loss", "department_loss"]

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras import layers


def weighted_mse(y_true, y_pred):
    # Errors on large targets weigh more: the priority of urgent tickets matters most.
    weights = 1.0 + K.abs(y_true)
    return K.mean(weights * K.square(y_pred - y_true), axis=-1)


def relative_error(y_true, y_pred):
    return K.mean(K.abs(y_pred - y_true) / K.clip(K.abs(y_true), K.epsilon(), None), axis=-1)


def binary_f1(y_true, y_pred):
    y_pred = K.round(K.clip(y_pred, 0, 1))
    true_positives = K.sum(y_true * y_pred)
    precision = true_positives / (K.sum(y_pred) + K.epsilon())
    recall = true_positives / (K.sum(y_true) + K.epsilon())
    return 2 * precision * recall / (precision + recall + K.epsilon())


rng = np.random.RandomState(13)
n = 256
title = rng.normal(size=(n, 12)).astype("float32")
tags = (rng.uniform(size=(n, 4)) > 0.5).astype("float32")
priority = (1.0 + title[:, :2].sum(axis=1, keepdims=True) * 0.5 + tags[:, :1]).astype("float32")
department = (title[:, 2:3] + tags[:, 1:2] - 0.5 > 0).astype("float32")

title_input = keras.Input(shape=(12,), name="title")
tags_input = keras.Input(shape=(4,), name="tags")
title_features = layers.Dense(16, activation="relu")(title_input)
tags_features = layers.Dense(8, activation="relu")(tags_input)
x = layers.concatenate([title_features, tags_features])
x = layers.Dense(16, activation="relu")(x)
priority_pred = layers.Dense(1, name="priority")(x)
department_pred = layers.Dense(1, activation="sigmoid", name="department")(x)
model = keras.Model(inputs=[title_input, tags_input], outputs=[priority_pred, department_pred])

model.compile(
    optimizer=keras.optimizers.RMSprop(learning_rate=0.005),
    loss={"priority": weighted_mse, "department": "binary_crossentropy"},
    loss_weights={"priority": 1.0, "department": 0.5},
    metrics={"priority": [relative_error], "department": ["accuracy", binary_f1]},
)
history = model.fit(
    {"title": title[:200], "tags": tags[:200]},
    {"priority": priority[:200], "department": department[:200]},
    batch_size=25,
    epochs=4,
    verbose=0,
)

(
    loss,
    priority_loss,
    department_loss,
    priority_relative_error,
    department_accuracy,
    department_f1,
) = model.evaluate(
    {"title": title[200:], "tags": tags[200:]},
    {"priority": priority[200:], "department": department[200:]},
    verbose=0,
)
priority_out, department_out = model.predict({"title": title[200:204], "tags": tags[200:204]}, verbose=0)

RESULT = {
    "history": history.history,
    "loss": loss,
    "priority_loss": priority_loss,
    "department_loss": department_loss,
    "priority_relative_error": priority_relative_error,
    "department_accuracy": department_accuracy,
    "department_f1": department_f1,
    "priority_predictions": priority_out.tolist(),
    "department_predictions": department_out.tolist(),
}
