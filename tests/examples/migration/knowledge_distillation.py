"""Knowledge distillation: a trained teacher distilled into a smaller student (tf.keras 2.x style,
after the keras.io example "Knowledge Distillation").

Keras 2 habits in it: a `keras.Model` subclass whose `compile` takes arguments of its own, a
`train_step` with `tf.GradientTape` and `apply_gradients`, `tf.nn.softmax` of temperature-scaled
logits, `self.compiled_metrics.update_state` and a `test_step` returning the metrics' results.
"""
# corpus: numbers = "same"

import numpy as np
import tensorflow as tf
from tensorflow import keras
from tensorflow.keras import layers


class Distiller(keras.Model):
    def __init__(self, student, teacher):
        super(Distiller, self).__init__()
        self.teacher = teacher
        self.student = student

    def compile(self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha=0.1, temperature=3):
        """Configure the distiller.

        Args:
            optimizer: Keras optimizer for the student weights
            metrics: Keras metrics for evaluation
            student_loss_fn: Loss function of difference between student predictions and ground-truth
            distillation_loss_fn: Loss function of difference between soft student predictions and
                soft teacher predictions
            alpha: weight to student_loss_fn and 1-alpha to distillation_loss_fn
            temperature: Temperature for softening probability distributions.
                Larger temperature gives softer distributions.
        """
        super(Distiller, self).compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def train_step(self, data):
        x, y = data

        # Forward pass of teacher
        teacher_predictions = self.teacher(x, training=False)

        with tf.GradientTape() as tape:
            # Forward pass of student
            student_predictions = self.student(x, training=True)

            # Compute losses
            student_loss = self.student_loss_fn(y, student_predictions)
            distillation_loss = (
                self.distillation_loss_fn(
                    tf.nn.softmax(teacher_predictions / self.temperature, axis=1),
                    tf.nn.softmax(student_predictions / self.temperature, axis=1),
                )
                * self.temperature**2
            )
            loss = self.alpha * student_loss + (1 - self.alpha) * distillation_loss

        # Compute gradients
        trainable_vars = self.student.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)

        # Update weights
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))

        # Update the metrics configured in `compile()`.
        self.compiled_metrics.update_state(y, student_predictions)

        # Return a dict of performance
        results = {m.name: m.result() for m in self.metrics}
        results.update({"loss": loss, "student_loss": student_loss, "distillation_loss": distillation_loss})
        return results

    def test_step(self, data):
        x, y = data

        # Compute predictions
        y_prediction = self.student(x, training=False)

        # Calculate the loss
        student_loss = self.student_loss_fn(y, y_prediction)

        # Update the metrics.
        self.compiled_metrics.update_state(y, y_prediction)

        # Return a dict of performance
        results = {m.name: m.result() for m in self.metrics}
        results.update({"student_loss": student_loss})
        return results


rng = np.random.RandomState(7)
centers = rng.normal(scale=2.0, size=(5, 16)).astype("float32")
y_all = rng.randint(0, 5, size=400)
x_all = (centers[y_all] + rng.normal(size=(400, 16))).astype("float32")
x_train, y_train = x_all[:320], y_all[:320]
x_test, y_test = x_all[320:], y_all[320:]

# Create the teacher
teacher = keras.Sequential(
    [
        keras.Input(shape=(16,)),
        layers.Dense(64, activation="relu"),
        layers.Dense(32, activation="relu"),
        layers.Dense(5),
    ],
    name="teacher",
)

# Create the student
student = keras.Sequential(
    [
        keras.Input(shape=(16,)),
        layers.Dense(8, activation="relu"),
        layers.Dense(5),
    ],
    name="student",
)

# Train teacher as usual
teacher.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
)
teacher_history = teacher.fit(x_train, y_train, batch_size=32, epochs=3, verbose=0)
teacher_evaluation = teacher.evaluate(x_test, y_test, verbose=0)

# Initialize and compile distiller
distiller = Distiller(student=student, teacher=teacher)
distiller.compile(
    optimizer=keras.optimizers.Adam(learning_rate=0.01),
    metrics=[keras.metrics.SparseCategoricalAccuracy()],
    student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    distillation_loss_fn=keras.losses.KLDivergence(),
    alpha=0.1,
    temperature=10,
)

# Distill teacher to student
history = distiller.fit(x_train, y_train, batch_size=32, epochs=3, verbose=0)

# Evaluate student on test dataset
distiller_evaluation = distiller.evaluate(x_test, y_test, verbose=0)

RESULT = {
    "history": history.history,
    "teacher_history": teacher_history.history,
    "teacher_evaluation": teacher_evaluation,
    "distiller_evaluation": distiller_evaluation,
    "student_predictions": student.predict(x_test[:4], verbose=0).tolist(),
}
