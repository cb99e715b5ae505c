"""Code that runs only when a value is a TensorFlow object (`if isinstance(x, tf.Tensor):`) is
checked as TensorFlow code: there TensorFlow is installed and the data is TensorFlow's."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, lint
from kerasfix.rules.engine.incremental import IncrementalLinter

HEADER = '''import keras
try:
    import tensorflow as tf
except ImportError:
    tf = None
import numpy as np


class Pair(keras.layers.Layer):
    def call(self, x):
'''


def found(body: str) -> list[tuple[str, int]]:
    source = HEADER + body
    return [(f.code, f.span.start_pos.line + 1 - HEADER.count("\n")) for f in lint(source, "layers.py", Settings(select=("KER2",)))]


@pytest.mark.parametrize(
    "body",
    [
        "        if isinstance(x, tf.Tensor):\n            return tf.concat([x, x], axis=-1)\n        return x\n",
        "        if tf and isinstance(x, tf.Tensor):\n            return tf.concat([x, x], axis=-1)\n        return x\n",
        "        if isinstance(x, (tf.Tensor, tf.RaggedTensor)):\n            return x[tf.newaxis]\n        return x\n",
        "        if x is None:\n            return x\n        elif isinstance(x, tf.Tensor) and x.shape.rank == 0:\n"
        "            return tf.reshape(x, (1,))\n        return x\n",
        "        return tf.concat([x, x], axis=-1) if isinstance(x, tf.Tensor) else x\n",
        "        return isinstance(x, tf.Tensor) and tf.reduce_sum(x)\n",
        # The other branch of a negated test, and the right of an `or` after one.
        "        if not isinstance(x, tf.Tensor):\n            return x\n        else:\n            return tf.concat([x, x], 0)\n",
        "        return not isinstance(x, tf.Tensor) or tf.reduce_sum(x)\n",
    ],
    ids=["if", "and", "tuple", "elif", "conditional-expression", "and-expression", "not-else", "not-or"],
)
def test_code_for_tensorflow_values_gets_no_finding_of_the_other_backends(body):
    assert found(body) == []


@pytest.mark.parametrize(
    "body, expected",
    [
        # The other branch: the value is not TensorFlow's.
        ("        if not isinstance(x, tf.Tensor):\n            x = tf.convert_to_tensor(x)\n        return x\n", [("KER201", 2)]),
        ("        if isinstance(x, tf.Tensor):\n            return x\n        else:\n            return tf.concat([x, x], 0)\n", [("KER201", 4)]),
        # A tuple that admits another kind of value.
        ("        if isinstance(x, (tf.Tensor, np.ndarray)):\n            return tf.concat([x, x], 0)\n        return x\n", [("KER201", 2)]),
        # `or`: either test may be the true one.
        ("        if isinstance(x, tf.Tensor) or x is not None:\n            return tf.concat([x, x], 0)\n        return x\n", [("KER201", 2)]),
        # Not a TensorFlow class.
        ("        if isinstance(x, np.ndarray):\n            return tf.concat([x, x], 0)\n        return x\n", [("KER201", 2)]),
    ],
    ids=["not", "else", "mixed-tuple", "or", "numpy"],
)
def test_other_tests_and_branches_are_checked_for_every_backend(body, expected):
    assert found(body) == expected


def test_tf_is_tensor_is_a_type_test_and_reported_itself():
    # `tf.is_tensor` is False for JAX and PyTorch tensors: the test is KER201's finding, the
    # branch it guards is TensorFlow code.
    body = "        return tf.reshape(x, (-1,)) if tf.is_tensor(x) else keras.ops.reshape(x, (-1,))\n"
    assert found(body) == [("KER201", 1)]
    [finding] = lint(HEADER + body, "layers.py", Settings(select=("KER2",)))
    assert "is_tensor" in finding.message


def test_a_rebound_isinstance_is_no_type_test():
    body = "        if isinstance(x, tf.Tensor):\n            return tf.concat([x, x], 0)\n        return x\n"
    source = HEADER.replace("import numpy as np\n", "import numpy as np\nisinstance = lambda value, kind: True\n") + body
    assert [f.code for f in lint(source, "layers.py", Settings(select=("KER2",)))] == ["KER201"]


def test_an_edit_inside_the_branch_gives_what_a_full_lint_gives():
    linter = IncrementalLinter("layers.py", Settings())
    body = "        if isinstance(x, tf.Tensor):\n            return tf.concat([x, x], axis=-1)\n        return tf.stack([x])\n"
    steps = [body, body.replace("axis=-1", "axis=0"), body.replace("isinstance(x, tf.Tensor)", "x is None"), body]
    for text in steps:
        source = HEADER + text
        assert linter.lint(source) == lint(source, "layers.py", Settings())
    assert [f.code for f in linter.lint(HEADER + steps[2])].count("KER201") == 2
