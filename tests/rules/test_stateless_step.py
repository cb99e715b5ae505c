"""KER501's fix (rules/training/_stateless_step.py): a Keras 2 `test_step` / `predict_step`
written for JAX as a stateless step beside the one as written, and what blocks it."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, fix, lint
from kerasfix.rules.training.steps import StepSignatureUnderJax

RULES = [StepSignatureUnderJax()]
MESSAGE = "On JAX, Keras calls `{name}(self, state, data)`: this Keras 2 signature fails with a TypeError"
JAX = Settings(target_backends=frozenset({"jax"}))

PREDICT = '''\
import keras


class Tagger(keras.Model):
    def predict_step(self, data):
        """The class of each row."""
        scores = self(data)
        return keras.ops.argmax(scores, axis=-1)
'''

FIXED_PREDICT_JAX = '''\
import keras


class Tagger(keras.Model):
    def predict_step(self, state, data):
        trainable_variables, non_trainable_variables = state
        # The step's code, run with the variables of `state`.
        mapping = [
            *zip(self.trainable_variables, trainable_variables),
            *zip(self.non_trainable_variables, non_trainable_variables),
        ]
        with keras.StatelessScope(state_mapping=mapping) as scope:
            """The class of each row."""
            scores = self(data)
            outputs = keras.ops.argmax(scores, axis=-1)
        non_trainable_variables = [scope.get_current_value(v) for v in self.non_trainable_variables]
        return outputs, non_trainable_variables
'''


def test_predict_step_for_jax_alone():
    """Only JAX in `target-backends`: the stateless step alone, no dispatch."""
    [finding] = lint(PREDICT, "model.py", JAX, rules=RULES)
    assert finding.fix is not None and finding.fix.applicability.value == "unsafe"
    fixed = fix(PREDICT, "model.py", JAX, unsafe=True, rules=RULES).source
    assert fixed == FIXED_PREDICT_JAX
    compile(fixed, "model.py", "exec")
    assert lint(fixed, "model.py", JAX, rules=RULES) == []
    assert fix(fixed, "model.py", JAX, unsafe=True, rules=RULES).source == fixed


def test_every_backend_keeps_the_step_as_written_for_the_others():
    fixed = fix(PREDICT, "model.py", Settings(), unsafe=True, rules=RULES).source
    head, _, rest = fixed.partition('    if keras.backend.backend() == "jax":\n')
    jax_step, _, other = rest.partition("    else:\n")
    assert head == "import keras\n\n\nclass Tagger(keras.Model):\n"
    assert jax_step.startswith("        def predict_step(self, state, data):\n")
    assert other == "".join(f"    {line}\n" for line in PREDICT.splitlines()[4:])
    assert lint(fixed, "model.py", Settings(), rules=RULES) == []


STEPS = {
    "early_return": '''    def test_step(self, data):
        if data is None:
            return {}
        return {"n": 1}
''',
    "own_name": '''    def test_step(self, data):
        state = self(data)
        return {"mean": keras.ops.mean(state)}
''',
    "decorated": '''    @tf.function(jit_compile=True)
    def test_step(self, data):
        return {}
''',
    "no_return": '''    def predict_step(self, data):
        self(data)
''',
    "keras2_trainer": '''    def test_step(self, data):
        x, y = data
        self.compiled_metrics.update_state(y, self(x))
        return {m.name: m.result() for m in self.metrics}
''',
    "every_metric": '''    def test_step(self, data):
        x, y = data
        self.accuracy.update_state(y, self(x))
        return {m.name: m.result() for m in self.metrics}
''',
}
BLOCKERS = {
    "early_return": "a `return` before the step's last statement",
    "own_name": "the name `state`, which the JAX step uses itself",
    "decorated": "a decorated step",
    "no_return": "a step that does not end with `return`",
    "keras2_trainer": "Keras 2's `self.compiled_metrics` (KER504's fix comes first)",
    "every_metric": "logs of every metric, the unused loss tracker's included (KER519's fix comes first)",
}


@pytest.mark.parametrize("name", sorted(BLOCKERS))
def test_blocker_named(name: str):
    source = "import keras\nimport tensorflow as tf\n\n\nclass M(keras.Model):\n" + STEPS[name]
    [finding] = lint(source, "model.py", Settings(), rules=RULES)
    step = "predict_step" if "predict_step" in STEPS[name] else "test_step"
    assert (finding.message, finding.fix) == (f"{MESSAGE.format(name=step)}; no fix: {BLOCKERS[name]}", None)


def test_train_step_gets_no_fix_of_its_own():
    source = "import keras\n\n\nclass M(keras.Model):\n    def train_step(self, data):\n        return {}\n"
    [finding] = lint(source, "model.py", Settings(), rules=RULES)
    assert (finding.message, finding.fix) == (MESSAGE.format(name="train_step"), None)


@pytest.mark.parametrize(
    "logs",
    [
        # KER519's fix: the tracker left out.
        '{m.name: m.result() for m in self.metrics if m.name != "loss"}',
        # A class that lists its own metrics has no loss tracker among them (KER519 is quiet).
        "{m.name: m.result() for m in self.metrics}",
    ],
)
def test_the_wait_for_ker519_ends_where_ker519_has_nothing_to_do(logs: str):
    own_metrics = "" if "!=" in logs else "    @property\n    def metrics(self):\n        return [self.accuracy]\n\n"
    source = (
        "import keras\n\n\nclass M(keras.Model):\n" + own_metrics
        + "    def test_step(self, data):\n        x, y = data\n        self.accuracy.update_state(y, self(x))\n"
        + f"        return {logs}\n"
    )
    [finding] = lint(source, "model.py", Settings(), rules=RULES)
    assert finding.message == MESSAGE.format(name="test_step") and finding.fix is not None
