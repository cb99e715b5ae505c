"""Custom focal loss, F1 metric and a learning-rate logger for an imbalanced classifier."""
import numpy as np
import tensorflow as tf
import tensorflow.keras.backend as K
from tensorflow import keras


def focal_loss(gamma=2.0, alpha=0.25):
    def focal_loss_fixed(y_true, y_pred):
        y_pred = K.clip(y_pred, K.epsilon(), 1.0 - K.epsilon())
        pt_1 = tf.where(tf.equal(y_true, 1), y_pred, tf.ones_like(y_pred))
        pt_0 = tf.where(tf.equal(y_true, 0), y_pred, tf.zeros_like(y_pred))
        return -K.mean(alpha * K.pow(1.0 - pt_1, gamma) * K.log(pt_1)) - K.mean(
            (1 - alpha) * K.pow(pt_0, gamma) * K.log(1.0 - pt_0))
    return focal_loss_fixed


def f1_score(y_true, y_pred):
    true_positives = K.sum(K.round(K.clip(y_true * y_pred, 0, 1)))
    possible_positives = K.sum(K.round(K.clip(y_true, 0, 1)))
    predicted_positives = K.sum(K.round(K.clip(y_pred, 0, 1)))
    precision = true_positives / (predicted_positives + K.epsilon())
    recall = true_positives / (possible_positives + K.epsilon())
    return 2 * ((precision * recall) / (precision + recall + K.epsilon()))


class BinaryF1(keras.metrics.Metric):
    def __init__(self, name="binary_f1", threshold=0.5, **kwargs):
        super().__init__(name=name, **kwargs)
        self.threshold = threshold
        self.tp = self.add_weight(name="tp", initializer="zeros")
        self.fp = self.add_weight(name="fp", initializer="zeros")
        self.fn = self.add_weight(name="fn", initializer="zeros")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = tf.cast(y_pred > self.threshold, tf.float32)
        y_true = tf.cast(y_true, tf.float32)
        self.tp.assign_add(tf.reduce_sum(y_true * y_pred))
        self.fp.assign_add(tf.reduce_sum((1 - y_true) * y_pred))
        self.fn.assign_add(tf.reduce_sum(y_true * (1 - y_pred)))

    def result(self):
        p = self.tp / (self.tp + self.fp + K.epsilon())
        r = self.tp / (self.tp + self.fn + K.epsilon())
        return 2 * p * r / (p + r + K.epsilon())

    def reset_states(self):
        for v in self.variables:
            v.assign(0.0)


class LRLogger(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        lr = K.get_value(self.model.optimizer.lr)
        logs["lr"] = lr
        print("epoch %d lr %.6f" % (epoch, lr))


def step_decay(epoch):
    return 1e-3 * (0.5 ** (epoch // 10))


if __name__ == "__main__":
    rng = np.random.RandomState(0)
    X = rng.normal(size=(5000, 30)).astype("float32")
    y = (rng.uniform(size=5000) < 0.05).astype("float32")

    model = keras.models.Sequential([
        keras.layers.Dense(64, activation="relu", input_dim=30),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(32, activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer=keras.optimizers.RMSprop(lr=1e-3),
                  loss=focal_loss(gamma=2.0, alpha=0.25),
                  metrics=[f1_score, BinaryF1(), keras.metrics.AUC(name="auc")])
    model.fit(X, y, epochs=30, batch_size=128, validation_split=0.2,
              class_weight={0: 1.0, 1: 10.0},
              callbacks=[LRLogger(), keras.callbacks.LearningRateScheduler(step_decay)])
    model.save("fraud_model.h5")
    loaded = keras.models.load_model(
        "fraud_model.h5",
        custom_objects={"focal_loss_fixed": focal_loss(), "f1_score": f1_score, "BinaryF1": BinaryF1})
