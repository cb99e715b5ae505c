"""A training run driven by callbacks (tf.keras 2.x style): checkpoints of the best model to HDF5,
early stopping, a learning-rate schedule, a plateau reduction, a CSV log, and a callback of its own
that reads and sets the learning rate.

Keras 2 habits in it: `ModelCheckpoint` to an `.h5` path with `save_best_only` and the `period`
argument, `self.model.optimizer.lr` read with `K.get_value` and set with `K.set_value`, a
`LearningRateScheduler` taking `(epoch, lr)`, and `logs` updated in `on_epoch_end`.
"""
# corpus: numbers = "same"

import csv

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import backend as K
from tensorflow.keras import layers
from tensorflow.keras.callbacks import (
    CSVLogger,
    EarlyStopping,
    LearningRateScheduler,
    ModelCheckpoint,
    ReduceLROnPlateau,
)


class LearningRateLogger(keras.callbacks.Callback):
    """Records the learning rate of each epoch and halves it after a warm-up epoch."""

    def __init__(self, warmup_epochs=1):
        super(LearningRateLogger, self).__init__()
        self.warmup_epochs = warmup_epochs
        self.rates = []
        self.losses = []

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.warmup_epochs:
            lr = float(K.get_value(self.model.optimizer.lr))
            K.set_value(self.model.optimizer.lr, lr * 0.5)

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        lr = float(K.get_value(self.model.optimizer.lr))
        self.rates.append(lr)
        self.losses.append(float(logs["loss"]))
        logs["lr_logged"] = lr


def schedule(epoch, lr):
    # Keep the rate for two epochs, then decay it by 10% per epoch.
    if epoch < 2:
        return lr
    return lr * 0.9


rng = np.random.RandomState(5)
x = rng.uniform(-1, 1, size=(256, 10)).astype("float32")
y = (np.tanh(x[:, :3].sum(axis=1, keepdims=True)) + 0.1 * rng.normal(size=(256, 1))).astype("float32")
x_val = rng.uniform(-1, 1, size=(64, 10)).astype("float32")
y_val = np.tanh(x_val[:, :3].sum(axis=1, keepdims=True)).astype("float32")

model = keras.Sequential(
    [
        layers.Dense(32, activation="relu", input_shape=(10,)),
        layers.Dense(16, activation="relu"),
        layers.Dense(1),
    ]
)
model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.05, momentum=0.9), loss="mse", metrics=["mae"])

lr_logger = LearningRateLogger(warmup_epochs=1)
callbacks = [
    ModelCheckpoint("best_model.h5", monitor="val_loss", save_best_only=True, period=1),
    EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True),
    ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1, min_lr=1e-4),
    LearningRateScheduler(schedule),
    CSVLogger("training.csv"),
    lr_logger,
]
history = model.fit(
    x, y, batch_size=32, epochs=5, validation_data=(x_val, y_val), callbacks=callbacks, verbose=0
)

best = keras.models.load_model("best_model.h5")
with open("training.csv") as f:
    logged = list(csv.DictReader(f))

RESULT = {
    "history": history.history,
    "rates": lr_logger.rates,
    "losses": lr_logger.losses,
    "csv_loss": [float(row["loss"]) for row in logged],
    "csv_epochs": [int(row["epoch"]) for row in logged],
    "best_evaluation": best.evaluate(x_val, y_val, verbose=0),
    "predictions": model.predict(x_val[:4], verbose=0).tolist(),
}
