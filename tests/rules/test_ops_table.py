"""Every row of the op tables (`rules/data/ops_tf.toml`, `rules/data/ops_backend.toml`): its
example call, under every spelling of the op, is reported once on the callee and fixed to
exactly the expected text, with the expected safety."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, all_rules, fix, lint
from kerasfix.rules.engine.tables import load_lines, load_toml

OPS = Settings(select=("KER2",), keras_version=(3, 0, 0))
LAYER = (
    "import tensorflow as tf\nimport keras\n\n"
    "class Block(keras.layers.Layer):\n"
    "    def call(self, x, y, z):\n"
    "        return {}\n"
)
BACKEND = "from keras import backend as K\nimport keras\n\nx = {}\n"
KERAS_API = load_lines("keras3_api.txt")
CODES = {rule.code for rule in all_rules()}


def _cases(file: str, table: str, key: str, prefix: str):
    for row in load_toml(file)[table]:
        before, after, *kind = row["example"]
        first = f"{prefix}{row[key][0]}("
        assert before.startswith(first), f"the example of {row[key][0]} does not call it"
        for spelling in row[key]:
            call = before.replace(first, f"{prefix}{spelling}(", 1)
            unsafe = bool(kind) or row.get("safety") == "unsafe"
            yield pytest.param(row, spelling, call, after, unsafe, id=f"{prefix}{spelling}")


TF_CASES = list(_cases("ops_tf.toml", "op", "tf", "tf."))
BACKEND_CASES = list(_cases("ops_backend.toml", "fn", "fn", "K."))


# Rows whose example uses the form that a trap of its own reports.
TRAP_EXAMPLES = {"split": "KER210", "direction": "KER215", "matmul": "KER214"}


def _code(row: dict, prefix: str) -> str:
    if prefix == "K.":
        return "KER221"
    return TRAP_EXAMPLES.get(row.get("transform", ""), row.get("rule", "KER201"))


def _check(template: str, row: dict, spelling: str, call: str, expected: str, unsafe: bool, prefix: str):
    source = template.format(call)
    findings = lint(source, "t.py", OPS)
    assert len(findings) == 1, [(f.code, f.message) for f in findings]
    finding = findings[0]
    assert source[finding.span.start : finding.span.end] == f"{prefix}{spelling}"
    assert finding.code == _code(row, prefix)
    fixed = fix(source, "t.py", OPS, unsafe=True).source
    if not expected:
        assert finding.fix is None
        assert fixed == source
        return
    assert fixed == template.format(expected)
    safe_only = fix(source, "t.py", OPS, unsafe=False).source
    assert (safe_only == fixed) is not unsafe


@pytest.mark.parametrize("row, spelling, call, expected, unsafe", TF_CASES)
def test_tf_row(row, spelling, call, expected, unsafe):
    _check(LAYER, row, spelling, call, expected, unsafe, "tf.")


@pytest.mark.parametrize("row, spelling, call, expected, unsafe", BACKEND_CASES)
def test_backend_row(row, spelling, call, expected, unsafe):
    _check(BACKEND, row, spelling, call, expected, unsafe, "K.")


@pytest.mark.parametrize("file, table", [("ops_tf.toml", "op"), ("ops_backend.toml", "fn")])
def test_targets_exist_in_keras_3(file, table):
    for row in load_toml(file)[table]:
        if row["target"]:
            assert f"keras.{row['target']}" in KERAS_API, row["target"]
        assert row.get("rule", "KER201") in CODES
        assert row.get("safety", "safe") in ("safe", "unsafe", "none")


def test_removed_backend_functions_are_really_removed():
    for row in load_toml("ops_backend.toml")["fn"]:
        for name in row["fn"]:
            assert f"keras.backend.{name}" not in KERAS_API, name


def test_tf_spellings_are_unique():
    seen: set[str] = set()
    for row in load_toml("ops_tf.toml")["op"]:
        for name in row["tf"]:
            assert name not in seen, name
            seen.add(name)


def test_other_import_spellings():
    """`from tensorflow import math as tfm` and `tf.compat.v2` reach the same rows."""
    source = (
        "from tensorflow import math as tfm\nimport tensorflow.compat.v2 as tf2\nfrom keras import ops\n"
        "from tensorflow.keras.layers import Layer\n\n"
        "class Block(Layer):\n"
        "    def call(self, x):\n"
        "        return tfm.reduce_sum(x, axis=0) + tf2.gather(x, [0])\n"
    )
    fixed = fix(source, "t.py", OPS).source
    assert fixed.endswith("        return ops.sum(x, axis=0) + ops.take(x, [0], axis=0)\n")


def test_held_findings_of_function_never_used_by_a_model_are_dropped():
    source = "import tensorflow as tf\nimport keras\n\ndef prep(x):\n    return tf.reduce_sum(x)\n"
    # Not as model code (KER201): as an op outside the model, which needs TensorFlow installed.
    assert [f.code for f in lint(source, "t.py", OPS)] == ["KER225"]


def test_function_passed_to_compile_is_model_code():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "def weighted(a, b):\n    return tf.reduce_mean(tf.abs(a - b))\n\n"
        "model = keras.Sequential([keras.layers.Dense(1)])\n"
        "model.compile(optimizer='adam', loss=weighted, metrics=[weighted])\n"
    )
    codes = [f.code for f in lint(source, "t.py", OPS)]
    assert codes == ["KER201", "KER201"]


def test_portability_rules_are_quiet_for_tensorflow_only_projects():
    source = LAYER.format("tf.reduce_sum(x)")
    tf_only = Settings(select=("KER2",), target_backends=frozenset({"tensorflow"}))
    assert lint(source, "t.py", tf_only) == []
    backend_source = BACKEND.format("K.int_shape(y)")
    assert [f.code for f in lint(backend_source, "t.py", tf_only)] == ["KER221"]


def _bn_layer(statement: str) -> str:
    return LAYER.replace("return {}", statement)


def test_batch_normalization_becomes_tensorflows_broadcasting_formula():
    source = _bn_layer(
        "a = 2 * tf.nn.batch_normalization(x, y, z, None, 1.5, variance_epsilon=1e-3)\n"
        "        return tf.nn.batch_normalization(x + 1, mean=y, variance=z, offset=y if z else 0.0, "
        "scale=None, variance_epsilon=eps, name='bn')"
    )
    expected = _bn_layer(
        "a = 2 * ((x - y) * keras.ops.rsqrt(z + 1e-3) * 1.5)\n"
        "        return ((x + 1) - y) * keras.ops.rsqrt(z + eps) + (y if z else 0.0)"
    )
    fixed = fix(source, "t.py", OPS).source
    assert fixed == expected
    assert fix(fixed, "t.py", OPS).source == fixed


def test_batch_normalization_without_epsilon_or_with_a_none_mean_gets_no_fix():
    for call in ("tf.nn.batch_normalization(x, y, z, 0.0, 1.0)", "tf.nn.batch_normalization(x, None, z, 0.0, 1.0, 1e-3)"):
        (finding,) = lint(_bn_layer(f"return {call}"), "t.py", OPS)
        assert finding.code == "KER201" and finding.fix is None


def test_batch_normalization_formula_is_unsafe_with_numpy_arguments():
    # `tensor - np.zeros(4)` fails on PyTorch in training: that rewrite needs --unsafe-fixes.
    source = (
        "import numpy as np\nimport tensorflow as tf\nimport keras\n"
        "class L(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        "        y = tf.nn.batch_normalization(x, np.zeros(4), v, 0.2, 1.5, 1e-3)\n"
        "        return tf.nn.batch_normalization(y, m, v, 0.2, 1.5, 1e-3)\n"
    )
    settings = Settings(select=("KER201",))
    safe = fix(source, "a.py", settings).source
    assert safe.endswith(
        "        y = tf.nn.batch_normalization(x, np.zeros(4), v, 0.2, 1.5, 1e-3)\n"
        "        return (y - m) * keras.ops.rsqrt(v + 1e-3) * 1.5 + 0.2\n"
    )
    unsafe = fix(source, "a.py", settings, unsafe=True).source
    assert "        y = (x - np.zeros(4)) * keras.ops.rsqrt(v + 1e-3) * 1.5 + 0.2\n" in unsafe
    assert fix(unsafe, "a.py", settings, unsafe=True).source == unsafe


def test_arguments_past_the_shared_slots_go_by_keyword_or_get_no_fix():
    layer = LAYER
    fixed = fix(layer.format("tf.image.crop_to_bounding_box(x, 1, 2, 3, target_width=4)"), "t.py", OPS).source
    assert fixed == layer.format("keras.ops.image.crop_images(x, 1, 2, target_height=3, target_width=4)")
    (finding,) = lint(layer.format("tf.image.crop_to_bounding_box(x, 1, 2, 3, 4, 5)"), "t.py", OPS)
    assert finding.fix is None
    fixed = fix(layer.format("tf.math.reduce_euclidean_norm(x, [0, 1], keepdims=True)"), "t.py", OPS).source
    assert fixed == layer.format("keras.ops.norm(x, axis=(0, 1), keepdims=True)")


def test_literal_lists_become_tensors_where_keras_ops_reads_their_shape():
    fixed = fix(LAYER.format("tf.math.unsorted_segment_sum(x, segment_ids=[0, 1, 0], num_segments=2)"), "t.py", OPS).source
    assert fixed == LAYER.format("keras.ops.segment_sum(x, segment_ids=keras.ops.convert_to_tensor([0, 1, 0]), num_segments=2)")
    fixed = fix(LAYER.format("tf.scatter_nd([[0], [2]], [1.0, 2.0], [4])"), "t.py", OPS).source
    assert fixed == LAYER.format(
        "keras.ops.scatter(keras.ops.convert_to_tensor([[0], [2]]), keras.ops.convert_to_tensor([1.0, 2.0]), [4])"
    )
