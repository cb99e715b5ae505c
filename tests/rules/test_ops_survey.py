"""TensorFlow ops found by the survey of TensorFlow's public API against `keras.ops`, in layers
written as real projects write them: the rows that port them, and the catch-all (KER219) for
every `tf.*` call that no row covers, so that no TensorFlow op in model code passes silently."""

from __future__ import annotations

from kerasfix.rules import Settings, fix, lint

OPS = Settings(select=("KER2",), keras_version=(3, 0, 0))

ROI_HEAD = '''import tensorflow as tf
import keras


class RoiHead(keras.layers.Layer):
    """Pools features under boxes, as detection heads do."""

    def __init__(self, pool=7, **kwargs):
        super().__init__(**kwargs)
        self.pool = pool

    def build(self, input_shape):
        channels = input_shape[-1]
        self.mix = self.add_weight(shape=(channels, channels), initializer="identity")

    def call(self, features, boxes):
        gray = tf.image.rgb_to_grayscale(features[..., :3])
        crops = tf.image.crop_and_resize(features, boxes, tf.zeros([tf.shape(boxes)[0]], tf.int32), [self.pool, self.pool])
        pooled = tf.nn.max_pool2d(crops, ksize=2, strides=2, padding="SAME")
        mixed = tf.tensordot(pooled, tf.linalg.matrix_transpose(self.mix), axes=1)
        smooth = tf.nn.avg_pool(mixed, [1, 2, 2, 1], [1, 1, 1, 1], "VALID")
        return tf.image.flip_left_right(smooth), gray
'''


def _findings(source: str) -> list[tuple[str, str]]:
    return [(f.code, source[f.span.start : f.span.end]) for f in lint(source, "head.py", OPS)]


def test_a_detection_head_reports_every_tensorflow_op():
    found = _findings(ROI_HEAD)
    assert ("KER201", "tf.image.rgb_to_grayscale") in found
    assert ("KER219", "tf.image.crop_and_resize") in found
    assert ("KER201", "tf.nn.max_pool2d") in found
    assert ("KER201", "tf.tensordot") in found
    assert ("KER201", "tf.linalg.matrix_transpose") in found
    assert ("KER201", "tf.nn.avg_pool") in found
    assert ("KER201", "tf.image.flip_left_right") in found
    # Another rule's: the dtype object and the dynamic shape.
    assert ("KER224", "tf.int32") in found and ("KER218", "tf.shape") in found
    assert all(text.startswith("tf.") for _, text in found)


def test_the_fixed_head_still_shows_the_op_keras_ops_lacks():
    fixed = fix(ROI_HEAD, "head.py", OPS).source
    assert "gray = keras.ops.image.rgb_to_grayscale(features[..., :3])" in fixed
    assert 'pooled = keras.ops.max_pool(crops, pool_size=2, strides=2, padding="same")' in fixed
    assert "mixed = keras.ops.tensordot(pooled, keras.ops.swapaxes(self.mix, axis1=-1, axis2=-2), axes=1)" in fixed
    assert 'smooth = keras.ops.average_pool(mixed, 2, 1, "valid")' in fixed
    assert "return keras.ops.flip(smooth, axis=-2), gray" in fixed
    left = _findings(fixed)
    assert [code for code, text in left if text == "tf.image.crop_and_resize"] == ["KER219"]
    assert all(not text.startswith(("tf.nn", "tf.tensordot", "tf.linalg")) for _, text in left)


def _layer(body: str) -> str:
    return (
        "import tensorflow as tf\nimport keras\n\n"
        "class Block(keras.layers.Layer):\n"
        "    def call(self, x):\n"
        f"        {body}\n"
    )


def test_a_half_ported_expression_keeps_a_finding_on_the_rest():
    source = _layer("return tf.tanh(tf.linalg.expm(tf.tensordot(x, x, axes=1)))")
    fixed = fix(source, "t.py", OPS).source
    assert fixed == _layer("return keras.ops.tanh(tf.linalg.expm(keras.ops.tensordot(x, x, axes=1)))")
    assert _findings(fixed) == [("KER219", "tf.linalg.expm")]


def test_an_op_the_table_has_never_heard_of():
    assert _findings(_layer("return tf.foo(x) + tf.math.polyval([1.0, 2.0], x)")) == [
        ("KER219", "tf.foo"),
        ("KER219", "tf.math.polyval"),
    ]


def test_checks_on_values_and_random_ops_get_their_own_advice():
    source = _layer("tf.debugging.assert_rank(x, 3)\n        return tf.random.stateless_normal((2,), seed=(1, 2))")
    notes = {source[f.span.start : f.span.end]: f.note for f in lint(source, "t.py", OPS)}
    assert "drop the check" in notes["tf.debugging.assert_rank"]
    assert "keras.random" in notes["tf.random.stateless_normal"]


def test_what_runs_on_every_backend_or_is_another_rules_is_not_the_catch_alls():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "class Block(keras.layers.Layer):\n"
        "    def __init__(self):\n"
        "        super().__init__()\n"
        "        self.w = tf.Variable(tf.constant_initializer(1.0)((2,)))\n"
        "        self.step = tf.function(self.call)\n\n"
        "    @tf.function(reduce_retracing=True)\n"
        "    def call(self, x):\n"
        "        with tf.name_scope('block'), tf.device('/cpu:0'), tf.control_dependencies([]):\n"
        "            tf.print('x', x)\n"
        "            if tf.executing_eagerly() and tf.get_static_value(x) is None:\n"
        "                x = x[:, tf.newaxis]\n"
        "            noise = tf.random.normal((2,))\n"
        "            flat = tf.nest.flatten([x])\n"
        "            spec = tf.TensorShape([None, 2])\n"
        "            kind = tf.as_dtype('float32')\n"
        "            ds = tf.data.Dataset.from_tensors(x)\n"
        "            return tf.keras.activations.relu(x) + noise\n"
    )
    assert lint(source, "t.py", Settings(select=("KER219",))) == []


def test_module_functions_wait_for_lambda_and_compile():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "def warp(t):\n    return tf.linalg.expm(t)\n\n"
        "def offline(t):\n    return tf.linalg.expm(t)\n\n"
        "def huber_like(a, b):\n    return tf.math.squared_difference(a, b)\n\n"
        "layer = keras.layers.Lambda(warp)\n"
        "model = keras.Sequential([layer])\n"
        "model.compile(loss=huber_like)\n"
    )
    found = [(f.code, f.span.start) for f in lint(source, "t.py", Settings(select=("KER219",)))]
    expm = source.index("tf.linalg.expm")
    assert found == [("KER219", expm), ("KER219", source.index("tf.math.squared_difference"))]


def test_tf_data_pipelines_and_scripts_are_not_model_code():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "def augment(image):\n    return tf.image.random_flip_left_right(tf.image.adjust_brightness(image, 0.1))\n\n"
        "ds = tf.data.Dataset.from_tensor_slices([]).map(augment)\n"
        "m = tf.linalg.expm(tf.eye(2))\n"
    )
    assert lint(source, "t.py", Settings(select=("KER219",))) == []


def test_crop_and_pad_to_bounding_box_pass_the_box_by_keyword():
    source = _layer("return tf.image.pad_to_bounding_box(tf.image.crop_to_bounding_box(x, 2, 1, h, w), 0, 0, 32, 32)")
    fixed = fix(source, "t.py", OPS).source
    assert fixed == _layer(
        "return keras.ops.image.pad_images(keras.ops.image.crop_images(x, 2, 1, target_height=h, "
        "target_width=w), 0, 0, target_height=32, target_width=32)"
    )


def test_average_pooling_with_same_padding_is_an_unsafe_rewrite():
    source = _layer('return tf.nn.avg_pool2d(x, 3, 2, "SAME") + tf.nn.max_pool2d(x, 3, 2, "SAME")')
    safe = fix(source, "t.py", OPS).source
    assert safe == _layer('return tf.nn.avg_pool2d(x, 3, 2, "SAME") + keras.ops.max_pool(x, 3, 2, "same")')
    unsafe = fix(source, "t.py", OPS, unsafe=True).source
    assert unsafe == _layer('return keras.ops.average_pool(x, 3, 2, "same") + keras.ops.max_pool(x, 3, 2, "same")')


def test_pools_with_an_unknown_padding_or_layout_get_no_fix():
    for call in ("tf.nn.max_pool2d(x, 2, 2, pad)", 'tf.nn.max_pool2d(x, 2, 2, "VALID", data_format="NCHW")',
                 'tf.nn.max_pool2d(x, [1, 2, 2, 2], 2, "VALID")'):
        (finding,) = lint(_layer(f"return {call}"), "t.py", OPS)
        assert finding.code == "KER201" and finding.fix is None, call


def test_slice_with_a_size_to_the_end_is_unsafe():
    source = _layer("return tf.slice(x, [0, 1], [-1, 2]) + tf.slice(x, [0, 0], [2, 2]) + tf.slice(x, b, s)")
    safe = fix(source, "t.py", OPS).source
    assert safe == _layer("return tf.slice(x, [0, 1], [-1, 2]) + keras.ops.slice(x, [0, 0], [2, 2]) + tf.slice(x, b, s)")
    unsafe = fix(source, "t.py", OPS, unsafe=True).source
    assert unsafe.count("keras.ops.slice(") == 3


def test_norm_axes_become_a_tuple():
    source = _layer("return tf.math.reduce_euclidean_norm(x, axis=[1]) + tf.math.reduce_euclidean_norm(x, -1)")
    assert fix(source, "t.py", OPS).source == _layer(
        "return keras.ops.norm(x, axis=(1,)) + keras.ops.norm(x, axis=-1)"
    )


def test_tensor_shape_of_a_traced_tensor_in_call():
    source = (
        "import tensorflow as tf\nimport keras\n\n"
        "class Block(keras.layers.Layer):\n"
        "    def build(self, input_shape):\n"
        "        self.units = tf.TensorShape(input_shape)[-1]\n\n"
        "    def call(self, x):\n"
        "        fixed = tf.TensorShape([None, 4])\n"
        "        return x if tf.TensorShape(x.shape).rank == 2 else x\n"
    )
    found = lint(source, "t.py", Settings(select=("KER219",)))
    assert [source[f.span.start : f.span.end] for f in found] == ["tf.TensorShape"]
    assert found[0].span.start == source.index("tf.TensorShape(x.shape)")


PAIRWISE = '''import tensorflow as tf
import keras
from keras import ops


class PairwiseDistance(keras.layers.Layer):
    """Distances between every pair of points of a set."""

    def call(self, points):
        diff = points[:, :, tf.newaxis, :] - points[:, tf.newaxis, :, :]
        return ops.sqrt(ops.sum(tf.square(diff), axis=-1) + 1e-9)
'''


def test_newaxis_is_reported_and_once_fixed_tensorflow_is_no_longer_imported():
    found = [(f.code, PAIRWISE[f.span.start : f.span.end]) for f in lint(PAIRWISE, "t.py", Settings(select=("KER228",)))]
    assert found == [("KER228", "tf.newaxis"), ("KER228", "tf.newaxis")]
    # The ops and the import (the layer's registration, KER308, is another matter).
    port = Settings(select=("KER2", "KER107"))
    fixed = fix(PAIRWISE, "t.py", port).source
    assert fixed == (
        "import keras\nfrom keras import ops\n\n\n"
        "class PairwiseDistance(keras.layers.Layer):\n"
        '    """Distances between every pair of points of a set."""\n\n'
        "    def call(self, points):\n"
        "        diff = points[:, :, None, :] - points[:, None, :, :]\n"
        "        return ops.sqrt(ops.sum(ops.square(diff), axis=-1) + 1e-9)\n"
    )
    assert fix(fixed, "t.py", port).source == fixed
    assert lint(fixed, "t.py", port) == []
