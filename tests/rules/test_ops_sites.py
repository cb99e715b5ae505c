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


# ----- TensorFlow ops outside model code (KER225) --------------------------------------------

OUTSIDE = Settings(select=("KER2",), keras_version=(3, 0, 0))


def _codes_at(source: str, settings: Settings = OUTSIDE) -> list[tuple[str, str]]:
    return [(f.code, source[f.span.start : f.span.end]) for f in lint(source, "t.py", settings)]


def test_nested_ops_outside_the_model_are_reported_and_fixed_together():
    source = "import keras\nimport tensorflow as tf\n\ntotal = tf.reduce_sum(tf.abs(x), axis=1)\n"
    assert _codes_at(source) == [("KER225", "tf.reduce_sum"), ("KER225", "tf.abs")]
    once = fix(source, "t.py", OUTSIDE, unsafe=True).source
    assert once == "import keras\nimport tensorflow as tf\n\ntotal = keras.ops.sum(keras.ops.absolute(x), axis=1)\n"
    assert fix(once, "t.py", OUTSIDE, unsafe=True).source == once
    # Unsafe only: the result is a backend tensor, not a tf.Tensor.
    assert fix(source, "t.py", OUTSIDE).source == source


def test_a_function_used_by_a_pipeline_before_or_after_its_definition_is_left_alone():
    later = (
        "import keras\nimport tensorflow as tf\n\n"
        "def parse(x):\n    return tf.cast(x, 'float32')\n\n"
        "ds = tf.data.Dataset.range(3).map(parse)\n"
    )
    earlier = (
        "import keras\nimport tensorflow as tf\n\n"
        "def build():\n    return tf.data.Dataset.range(3).filter(keep)\n\n"
        "def keep(x):\n    return tf.reduce_all(x > 0)\n"
    )
    partial = (
        "import functools\nimport keras\nimport tensorflow as tf\n\n"
        "def scale(x, k):\n    return tf.multiply(x, k)\n\n"
        "ds = ds.map(functools.partial(scale, k=2))\n"
    )
    assert _codes_at(later) == [] and _codes_at(earlier) == [] and _codes_at(partial) == []


def test_a_loss_passed_to_compile_is_reported_once_as_model_code():
    source = (
        "import keras\nimport tensorflow as tf\n\n"
        "def loss(a, b):\n    return tf.reduce_mean(tf.square(a - b))\n\n"
        "model.compile(loss=loss)\n"
    )
    assert _codes_at(source) == [("KER201", "tf.reduce_mean"), ("KER201", "tf.square")]


def test_values_given_to_tensorflow_stay_tensorflow():
    source = (
        "import keras\nimport tensorflow as tf\n\n"
        "tf.io.write_file('a.txt', tf.strings.as_string(tf.reduce_sum(x)))\n"
        "with tf.device('/cpu:0'):\n    y = tf.square(x)\n"
        "z = tf.py_function(lambda t: tf.abs(t), [x], 'float32')\n"
    )
    assert [code for code, _ in _codes_at(source)] == []


def test_a_method_of_a_plain_class_is_script_code():
    source = (
        "import keras\nimport tensorflow as tf\n\n"
        "class Report:\n    def mean(self, values):\n        return tf.reduce_mean(values)\n"
    )
    assert _codes_at(source) == [("KER225", "tf.reduce_mean")]


def test_quiet_when_tensorflow_is_the_only_target():
    source = "import keras\nimport tensorflow as tf\n\nmean = tf.reduce_mean(x)\n"
    tf_only = Settings(select=("KER225",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "t.py", tf_only) == []
    (finding,) = lint(source, "t.py", Settings(select=("KER225",)))
    assert finding.severity.value == "info"
    assert finding.message == "`tf.reduce_mean` needs TensorFlow installed: `keras.ops.mean` runs on every backend"


def test_the_fix_then_lets_the_tensorflow_import_go():
    source = "import keras\nimport tensorflow as tf\n\nmean = float(tf.reduce_mean(x))\n"
    result = fix(source, "t.py", Settings(), unsafe=True)
    assert result.source == "import keras\n\nmean = float(keras.ops.mean(x))\n"
    assert result.remaining == []


def test_tensorflow_control_flow_moves_with_the_functions_it_runs():
    source = (
        "import keras\nimport tensorflow as tf\n\n"
        "y = tf.map_fn(lambda r: tf.abs(r), x)\nz = tf.cond(p, lambda: tf.abs(x), lambda: x)\n"
    )
    fixed = fix(source, "t.py", OUTSIDE, unsafe=True).source
    assert fixed == (
        "import keras\nimport tensorflow as tf\n\n"
        "y = keras.ops.map(lambda r: keras.ops.absolute(r), x)\n"
        "z = keras.ops.cond(p, lambda: keras.ops.absolute(x), lambda: x)\n"
    )
    assert fix(fixed, "t.py", OUTSIDE, unsafe=True).source == fixed


def test_tf_nest_is_reported_where_tensorflow_may_be_missing():
    source = "import keras\nimport tensorflow as tf\n\nflat = tf.nest.flatten(x)\n"

    def found(*backends: str) -> list[str]:
        settings = Settings(select=("KER223",), target_backends=frozenset(backends))
        return [f.code for f in lint(source, "t.py", settings)]

    assert found("tensorflow") == []
    assert found("jax") == ["KER223"]
    assert found("torch", "tensorflow") == ["KER223"]


def test_file_utilities_in_an_edited_function_match_a_whole_file_lint():
    from kerasfix.rules.engine.incremental import IncrementalLinter
    from kerasfix.rules.engine.registry import rule_by_code

    rules = (rule_by_code("KER225"), rule_by_code("KER107"))
    source = (
        "import keras\nimport tensorflow as tf\n\n\n"
        "def save(path):\n    if not tf.io.gfile.exists(path):\n        tf.io.gfile.makedirs(path)\n\n\n"
        "def other():\n    return 1\n"
    )
    linter = IncrementalLinter("m.py", Settings(), rules)
    linter.lint(source)
    for edited in (
        source.replace("makedirs(path)", "makedirs(path + '/x')"),
        source.replace("return 1", "return tf.io.gfile.glob('*')"),
    ):
        got = linter.lint(edited)
        assert linter.last_mode == "region"
        assert got == lint(edited, "m.py", Settings(), rules=rules)
        assert {edited[f.span.start:f.span.end] for f in got if f.code == "KER225"} >= {"tf.io.gfile.exists"}


def test_a_module_needing_tensorflow_only_for_file_io_in_a_region_relint():
    # No Keras import: whether TensorFlow is there only for file I/O depends on every
    # statement, which a region re-lint reads from its earlier parses.
    from kerasfix.rules.engine.incremental import IncrementalLinter
    from kerasfix.rules.engine.registry import rule_by_code

    rules = (rule_by_code("KER225"),)
    only_io = (
        "import json\nimport tensorflow as tf\n\n\n"
        "def load(path):\n    with tf.io.gfile.GFile(path) as f:\n        return json.load(f)\n\n\n"
        "def other():\n    return 1\n"
    )
    more = only_io.replace("return 1", "return tf.constant(1)")
    for source, codes in ((only_io, ["KER225"]), (more, [])):
        linter = IncrementalLinter("m.py", Settings(), rules)
        assert [f.code for f in linter.lint(source)] == codes
        edited = source.replace("json.load(f)", "json.loads(f.read())")
        got = linter.lint(edited)
        assert linter.last_mode == "region"
        assert got == lint(edited, "m.py", Settings(), rules=rules)
        assert [f.code for f in got] == codes


DISTANCES = '''import tensorflow as tf
import keras


class NearestCentroid(keras.layers.Layer):
    def call(self, x):
        d = tf.reduce_sum(tf.square(x[:, None, :] - self.centroids[None]), axis=-1)
        nearest = tf.argmin(d, axis=1)
        running = tf.cumsum(d, -1)
        first = tf.argmax(d)
        return nearest, running, first
'''


def test_an_explicit_axis_is_not_warned_about_the_default():
    findings = {(f.code, f.span.start_pos.line + 1): f for f in lint(DISTANCES, "layer.py", Settings(select=("KER204", "KER205")))}
    given_argmin, given_cumsum, default_argmax = findings[("KER204", 8)], findings[("KER205", 9)], findings[("KER204", 10)]
    assert given_argmin.message == "`tf.argmin` runs only on the TensorFlow backend: use `keras.ops.argmin` (the axis carries over)"
    assert given_argmin.note == "keras.ops.argmin returns int32 (tf: int64)"
    assert given_cumsum.message == "`tf.cumsum` runs only on the TensorFlow backend: use `keras.ops.cumsum` (the axis carries over)"
    assert given_cumsum.note is None
    assert default_argmax.message.endswith("unless given an axis: port with `axis=0`")
    fixed = fix(DISTANCES, "layer.py", Settings(select=("KER204", "KER205"))).source
    expected = (
        DISTANCES.replace("tf.argmin(d, axis=1)", "keras.ops.argmin(d, axis=1)")
        .replace("tf.cumsum(d, -1)", "keras.ops.cumsum(d, -1)")
        .replace("tf.argmax(d)", "keras.ops.argmax(d, axis=0)")
    )
    assert fixed == expected
    assert fix(fixed, "layer.py", Settings(select=("KER204", "KER205"))).source == fixed
