"""The removed-API rules (KER6xx): argument edge cases and their interplay with the import
rules."""

from __future__ import annotations

import pytest

from kerasfix.rules import Settings, fix, lint


def fixed(source: str, *codes: str, unsafe: bool = False) -> str:
    return fix(source, "a.py", Settings(select=codes or ("KER1", "KER6")), unsafe=unsafe).source


def codes(source: str) -> list[str]:
    return [f.code for f in lint(source, "a.py", Settings(select=("KER1", "KER6")))]


@pytest.mark.parametrize(
    "theta, fixable",
    [("0", True), ("0.0", True), ("2.5", True), ("1e-3", True), ("-0.5", False), ("t", False), ("0.5 * 2", False)],
)
def test_thresholded_relu_is_fixed_only_for_non_negative_literals(theta, fixable):
    source = f"import keras\nact = keras.layers.ThresholdedReLU(theta={theta})\n"
    findings = lint(source, "a.py", Settings(select=("KER608",)))
    assert len(findings) == 1
    assert (findings[0].fix is not None) is fixable
    if fixable:
        assert fixed(source, "KER608") == f"import keras\nact = keras.layers.ReLU(threshold={theta})\n"


def test_a_positional_theta_becomes_a_keyword():
    # ReLU's first parameter is max_value: a positional theta would cap the output instead.
    source = "import keras\nact = keras.layers.ThresholdedReLU(0.5, name='t')\n"
    assert fixed(source, "KER608") == "import keras\nact = keras.layers.ReLU(threshold=0.5, name='t')\n"


def test_sync_batch_normalization_keeps_its_arguments_and_needs_unsafe():
    source = "import tensorflow as tf\nbn = tf.keras.layers.experimental.SyncBatchNormalization(momentum=0.9)\n"
    assert fixed(source, "KER608") == source
    # With every rule: the TensorFlow import, left without a use, goes too (KER107's fix).
    assert fixed(source, unsafe=True) == (
        "import keras\nbn = keras.layers.BatchNormalization(momentum=0.9, synchronized=True)\n"
    )


def test_removed_layer_callee_is_reported_once():
    source = "import keras\nact = keras.layers.ThresholdedReLU(theta=0.5)\n"
    assert codes(source) == ["KER608"]


def test_decay_with_lr_is_fixed_together_with_the_lr_rename():
    source = "import keras\nopt = keras.optimizers.SGD(lr=0.1, decay=0.01, momentum=0.9)\n"
    assert fixed(source, unsafe=True) == (
        "import keras\nopt = keras.optimizers.SGD(learning_rate="
        "keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.01), momentum=0.9)\n"
    )


def test_decay_next_to_a_schedule_is_not_rewritten():
    source = "import keras\nopt = keras.optimizers.SGD(learning_rate=keras.optimizers.schedules.ExponentialDecay(0.1, 10, 0.9), decay=0.01)\n"
    findings = lint(source, "a.py", Settings(select=("KER602",)))
    assert len(findings) == 1 and findings[0].fix is None


def test_reduction_members_and_auto():
    source = (
        "import tensorflow as tf\n"
        "a = tf.keras.losses.Huber(reduction=tf.keras.losses.Reduction.SUM_OVER_BATCH_SIZE)\n"
        'b = tf.keras.losses.Huber(reduction="AUTO")\n'
    )
    assert fixed(source, "KER606") == (
        "import tensorflow as tf\n"
        'a = tf.keras.losses.Huber(reduction="sum_over_batch_size")\n'
        'b = tf.keras.losses.Huber(reduction="sum_over_batch_size")\n'
    )


def test_aliases_and_tf_keras_prefix_are_fixed_in_two_passes():
    source = "import tensorflow as tf\nf = tf.keras.losses.MAE\n"
    assert fixed(source) == "import keras\nf = keras.losses.mean_absolute_error\n"


def test_image_data_generator_import_blocks_the_tf_keras_rewrite():
    source = "from tensorflow.keras.preprocessing.image import ImageDataGenerator, load_img\n"
    assert sorted(codes(source)) == ["KER101", "KER603"]
    assert fixed(source, unsafe=True) == source


def test_pad_sequences_moves_with_the_tf_keras_rewrite():
    source = "from tensorflow.keras.preprocessing.sequence import pad_sequences\n"
    assert fixed(source) == "from keras.preprocessing.sequence import pad_sequences\n"


def test_timeseries_generator_next_to_pad_sequences_stays():
    source = "from tensorflow.keras.preprocessing.sequence import pad_sequences, TimeseriesGenerator\n"
    assert sorted(codes(source)) == ["KER101", "KER605"]
    assert fixed(source, unsafe=True) == source


def test_shadowed_names_are_not_keras():
    source = (
        "def train(tf, keras, layers):\n"
        "    a = tf.keras.layers.ThresholdedReLU(theta=0.5)\n"
        "    b = keras.losses.Reduction.NONE\n"
        "    c = layers.CuDNNLSTM(3)\n"
        "    return keras.optimizers.SGD(decay=0.1)\n"
    )
    assert codes(source) == []


def test_radial_constraint_is_reported_under_every_spelling():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        "from keras import constraints, layers\n"
        "from tensorflow.keras.constraints import RadialConstraint, MaxNorm\n"
        "\n"
        "def conv_block(x, filters):\n"
        "    x = layers.Conv2D(filters, 3, kernel_constraint=constraints.RadialConstraint())(x)\n"
        "    x = layers.Conv2D(filters, 3, kernel_constraint=tf.keras.constraints.radial_constraint())(x)\n"
        "    x = layers.Dense(filters, kernel_constraint=keras.constraints.RadialConstraint())(x)\n"
        "    return layers.Dense(filters, kernel_constraint=MaxNorm(2.0))(x)\n"
    )
    findings = [f for f in lint(source, "a.py", Settings()) if f.code == "KER608"]
    # 0-based lines: the import, and the three uses; MaxNorm is Keras 3's.
    assert [f.span.start_pos.line for f in findings] == [3, 6, 7, 8]
    assert all(f.fix is None for f in findings)
