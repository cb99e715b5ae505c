"""Where the ops rules report, and the argument forms their fixes refuse."""

from __future__ import annotations

from kerasfix.rules import Settings, fix, lint

OPS = Settings(select=("KER2",), keras_version=(3, 0, 0))


def _layer(statement: str) -> str:
    return (
        "import tensorflow as tf\nimport keras\n\n"
        "class Block(keras.layers.Layer):\n"
        f"    def call(self, x):\n        return {statement}\n"
    )


def test_split_sizes_ending_in_minus_one_become_indices():
    fixed = fix(_layer("tf.split(x, [4, 1, -1], axis=-1)"), "t.py", OPS, unsafe=True).source
    assert fixed == _layer("keras.ops.split(x, [4, 5], axis=-1)")


def test_split_with_minus_one_before_the_end_gets_no_fix():
    source = _layer("tf.split(x, [4, -1, 1], axis=-1)")
    (finding,) = lint(source, "t.py", OPS)
    assert finding.code == "KER210" and finding.fix is None


def test_a_functional_model_is_not_a_keras_tensor():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "x = keras.Input((3,))\ny = keras.layers.Dense(2)(x)\n"
        "model = keras.Model(x, y)\nckpt = tf.train.Checkpoint(model=model)\n"
    )
    assert lint(source, "t.py", OPS) == []


def test_keras_tensors_flow_through_keras_ops_and_arithmetic():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "x = keras.Input((3,))\nh = keras.ops.relu(x) * 2\n"
        "y = tf.expand_dims(h, -1)\n"
    )
    (finding,) = lint(source, "t.py", OPS)
    assert finding.code == "KER222"
    assert fix(source, "t.py", OPS).source.endswith("y = keras.ops.expand_dims(h, -1)\n")


def test_nested_ops_are_fixed_in_one_pass():
    result = fix(_layer("tf.reduce_sum(tf.square(tf.abs(x)), axis=-1)"), "t.py", OPS)
    assert result.source == _layer("keras.ops.sum(keras.ops.square(keras.ops.absolute(x)), axis=-1)")
    assert result.applied == 3


def test_findings_held_for_a_lambda_function_defined_after_use():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "def build():\n    return keras.layers.Lambda(scale)\n\n"
        "def scale(t):\n    return tf.reduce_max(t)\n"
    )
    assert [f.code for f in lint(source, "t.py", OPS)] == ["KER201"]


def test_methods_of_subclasses_of_local_keras_classes_are_model_code():
    source = (
        "import tensorflow as tf\nfrom tensorflow import keras\n\n"
        "class Base(keras.layers.Layer):\n    pass\n\n"
        "class Child(Base):\n    def helper(self, x):\n        return tf.reduce_max(x)\n"
    )
    assert [f.code for f in lint(source, "t.py", OPS)] == ["KER201"]
