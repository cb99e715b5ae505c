"""The tests of the Keras version that kerasfix reads as "Keras 3 only" or "Keras 2 only" give
that answer under the real packages: Keras 3.15.1 and 3.0.5, and Keras 2 (tf-keras 2.21, which
TensorFlow serves as `tf.keras` under TF_USE_LEGACY_KERAS=1). A library's own detector, written
as keras-cv and keras-nlp write it, is read as a test of Keras 3 and answers so too."""

from __future__ import annotations

import ast

import pytest

from keras3_harness import RUNNER
from kerasfix.rules.engine.keras_version import IS_KERAS_3, KERAS_3, VersionTests, version_functions
from kerasfix.rules.engine.python_ast import dotted

KERAS_3_ONLY = [
    'keras.version().startswith("3.")',
    'keras.__version__.startswith("3")',
    'keras.__version__ >= "3.0.0"',
    'int(keras.__version__.split(".")[0]) >= 3',
    'version.parse(keras.__version__) >= version.parse("3.0")',
    'version.parse(keras.__version__).major > 2',
    'hasattr(keras, "version") and keras.version().startswith("3.")',
]
KERAS_2_ONLY = [
    'keras.__version__.startswith("2")',
    'keras.__version__ < "3"',
    'int(keras.__version__[0]) == 2',
    'version.parse(keras.__version__) < version.parse("3.0.0")',
]

DETECTOR = '''
def detect_if_tensorflow_uses_keras_3():
    try:
        from tensorflow import keras

        if hasattr(keras, "version") and keras.version().startswith("3."):
            return True
    except ImportError:
        raise ValueError("no Keras")
    return False
'''

PROGRAM = f'''
import os

if os.environ.get("TF_USE_LEGACY_KERAS") == "1":
    import tf_keras as keras  # Keras 2 (its `tf.keras` API module has no `__version__`)
else:
    import keras
from packaging import version
{DETECTOR}
TESTS = {KERAS_3_ONLY + KERAS_2_ONLY!r}


def answer(test):
    try:
        return bool(eval(test))
    except AttributeError:  # Keras 2 has no `keras.version()`: the guarded code does not run
        return "AttributeError"


try:
    import tensorflow  # noqa: F401
    detector = detect_if_tensorflow_uses_keras_3()
except ImportError:  # the Keras 3.0 venv for JAX has no TensorFlow for the detector to ask
    detector = None
RESULT = {{"keras": keras.__version__, "tests": {{test: answer(test) for test in TESTS}}, "detector": detector}}
'''

ENVS = {"tensorflow": True, "keras3.0-jax": True, "tf-keras": False}

# No `keras3` mark: these runs prove no rule's claim (rules/data/checked.toml), only how the
# engine reads the version.


def _qualify(expr: ast.expr) -> str | None:
    spelled = dotted(expr)
    head, dot, rest = (spelled or "").partition(".")
    return {"keras": "keras", "version": "packaging.version"}.get(head, "") + dot + rest if head in (
        "keras", "version") else None


def test_kerasfix_reads_each_test_as_written():
    tests = VersionTests(_qualify)
    for test in KERAS_3_ONLY:
        assert tests.outcome(ast.parse(test, mode="eval").body) == IS_KERAS_3, test
    for test in KERAS_2_ONLY:
        assert tests.outcome(ast.parse(test, mode="eval").body) == (IS_KERAS_3[1], IS_KERAS_3[0]), test
    body = ast.parse(DETECTOR).body
    functions = [stmt for stmt in body if isinstance(stmt, ast.FunctionDef)]
    assert version_functions(body, _qualify, functions) == {"detect_if_tensorflow_uses_keras_3": (KERAS_3, "")}


@pytest.mark.parametrize("env", ENVS)
def test_each_test_answers_as_read_under_real_keras(env):
    result = RUNNER.run(env, PROGRAM)
    assert result.ok, result.describe()
    keras_3 = ENVS[env]
    assert result.result["keras"].startswith("3." if keras_3 else "2."), result.result
    answers = result.result["tests"]
    for test in KERAS_3_ONLY:
        assert answers[test] is True if keras_3 else answers[test] in (False, "AttributeError"), (env, test)
    for test in KERAS_2_ONLY:
        assert answers[test] is (not keras_3), (env, test)
    assert result.result["detector"] is (None if env == "keras3.0-jax" else keras_3)
