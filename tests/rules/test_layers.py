"""Layer and functional-model rules (KER4xx) on whole programs: version and backend gates, how
the fixes combine, and code they must leave alone."""

from __future__ import annotations

import libcst as cst
import pytest

from kerasfix.rules import Settings, fix, lint

OLDEST = (3, 0, 0)


def codes(source: str, **settings) -> list[str]:
    chosen = Settings(select=("KER4",), **settings)
    return sorted(f.code for f in lint(source, "layer.py", chosen))


@pytest.mark.parametrize(
    "code, source, fixed_in",
    [
        ("KER411", "import keras\nkeras.layers.BatchNormalization(renorm=True)\n", (3, 14, 0)),
        ("KER412", "import keras\nkeras.layers.Embedding(10, 4, input_length=5)\n", (3, 2, 0)),
        ("KER416", "import keras\nkeras.Input((None,), ragged=True)\n", (3, 9, 0)),
        ("KER420", "import keras\nkeras.Model({'a': a, 'b': {'c': c}}, out)\n", (3, 4, 0)),
        (
            "KER421",
            "import keras\nclass L(keras.layers.Layer):\n    def call(self, x):\n"
            "        return self.inner({'x': x, 'm': None})\n",
            (3, 13, 0),
        ),
    ],
)
def test_version_gated_rules_are_quiet_from_the_fixing_release(code, source, fixed_in):
    older = (fixed_in[0], fixed_in[1] - 1, 0)
    assert code in codes(source, keras_version=OLDEST)
    assert code in codes(source, keras_version=older)
    assert code not in codes(source, keras_version=fixed_in)


def test_backend_only_problems_follow_the_target_backends():
    source = "import keras\nbn = keras.layers.BatchNormalization(synchronized=True)\nx = keras.Input((None,), ragged=True)\n"
    assert codes(source, target_backends=frozenset({"tensorflow"})) == []
    assert codes(source, target_backends=frozenset({"jax"})) == ["KER415", "KER430"]
    # Ragged inputs on TensorFlow only fail before Keras 3.9.
    assert codes(source, target_backends=frozenset({"tensorflow"}), keras_version=OLDEST) == ["KER416"]


STATE_AND_MUTATION = """\
import keras

class Lazy(keras.layers.Layer):
    def call(self, x):
        self.w = self.add_weight(shape=(x.shape[-1], 4))
        x[:, 0] = 0.0
        return x @ self.w
"""


def test_state_in_call_fails_everywhere_and_in_place_assignment_only_off_pytorch():
    # Keras 3 refuses new state on a built layer on every backend; PyTorch tensors are mutable.
    assert codes(STATE_AND_MUTATION, target_backends=frozenset({"tensorflow"})) == ["KER402", "KER431"]
    assert codes(STATE_AND_MUTATION, target_backends=frozenset({"torch"})) == ["KER402"]
    assert codes(STATE_AND_MUTATION, target_backends=frozenset({"jax", "torch"})) == ["KER402", "KER431"]


def test_python_if_on_a_tensor_is_quiet_for_pytorch_only_projects():
    source = (
        "import keras\nclass Gate(keras.layers.Layer):\n    def call(self, x):\n"
        "        if keras.ops.sum(x) > 0.5:\n            return x * 2\n        else:\n            return x / 2\n"
    )
    assert codes(source, target_backends=frozenset({"torch"})) == []
    assert codes(source, target_backends=frozenset({"tensorflow"})) == ["KER422"]


SEQUENTIAL = '''\
import tensorflow as tf
from tensorflow.keras import layers

model = tf.keras.Sequential([
    layers.Embedding(10000, 64, input_length=100),
    layers.LSTM(32, time_major=True),
    layers.BatchNormalization(fused=True),
    layers.Dense(1, name="head/out"),
])
'''


def test_sequential_fixes_of_several_rules_combine():
    result = fix(SEQUENTIAL, "model.py", Settings(keras_version=OLDEST)).source
    cst.parse_module(result)
    assert "input_length" not in result and "fused" not in result
    # The LSTM keeps `time_major`: no fix exists, only the finding.
    assert "time_major=True" in result
    assert [f.code for f in lint(result, "model.py", Settings(select=("KER4",), keras_version=OLDEST))] == ["KER409"]


def test_input_shape_moves_to_an_input_first_in_the_list():
    source = "from tensorflow import keras\nm = keras.Sequential([keras.layers.Dense(2, input_shape=(3,))])\n"
    fixed = fix(source, "m.py", Settings(select=("KER413",))).source
    assert fixed == "from tensorflow import keras\nm = keras.Sequential([keras.Input(shape=(3,)), keras.layers.Dense(2)])\n"


def test_generated_code_is_indented_like_its_class_in_crlf_files():
    source = (
        "import keras\nfrom keras import layers, ops\n\nif True:\n"
        "    class Gate(layers.Layer):\n"
        "        def __init__(self):\n"
        "            super().__init__()\n"
        "            self.pos = layers.Embedding(8, 4)\n\n"
        "        def call(self, x):\n"
        "            steps = ops.arange(0, 8, 1)\n"
        "            if ops.sum(x) > 0:\n"
        "                return x + self.pos(steps)\n"
        "            else:\n"
        "                return x\n"
    ).replace("\n", "\r\n")
    settings = Settings(select=("KER403", "KER422"))
    result = fix(source, "gate.py", settings, unsafe=True).source
    assert "\r\n        def build(self, input_shape):\r\n            self.pos.build(input_shape)\r\n\r\n" in result
    assert "            return ops.cond(ops.sum(x) > 0, lambda: x + self.pos(steps), lambda: x)\r\n" in result
    cst.parse_module(result)


def test_shadowed_tf_and_look_alike_code_stay_quiet():
    source = '''\
import keras


def make(tf, layers):
    v = tf.Variable([1.0])
    return layers.Embedding(10, 4, input_length=3)


class Cache:
    def call(self, x):
        x[:, 0] = 0
        if x.sum() > 0:
            return x
        return x


class BatchNormalization:
    def __init__(self, fused=False):
        self.fused = fused


bn = BatchNormalization(fused=True)
'''
    assert codes(source, keras_version=OLDEST) == []


# ----- KER401 in build(): add_weight with the value's shape and initializer -------------------

LAYER = (
    "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
    "class L(keras.layers.Layer):\n"
    "    def build(self, shape):\n"
    "        self.w = {value}\n"
)


def _fixed_weight(value: str) -> str | None:
    source = LAYER.format(value=value)
    result = fix(source, "layer.py", Settings(select=("KER401",)), unsafe=True)
    assert fix(result.source, "layer.py", Settings(select=("KER401",)), unsafe=True).source == result.source
    cst.parse_module(result.source)
    if result.source == source:
        return None
    return result.source.splitlines()[6].strip().removeprefix("self.w = ")


@pytest.mark.parametrize(
    "value, expected",
    [
        # The op's own defaults are passed: RandomUniform's would be -0.05..0.05.
        (
            "tf.Variable(tf.random.uniform((3, 4), seed=7))",
            "self.add_weight(shape=(3, 4), initializer=keras.initializers.RandomUniform("
            "minval=0.0, maxval=1.0, seed=7))",
        ),
        (
            "tf.Variable(tf.random.truncated_normal([4], 1.0, 0.1))",
            "self.add_weight(shape=[4], initializer=keras.initializers.TruncatedNormal(mean=1.0, stddev=0.1))",
        ),
        (
            "tf.Variable(tf.fill([2, 2], 0.5), trainable=False, name='g')",
            "self.add_weight(shape=[2, 2], initializer=keras.initializers.Constant(0.5), name='g', trainable=False)",
        ),
        ("tf.Variable(-1.5)", "self.add_weight(shape=(), initializer=keras.initializers.Constant(-1.5))"),
        (
            "tf.Variable(np.ones(3) * 2.0, dtype='float64')",
            "self.add_weight(shape=(3,), initializer=keras.initializers.Constant(2.0), dtype='float64')",
        ),
        (
            "tf.Variable(tf.zeros(shape[-1:]))",
            "self.add_weight(shape=shape[-1:], initializer=\"zeros\")",
        ),
        # An integer or a tuple? Keras needs a tuple, so the shape is not guessed.
        ("tf.Variable(tf.zeros(self.units))", None),
        ("tf.Variable(tf.ones([shape[-1]], tf.float16))", "self.add_weight(shape=[shape[-1]], initializer=\"ones\", dtype=\"float16\")"),
        # Values Keras has no initializer for: the shape must be written by hand.
        ("tf.Variable(np.arange(4.0))", None),
        ("tf.Variable(tf.ones([3]) * tf.range(3.0))", None),
        ("tf.Variable(tf.random.normal([3], seed=tf.constant(1)))", None),
        ("tf.Variable(tf.random.normal([3], name='draw'))", None),
    ],
)
def test_variable_made_in_build_becomes_add_weight(value, expected):
    assert _fixed_weight(value) == expected


def test_variable_made_in_init_stays_a_keras_variable():
    source = (
        "import numpy as np\nimport tensorflow as tf\nimport keras\n\n"
        "class L(keras.layers.Layer):\n"
        "    def __init__(self, **kwargs):\n"
        "        super().__init__(**kwargs)\n"
        "        self.w = tf.Variable(np.zeros(3))\n"
    )
    result = fix(source, "layer.py", Settings(select=("KER401",)))
    assert result.source == source.replace("tf.Variable(", "keras.Variable(")


def test_separable_conv_kernel_arguments_are_removed_whatever_the_spelling():
    source = (
        "import tensorflow as tf\nfrom tensorflow import keras\n\n"
        "def sep_conv(x, n):\n"
        "    x = keras.layers.SeparableConv2D(n, (3, 3), activation='selu', padding='same',\n"
        "                                     kernel_initializer='lecun_normal')(x)\n"
        "    y = tf.keras.layers.SeparableConvolution1D(n, 3, kernel_regularizer=reg)(x)\n"
        "    return keras.layers.DepthwiseConv1D(3, kernel_constraint=c)(y)\n"
    )
    assert codes(source) == ["KER417", "KER417", "KER417"]
    fixed = fix(source, "layer.py", Settings(select=("KER417",))).source
    assert "kernel_" not in fixed
    assert "padding='same')(x)" in fixed


def test_separable_conv_kernel_arguments_leave_other_layers_alone():
    source = (
        "import keras\n"
        "a = keras.layers.Conv2D(8, 3, kernel_initializer='he_normal')\n"
        "b = keras.layers.Conv2DTranspose(8, 3, kernel_regularizer=None)\n"
        "c = keras.layers.SeparableConv2D(8, 3, depthwise_initializer='he_normal', pointwise_constraint=None)\n"
    )
    assert codes(source) == []


RANDOM_FLIP = '''import tensorflow as tf
import keras


class RandomScale(keras.layers.Layer):
    def call(self, x, training=None):
        if training and tf.random.uniform(()) > 0.5:
            x = x * 2.0
        return x
'''


def test_a_python_if_on_a_random_tensor_is_still_reported_after_the_fix():
    # The fix ports tf.random.uniform to keras.random.uniform; the `if` still cannot trace.
    before = [f.code for f in lint(RANDOM_FLIP, "aug.py", Settings())]
    assert "KER422" in before
    fixed = fix(RANDOM_FLIP, "aug.py", Settings(), unsafe=True).source
    assert "keras.random.uniform((), seed=self.seed_generator) > 0.5" in fixed
    assert [f.code for f in lint(fixed, "aug.py", Settings())] == ["KER422"]


MULTIMODAL = '''
import keras
from keras import layers


def build_model(vocab_size, num_tags):
    title = keras.Input(shape=(None,), name="title")
    body = keras.Input(shape=(None,), name="body")
    tags = keras.Input(shape=(num_tags,), name="tags")
    text = {"title": title, "body": body}
    inputs = {"text": text, "tags": tags}

    embed = layers.Embedding(vocab_size, 64)
    title_features = layers.GlobalAveragePooling1D()(embed(title))
    body_features = layers.GlobalAveragePooling1D()(embed(body))
    x = layers.concatenate([title_features, body_features, tags])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, name="department")(x)
    outputs = {"priority": priority, "department": department}
    return keras.Model(inputs=inputs, outputs=outputs)


def build_flat_model(vocab_size, num_tags):
    title = keras.Input(shape=(None,), name="title")
    tags = keras.Input(shape=(num_tags,), name="tags")
    inputs = [title, tags]
    x = layers.concatenate([layers.GlobalAveragePooling1D()(layers.Embedding(vocab_size, 64)(title)), tags])
    return keras.Model(inputs, layers.Dense(1)(x))
'''


def test_nested_inputs_held_in_names_are_followed():
    findings = [f for f in lint(MULTIMODAL, "model.py", Settings(select=("KER420",), keras_version=(3, 0, 5)))]
    # `inputs` nests the `text` dict; the outputs dict and the flat model's list are flat.
    assert [(f.span.start_pos.line, f.message.split(": ", 1)[1]) for f in findings] == [
        (19, "`inputs` (the model's inputs) is nested, flatten it"),
    ]
    assert all(f.fix is None for f in findings)
    assert lint(MULTIMODAL, "model.py", Settings(select=("KER420",), keras_version=(3, 4, 0))) == []


CROSS_ATTENTION = '''
import keras
from keras import layers, ops


class CrossBlock(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.proj = layers.Dense(units)

    def call(self, x, context=None, sizes=None):
        if context is not None and context[1] is not None:
            x = x + ops.mean(context[1], axis=1, keepdims=True)
        return self.proj(x)


tokens = keras.Input((16, 32))
memory = keras.Input((8, 32))
block = CrossBlock(32)
h = block(tokens, context=[None, memory], sizes=[None, 8])
h = block(h, context=(memory, memory))
model = keras.Model([tokens, memory], h)
'''


def test_none_next_to_tensors_in_a_keyword_structure():
    findings = lint(CROSS_ATTENTION, "model.py", Settings(select=("KER421",), keras_version=(3, 0, 5)))
    # `context=[None, memory]` mixes; `sizes=[None, 8]` holds no tensor; the second call none.
    assert [(f.span.start_pos.line, f.span.start_pos.character) for f in findings] == [(20, 27)]
    assert findings[0].message.startswith("`None` next to tensors in `context=` fails before Keras 3.13")
    assert lint(CROSS_ATTENTION, "model.py", Settings(select=("KER421",), keras_version=(3, 13, 0))) == []


DEBUG_LAYERS = '''
import keras
from keras import layers


class PrintShapes(layers.Layer):
    """Debug layer: prints what it sees, so it must run eagerly."""

    def __init__(self, label, **kwargs):
        super().__init__(dynamic=True, **kwargs)
        self.label = label

    def call(self, inputs):
        if self.dynamic:
            print(self.label, inputs.shape)
        return inputs


class Residual(layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.dense = layers.Dense(units, dynamic=False)

    def call(self, x):
        return x + self.dense(x)


def build(units):
    model = keras.Sequential([keras.Input((units,)), PrintShapes("in"), Residual(units)])
    for layer in model.layers:
        print(layer.name, layer.dynamic, len(layer.metrics))
    return model
'''


def test_dynamic_layers_and_layer_metrics():
    def found(version):
        return [
            (f.span.start_pos.line, f.fix is not None)
            for f in lint(DEBUG_LAYERS, "layers.py", Settings(select=("KER406",), keras_version=version))
        ]

    # super().__init__(dynamic=True), self.dynamic, Dense(dynamic=False) (fixable), layer.dynamic;
    # layer.metrics only before Keras 3.3.
    assert found((3, 15, 1)) == [(9, False), (13, False), (21, True), (30, False)]
    assert found((3, 2, 1)) == [(9, False), (13, False), (21, True), (30, False), (30, False)]
    result = fix(DEBUG_LAYERS, "layers.py", Settings(select=("KER406",))).source
    assert "self.dense = layers.Dense(units)\n" in result
    assert result.count("dynamic") == DEBUG_LAYERS.count("dynamic") - 1
