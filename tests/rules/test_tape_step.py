"""KER502's fix (rules/training/_tape_step.py): the exact per-backend step it writes for a
`tf.GradientTape` train step, the branches limited to `target-backends`, and the blocker each
step it cannot rewrite is reported with."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, all_rules, fix, lint
from kerasfix.rules.training.steps import GradientTapeInTrainStep

RULES = [GradientTapeInTrainStep()]
MESSAGE = GradientTapeInTrainStep.message


def _settings(backends: str | None) -> Settings:
    return Settings() if backends is None else Settings(target_backends=frozenset(backends.split(",")))


def _fixed(source: str, backends: str | None = None) -> str:
    return fix(source, "model.py", _settings(backends), unsafe=True, rules=RULES).source


STEP = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    """A model with its own loss."""

    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = keras.ops.mean(keras.ops.abs(y - y_pred))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.tracker.update_state(loss)
        self.mae.update_state(y, y_pred)
        return {"loss": self.tracker.result(), "mae": self.mae.result()}
'''

FIXED = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    """A model with its own loss."""

    if keras.backend.backend() == "tensorflow":
        def train_step(self, data):
            import tensorflow as tf
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = keras.ops.mean(keras.ops.abs(y - y_pred))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            return {"loss": self.tracker.result(), "mae": self.mae.result()}
    elif keras.backend.backend() == "jax":
        def train_step(self, state, data):
            import jax

            trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
            x, y = data

            def loss_and_updates(trainable_variables, non_trainable_variables):
                # The tape's code, run with the variables JAX differentiates.
                mapping = [
                    *zip(self.trainable_variables, trainable_variables),
                    *zip(self.non_trainable_variables, non_trainable_variables),
                ]
                with keras.StatelessScope(state_mapping=mapping) as scope:
                    y_pred = self(x, training=True)
                    loss = keras.ops.mean(keras.ops.abs(y - y_pred))
                non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
                return loss, (non_trainable_variables, (y_pred,))

            (loss, (non_trainable_variables, (y_pred,))), grads = jax.value_and_grad(
                loss_and_updates, has_aux=True
            )(trainable_variables, non_trainable_variables)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables
            )
            # The metric updates and the logs, on the updated variables.
            mapping = [
                *zip(self.trainable_variables, trainable_variables),
                *zip(self.non_trainable_variables, non_trainable_variables),
                *zip(self.optimizer.variables, optimizer_variables),
                *zip(self.metrics_variables, metrics_variables),
            ]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                self.tracker.update_state(loss)
                self.mae.update_state(y, y_pred)
                logs = {"loss": self.tracker.result(), "mae": self.mae.result()}
            metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
            return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
    else:
        def train_step(self, data):
            import torch

            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = keras.ops.mean(keras.ops.abs(y - y_pred))
            loss.backward()
            variables = list(self.trainable_variables)
            grads = [v.value.grad for v in variables]
            with torch.no_grad():
                self.optimizer.apply(grads, variables)
            self.tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            return {"loss": self.tracker.result(), "mae": self.mae.result()}
'''

FIXED_JAX = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    """A model with its own loss."""

    def train_step(self, state, data):
        import jax

        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data

        def loss_and_updates(trainable_variables, non_trainable_variables):
            # The tape's code, run with the variables JAX differentiates.
            mapping = [
                *zip(self.trainable_variables, trainable_variables),
                *zip(self.non_trainable_variables, non_trainable_variables),
            ]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                y_pred = self(x, training=True)
                loss = keras.ops.mean(keras.ops.abs(y - y_pred))
            non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
            return loss, (non_trainable_variables, (y_pred,))

        (loss, (non_trainable_variables, (y_pred,))), grads = jax.value_and_grad(
            loss_and_updates, has_aux=True
        )(trainable_variables, non_trainable_variables)
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        # The metric updates and the logs, on the updated variables.
        mapping = [
            *zip(self.trainable_variables, trainable_variables),
            *zip(self.non_trainable_variables, non_trainable_variables),
            *zip(self.optimizer.variables, optimizer_variables),
            *zip(self.metrics_variables, metrics_variables),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self.tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            logs = {"loss": self.tracker.result(), "mae": self.mae.result()}
        metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
'''

FIXED_TENSORFLOW_TORCH = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    """A model with its own loss."""

    if keras.backend.backend() == "tensorflow":
        def train_step(self, data):
            import tensorflow as tf
            x, y = data
            with tf.GradientTape() as tape:
                y_pred = self(x, training=True)
                loss = keras.ops.mean(keras.ops.abs(y - y_pred))
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
            self.tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            return {"loss": self.tracker.result(), "mae": self.mae.result()}
    else:
        def train_step(self, data):
            import torch

            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = keras.ops.mean(keras.ops.abs(y - y_pred))
            loss.backward()
            variables = list(self.trainable_variables)
            grads = [v.value.grad for v in variables]
            with torch.no_grad():
                self.optimizer.apply(grads, variables)
            self.tracker.update_state(loss)
            self.mae.update_state(y, y_pred)
            return {"loss": self.tracker.result(), "mae": self.mae.result()}
'''


@pytest.mark.parametrize(
    ("backends", "expected"),
    [(None, FIXED), ("jax", FIXED_JAX), ("tensorflow,torch", FIXED_TENSORFLOW_TORCH)],
    ids=["every-backend", "jax", "tensorflow-torch"],
)
def test_step_written_for_each_target_backend(backends: str | None, expected: str):
    findings = lint(STEP, "model.py", _settings(backends), rules=RULES)
    assert [(f.code, f.message, f.fix is not None) for f in findings] == [("KER502", MESSAGE, True)]
    fixed = _fixed(STEP, backends)
    assert fixed == expected
    compile(fixed, "model.py", "exec")
    # Nothing left for KER502, and a second run changes nothing.
    assert lint(fixed, "model.py", _settings(backends), rules=RULES) == []
    assert _fixed(fixed, backends) == fixed


def test_every_rule_on_the_fixed_step_reports_nothing():
    """The step imports TensorFlow in its TensorFlow branch: KER107's fix takes the module's
    import away, and the program loads without TensorFlow."""
    rules = list(all_rules())
    fixed = fix(STEP, "model.py", Settings(), unsafe=True, rules=rules).source
    assert fixed.count("    if keras.backend.backend() == \"tensorflow\":\n") == 1, fixed
    assert "\nimport tensorflow as tf\n" not in fixed and "            import tensorflow as tf\n" in fixed, fixed
    assert [f.code for f in lint(fixed, "model.py", Settings(), rules=rules)] == []


# A metric updated under the tape (KER504's fix puts the `loss` tracker there): on JAX the
# metric variables go through the differentiated function and come back out of it.
TRACKER_STEP = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            loss = self.compute_loss(y=y, y_pred=self(x, training=True))
            self.tracker.update_state(loss)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": self.tracker.result()}
'''

FIXED_TRACKER_JAX = '''\
import keras
import tensorflow as tf


class Regressor(keras.Model):
    def train_step(self, state, data):
        import jax

        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        x, y = data

        def loss_and_updates(trainable_variables, non_trainable_variables, metrics_variables):
            # The tape's code, run with the variables JAX differentiates.
            mapping = [
                *zip(self.trainable_variables, trainable_variables),
                *zip(self.non_trainable_variables, non_trainable_variables),
                *zip(self.metrics_variables, metrics_variables),
            ]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                loss = self.compute_loss(y=y, y_pred=self(x, training=True))
                self.tracker.update_state(loss)
            non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
            metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
            return loss, (non_trainable_variables, metrics_variables)

        (loss, (non_trainable_variables, metrics_variables)), grads = jax.value_and_grad(
            loss_and_updates, has_aux=True
        )(trainable_variables, non_trainable_variables, metrics_variables)
        trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables
        )
        # The metric updates and the logs, on the updated variables.
        mapping = [
            *zip(self.trainable_variables, trainable_variables),
            *zip(self.non_trainable_variables, non_trainable_variables),
            *zip(self.optimizer.variables, optimizer_variables),
            *zip(self.metrics_variables, metrics_variables),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            logs = {"loss": self.tracker.result()}
        metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
'''


def test_metric_updated_under_the_tape_keeps_its_variables_on_jax():
    assert _fixed(TRACKER_STEP, "jax") == FIXED_TRACKER_JAX


# A distiller (keras.io "Knowledge Distillation"): the teacher runs before the tape, and the
# gradient is over the student's variables only, named between the tape and the gradient.
DISTILLER_STEP = '''\
import keras
import tensorflow as tf


class Distiller(keras.Model):
    def train_step(self, data):
        x, y = data
        teacher_predictions = self.teacher(x, training=False)
        with tf.GradientTape() as tape:
            student_predictions = self.student(x, training=True)
            loss = self.loss_fn(y, student_predictions, teacher_predictions)
        trainable_vars = self.student.trainable_variables
        gradients = tape.gradient(loss, trainable_vars)
        self.optimizer.apply_gradients(zip(gradients, trainable_vars))
        self.accuracy.update_state(y, student_predictions)
        return {"loss": loss, "accuracy": self.accuracy.result()}
'''

FIXED_DISTILLER_JAX = '''\
import keras
import tensorflow as tf


class Distiller(keras.Model):
    def train_step(self, state, data):
        import jax
        import warnings

        trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables = state
        # The code before the tape, run with the variables of `state`.
        mapping = [
            *zip(self.trainable_variables, trainable_variables),
            *zip(self.non_trainable_variables, non_trainable_variables),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            x, y = data
            teacher_predictions = self.teacher(x, training=False)
        non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
        trainable_vars = self.student.trainable_variables

        def loss_and_updates(trainable_variables, non_trainable_variables):
            # The tape's code, run with the variables JAX differentiates.
            mapping = [
                *zip(self.trainable_variables, trainable_variables),
                *zip(self.non_trainable_variables, non_trainable_variables),
            ]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                student_predictions = self.student(x, training=True)
                loss = self.loss_fn(y, student_predictions, teacher_predictions)
            non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
            return loss, (non_trainable_variables, (student_predictions,))

        (loss, (non_trainable_variables, (student_predictions,))), gradients = jax.value_and_grad(
            loss_and_updates, has_aux=True
        )(trainable_variables, non_trainable_variables)
        # Only the variables the tape's gradient was over change.
        chosen = {id(v) for v in trainable_vars}
        gradients = [g if id(v) in chosen else None for v, g in zip(self.trainable_variables, gradients)]
        with warnings.catch_warnings():
            # Keras warns of the variables without a gradient: here they have none on purpose.
            warnings.filterwarnings("ignore", "Gradients do not exist")
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, gradients, trainable_variables
            )
        # The metric updates and the logs, on the updated variables.
        mapping = [
            *zip(self.trainable_variables, trainable_variables),
            *zip(self.non_trainable_variables, non_trainable_variables),
            *zip(self.optimizer.variables, optimizer_variables),
            *zip(self.metrics_variables, metrics_variables),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            self.accuracy.update_state(y, student_predictions)
            logs = {"loss": loss, "accuracy": self.accuracy.result()}
        metrics_variables = [scope.get_current_value(v) for v in self.metrics_variables]
        return logs, (trainable_variables, non_trainable_variables, optimizer_variables, metrics_variables)
'''

FIXED_DISTILLER_TORCH = '''\
import keras
import tensorflow as tf


class Distiller(keras.Model):
    def train_step(self, data):
        import torch

        x, y = data
        teacher_predictions = self.teacher(x, training=False)
        trainable_vars = self.student.trainable_variables
        self.zero_grad()
        student_predictions = self.student(x, training=True)
        loss = self.loss_fn(y, student_predictions, teacher_predictions)
        loss.backward()
        variables = list(trainable_vars)
        gradients = [v.value.grad for v in variables]
        with torch.no_grad():
            self.optimizer.apply(gradients, variables)
        self.accuracy.update_state(y, student_predictions)
        return {"loss": loss, "accuracy": self.accuracy.result()}
'''


@pytest.mark.parametrize(("backend", "expected"), [("jax", FIXED_DISTILLER_JAX), ("torch", FIXED_DISTILLER_TORCH)])
def test_sub_model_gradient_and_a_layer_before_the_tape(backend: str, expected: str):
    """JAX: the teacher runs in a scope over `state`; only the student's gradients reach the
    optimizer (the others are dropped, as the tape never computed them). PyTorch: the student's
    `.grad`s are applied."""
    fixed = _fixed(DISTILLER_STEP, backend)
    assert fixed == expected
    compile(fixed, "model.py", "exec")
    assert lint(fixed, "model.py", _settings(backend), rules=RULES) == []
    assert _fixed(fixed, backend) == fixed


HEAD = "import keras\nimport tensorflow as tf\n\n\nclass M(keras.Model):\n"
STEPS = {
"gan": '''    def train_step(self, data):
        with tf.GradientTape() as d_tape:
            d_loss = self.d_loss(data)
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as g_tape:
            g_loss = self.g_loss(data)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}
''',
"penalty": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            with tf.GradientTape() as gp_tape:
                gp_tape.watch(data)
                pred = self(data, training=True)
            penalty = tf.reduce_mean((tf.norm(gp_tape.gradient(pred, [data])[0]) - 1.0) ** 2)
            loss = tf.reduce_mean(pred) + 10.0 * penalty
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"two_tapes": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        with tf.GradientTape() as again:
            other = tf.reduce_mean(self(data, training=True))
        more = again.gradient(other, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"subset": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables[:2])
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables[:2]))
        return {"loss": loss}
''',
"call_between": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        chosen = self.pick_variables()
        grads = tape.gradient(loss, chosen)
        self.optimizer.apply_gradients(zip(grads, chosen))
        return {"loss": loss}
''',
"test_step": '''    def test_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=False))
        return {"loss": loss}
''',
"watch": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            tape.watch(data)
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"clipping": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        grads = [tf.clip_by_norm(g, 1.0) for g in grads]
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"persistent": '''    def train_step(self, data):
        with tf.GradientTape(persistent=True) as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"other_optimizer": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.opt.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"no_return": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
''',
"default": '''    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
''',
"loss_outside": '''    def train_step(self, data):
        loss = tf.constant(0.0)
        with tf.GradientTape() as tape:
            pred = self(data, training=True)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
"compiled": '''    def train_step(self, data):
        x, y = data
        with tf.GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compiled_loss(y, y_pred)
            doubled = 2.0 * loss
        grads = tape.gradient(doubled, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.compiled_metrics.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}
''',
"own_name": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        mapping = {"loss": loss}
        return mapping
''',
"expression": '''    def train_step(self, data):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(self(data, training=True))
        grads = tape.gradient(2.0 * loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        return {"loss": loss}
''',
}


BLOCKERS = {
    "gan": "`self.d_optimizer`, `self.g_optimizer` not set in a `compile()` override (JAX needs them given to Keras's `compile()`)",
    "call_between": "a tape in `train_step` not followed by `tape.gradient(...)`",
    "test_step": "a tape in `test_step` (only `train_step` is rewritten)",
    "persistent": "a tape with options (`tf.GradientTape(persistent=True)`)",
    "other_optimizer": "`self.opt` not set in a `compile()` override (JAX needs them given to Keras's `compile()`)",
    "no_return": "a step that does not end with `return <logs>`",
    "loss_outside": "a gradient of `loss`, which is not a name the tape's code assigns",
    "compiled": "Keras 2's `self.compiled_loss` and `self.compiled_metrics` (KER504's fix comes first)",
    "expression": "a gradient of `2.0 * loss`, which is not a name the tape's code assigns",
}
# Steps beyond the one-tape shape that the fix of several tapes writes: a gradient penalty's
# tape inside the loss's, two tapes, a watched input the gradient is not taken over, gradients
# clipped before the update, part of the variables, a name the one-tape step would use.
BEYOND_ONE_TAPE = ("penalty", "two_tapes", "watch", "clipping", "subset", "own_name")


# A GAN whose `compile()` takes its two optimizers: on JAX, Keras is given one MultiOptimizer
# mapping each sub-model's variables to its optimizer, so that their variables are in `state`.
GAN_WITH_COMPILE = '''\
import keras
import tensorflow as tf


class GAN(keras.Model):
    def compile(self, d_optimizer, g_optimizer):
        super().compile(run_eagerly=False)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def train_step(self, data):
        with tf.GradientTape() as d_tape:
            d_loss = self.d_loss(data)
        d_grads = d_tape.gradient(d_loss, self.discriminator.trainable_weights)
        self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        with tf.GradientTape() as g_tape:
            g_loss = self.g_loss(data)
        g_grads = g_tape.gradient(g_loss, self.generator.trainable_weights)
        self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}
'''

GAN_FIXED_JAX = '''\
import keras
import tensorflow as tf


class GAN(keras.Model):
    def compile(self, d_optimizer, g_optimizer):
        super().compile(
            optimizer=keras.optimizers.MultiOptimizer(
                lambda variable: self.d_optimizer
                if any(variable is v for v in self.discriminator.trainable_weights)
                else self.g_optimizer
            ),
            run_eagerly=False,
        )
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def train_step(self, state, data):
        # The step runs in a scope over the variables of `state`; the new state is read back from it.
        step_variables = [
            *self.trainable_variables,
            *self.non_trainable_variables,
            *self.optimizer.variables,
            *self.metrics_variables,
        ]
        step_values = [value for part in state for value in part]
        with keras.StatelessScope(state_mapping=list(zip(step_variables, step_values))) as step_scope:
            def d_tape():
                d_loss = self.d_loss(data)
                return d_loss, (d_loss,)

            (d_loss,), d_grads = self.tape_gradient(d_tape, self.discriminator.trainable_weights)
            self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))

            def g_tape():
                g_loss = self.g_loss(data)
                return g_loss, (g_loss,)

            (g_loss,), g_grads = self.tape_gradient(g_tape, self.generator.trainable_weights)
            self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
            step_logs = {"d_loss": d_loss, "g_loss": g_loss}
        step_values = [step_scope.get_current_value(v) for v in step_variables]
        new_state = []
        for part in state:
            new_state.append(step_values[: len(part)])
            step_values = step_values[len(part) :]
        return step_logs, tuple(new_state)

    def tape_gradient(self, tape_code, watched):
        """A `tf.GradientTape` on JAX: the gradient of the loss `tape_code` returns (summed, as a
        tape sums it) over `watched`: variables, whose values the code reads in a scope, or tensors,
        which it takes as arguments. The code's own variable updates (a seed, a metric) are kept.
        """
        import jax

        variables = [*self.trainable_variables, *self.non_trainable_variables, *self.metrics_variables]
        is_variable = [isinstance(w, keras.Variable) for w in watched]

        def run(values):
            mapping = [(v, v.value) for v in variables]
            mapping += [(w, value) for w, value, var in zip(watched, values, is_variable) if var]
            with keras.StatelessScope(state_mapping=mapping) as scope:
                target, bound = tape_code(*[value for value, var in zip(values, is_variable) if not var])
            return jax.numpy.sum(target), (bound, [scope.get_current_value(v) for v in variables])

        start = [w.value if var else w for w, var in zip(watched, is_variable)]
        (_, (bound, updated)), grads = jax.value_and_grad(run, has_aux=True)(start)
        for variable, value in zip(variables, updated):
            variable.assign(value)
        return bound, grads
'''

GAN_FIXED_TORCH = '''\
import keras
import tensorflow as tf


class GAN(keras.Model):
    def compile(self, d_optimizer, g_optimizer):
        super().compile(run_eagerly=False)
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer

    def train_step(self, data):
        import torch
        d_loss = self.d_loss(data)
        d_grads = self.tape_gradient(d_loss, self.discriminator.trainable_weights)
        with torch.no_grad():
            self.d_optimizer.apply_gradients(zip(d_grads, self.discriminator.trainable_weights))
        g_loss = self.g_loss(data)
        g_grads = self.tape_gradient(g_loss, self.generator.trainable_weights)
        with torch.no_grad():
            self.g_optimizer.apply_gradients(zip(g_grads, self.generator.trainable_weights))
        return {"d_loss": d_loss, "g_loss": g_loss}

    def tape_gradient(self, target, watched, create_graph=False):
        """`tape.gradient(target, watched)` on PyTorch, over variables or tensors; `create_graph`
        when the gradient is itself differentiated (a gradient penalty)."""
        import torch

        inputs = [w.value if isinstance(w, keras.Variable) else w for w in watched]
        grads = torch.autograd.grad(
            target, inputs, torch.ones_like(target), create_graph=create_graph, allow_unused=True
        )
        return list(grads)
'''


@pytest.mark.parametrize(("backend", "expected"), [("jax", GAN_FIXED_JAX), ("torch", GAN_FIXED_TORCH)])
def test_two_tapes_and_two_optimizers(backend: str, expected: str):
    fixed = _fixed(GAN_WITH_COMPILE, backend)
    assert fixed == expected
    compile(fixed, "model.py", "exec")
    assert lint(fixed, "model.py", _settings(backend), rules=RULES) == []
    assert _fixed(fixed, backend) == fixed


def test_two_optimizers_on_jax_need_keras_3_15():
    settings = Settings(target_backends=frozenset({"jax"}), keras_version=(3, 14, 0))
    findings = lint(GAN_WITH_COMPILE, "model.py", settings, rules=RULES)
    blocker = (
        "optimizers other than the model's: on JAX they need `keras.optimizers.MultiOptimizer`"
        " (Keras 3.15; the project's keras-version is older)"
    )
    assert [(f.message, f.fix) for f in findings] == [(f"{MESSAGE}; no fix: {blocker}", None)] * 2


@pytest.mark.parametrize("name", sorted(BLOCKERS))
def test_blocker_named(name: str):
    findings = lint(HEAD + STEPS[name], "model.py", Settings(), rules=RULES)
    tapes = 2 if name == "gan" else 1
    expected = f"{MESSAGE}; no fix: {BLOCKERS[name]}"
    assert [(f.message, f.fix) for f in findings] == [(expected, None)] * tapes


@pytest.mark.parametrize("name", BEYOND_ONE_TAPE)
def test_steps_beyond_one_tape_are_written_per_backend(name: str):
    source = HEAD + STEPS[name]
    [finding, *_] = lint(source, "model.py", Settings(), rules=RULES)
    assert finding.message == MESSAGE and finding.fix is not None
    fixed = _fixed(source)
    compile(fixed, "model.py", "exec")
    assert _fixed(fixed) == fixed
    assert lint(fixed, "model.py", Settings(), rules=RULES) == []
    assert fixed.count("    def train_step(self, data):\n") == 2 and "def train_step(self, state, data):" in fixed


def test_part_of_the_variables_is_fixed_without_jax():
    source = HEAD + STEPS["subset"]
    fixed = _fixed(source, "tensorflow,torch")
    assert "        variables = list(self.trainable_variables[:2])\n" in fixed, fixed
    assert lint(fixed, "model.py", _settings("tensorflow,torch"), rules=RULES) == []


def test_the_default_step_is_left_to_ker512():
    findings = lint(HEAD + STEPS["default"], "model.py", Settings(), rules=RULES)
    assert [(f.message, f.fix) for f in findings] == [(MESSAGE, None)]


def test_keras_2_import_waits_for_the_import_fix():
    source = STEP.replace("import keras\n", "from tensorflow import keras\n")
    findings = lint(source, "model.py", Settings(), rules=RULES)
    expected = f"{MESSAGE}; no fix: `keras` is not Keras 3 here (the fix follows once it is)"
    assert [(f.message, f.fix) for f in findings] == [(expected, None)]


def test_a_step_returning_a_tensor_waits_for_the_logs_fix():
    # Each backend's step would copy `return loss`: KER503 makes the logs a dict first, then the
    # step is written per backend from the fixed one.
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "class M(keras.Model):\n"
        "    def train_step(self, data):\n"
        "        x, y = data\n"
        "        with tf.GradientTape() as tape:\n"
        "            loss = self.compute_loss(y=y, y_pred=self(x, training=True))\n"
        "        grads = tape.gradient(loss, self.trainable_variables)\n"
        "        self.optimizer.apply_gradients(zip(grads, self.trainable_variables))\n"
        "        return loss\n"
    )
    [finding] = [f for f in lint(source, "model.py", Settings()) if f.code == "KER502"]
    assert finding.message == (
        f"{MESSAGE}; no fix: the step returns `loss`, not a dict of logs (KER503's fix comes first)"
    )
    assert finding.fix is None
    fixed = fix(source, "model.py", Settings(), unsafe=True).source
    assert 'if keras.backend.backend() == "tensorflow":' in fixed
    assert "return loss\n" not in fixed and fixed.count('return {"loss": loss}') == 2
    assert [f.code for f in lint(fixed, "model.py", Settings())] == []


@pytest.mark.parametrize(
    ("call", "blocker"),
    [
        ("super().compile(**kwargs)", "`super().compile(...)` given `*args` or `**kwargs`, which may pass Keras an optimizer already"),
        ("super().compile(optimizer='adam')", "a `compile()` override that already passes Keras an optimizer"),
    ],
)
def test_two_optimizers_need_a_compile_that_can_take_one(call: str, blocker: str):
    source = GAN_WITH_COMPILE.replace("def compile(self, d_optimizer, g_optimizer):", "def compile(self, d_optimizer, g_optimizer, **kwargs):")
    source = source.replace("super().compile(run_eagerly=False)", call)
    findings = lint(source, "model.py", _settings("jax"), rules=RULES)
    assert [(f.message, f.fix) for f in findings] == [(f"{MESSAGE}; no fix: {blocker}", None)] * 2
