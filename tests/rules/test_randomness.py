"""Randomness rules (KER7xx) on whole layers: one SeedGenerator per layer however many random
ops it has, and no fix where the generator cannot be created cleanly."""

from __future__ import annotations

from kerasfix.rules import Settings, fix, lint

RANDOMNESS = Settings(select=("KER7",), keras_version=(3, 0, 0))


def test_random_ops_of_one_layer_share_one_new_generator():
    source = (
        "import tensorflow as tf\n"
        "import keras\n"
        "class Jitter(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        scale = tf.random.uniform((), 0.9, 1.1)\n"
        "        return x * scale + tf.random.normal(tf.shape(x))\n"
    )
    fixed = fix(source, "layer.py", RANDOMNESS, unsafe=True).source
    assert fixed == (
        "import tensorflow as tf\n"
        "import keras\n"
        "class Jitter(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.seed_generator = keras.random.SeedGenerator()\n"
        "\n"
        "    def call(self, x):\n"
        "        scale = keras.random.uniform((), 0.9, 1.1, seed=self.seed_generator)\n"
        "        return x * scale + keras.random.normal(tf.shape(x), seed=self.seed_generator)\n"
    )
    assert [f.code for f in lint(fixed, "layer.py", RANDOMNESS)] == []


def test_random_op_in_init_is_reported_without_fix():
    source = (
        "import tensorflow as tf\n"
        "class Embed(tf.keras.layers.Layer):\n"
        "    def __init__(self, n, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.table = tf.Variable(tf.random.normal((n, 8)))\n"
    )
    findings = lint(source, "layer.py", RANDOMNESS)
    assert [(f.code, f.fix) for f in findings] == [("KER701", None)]


def test_generator_attribute_taken_by_something_else_blocks_the_fix():
    source = (
        "import keras\n"
        "class Noise(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.seed_generator = 3\n"
        "    def call(self, x):\n"
        "        return x + keras.random.normal((2,))\n"
    )
    findings = lint(source, "layer.py", RANDOMNESS)
    assert [(f.code, f.fix) for f in findings] == [("KER703", None)]


def test_unseeded_random_is_a_jax_problem_only():
    source = (
        "import keras\n"
        "class Noise(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return x + keras.random.normal((2,))\n"
    )
    assert [f.code for f in lint(source, "layer.py", RANDOMNESS)] == ["KER703"]
    tensorflow_only = Settings(select=("KER7",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "layer.py", tensorflow_only) == []


def test_numpy_noise_is_frozen_where_keras_traces_call_only():
    # PyTorch runs call() eagerly: NumPy draws new numbers on every batch there.
    source = (
        "import keras\nimport numpy as np\n"
        "class Noise(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return x + np.random.normal(0, 0.1, size=(2,))\n"
    )
    def found(*backends: str) -> list[str]:
        settings = Settings(select=("KER705",), target_backends=frozenset(backends))
        return [f.code for f in lint(source, "layer.py", settings)]

    assert found("torch") == []
    assert found("tensorflow") == ["KER705"]
    assert found("jax", "torch") == ["KER705"]


def test_global_seed_reuses_an_existing_import():
    source = "import tensorflow as tf\nfrom keras import utils\ntf.random.set_seed(1)\n"
    assert fix(source, "seed.py", RANDOMNESS).source == (
        "import tensorflow as tf\nfrom keras import utils\nutils.set_random_seed(1)\n"
    )


def test_tf_random_is_reported_where_keras_cannot_run_it():
    # The TensorFlow backend runs the op in its own graph; JAX and PyTorch (in fit) cannot.
    source = (
        "import tensorflow as tf\nimport keras\n"
        "class Noise(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        return x + tf.random.normal(tf.shape(x))\n"
    )

    def found(*backends: str) -> list[str]:
        settings = Settings(select=("KER701",), target_backends=frozenset(backends))
        return [f.code for f in lint(source, "layer.py", settings)]

    assert found("tensorflow") == []
    assert found("torch") == ["KER701"]
    assert found("jax", "tensorflow") == ["KER701"]


SEEDED_TWICE = '''import random

import numpy as np
import tensorflow as tf


def set_all_seeds(seed):
    random.seed(seed)
    np.random.seed(seed)
    tf.random.set_seed(seed)
'''


def test_tf_set_seed_beside_python_random_seed_is_for_pytorch_alone():
    on = lambda *backends: [  # noqa: E731
        f.code for f in lint(SEEDED_TWICE, "seeds.py", Settings(select=("KER702",), target_backends=frozenset(backends)))
    ]
    assert on("jax", "tensorflow") == []
    assert on("torch") == ["KER702"]
    (finding,) = lint(SEEDED_TWICE, "seeds.py", Settings(select=("KER702",)))
    assert "PyTorch's dropout" in finding.note
