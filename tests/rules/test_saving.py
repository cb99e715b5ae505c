"""Saving rules (KER3xx) on whole programs: the seed scenarios, how the rules' fixes combine,
and the real-world spellings they must stay quiet on."""

from __future__ import annotations

import libcst as cst

from kerasfix.rules import Settings, fix, lint

SAVING = Settings(select=("KER3",))

# The keras-io GPT example's block: no `**kwargs`, not registered. Keras 3 saves it, then
# `load_model` fails ("Could not locate class 'TransformerBlock'", and once registered
# "unexpected keyword argument 'trainable'").
TRANSFORMER_BLOCK = '''\
import keras
from keras import layers


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.embed_dim = embed_dim
        self.att = layers.MultiHeadAttention(num_heads, embed_dim)
        self.ffn = keras.Sequential([layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)])

    def call(self, inputs):
        return self.ffn(inputs + self.att(inputs, inputs))


model.save("gpt.keras")
restored = keras.models.load_model("gpt.keras")
'''

# What `kerasfix --fix` makes of it; checked to save and reload with equal predictions on
# Keras 3.15.1 (JAX).
TRANSFORMER_BLOCK_FIXED = TRANSFORMER_BLOCK.replace(
    "\n\nclass TransformerBlock", "\n\n@keras.saving.register_keras_serializable()\nclass TransformerBlock"
).replace(
    "rate=0.1):\n        super().__init__()", "rate=0.1, **kwargs):\n        super().__init__(**kwargs)"
)

# A subclassed model with dict inputs and `tf.where` on a boolean mask in `call()`, no
# `build()`: the reloaded model cannot be built from its build config and the optimizer state
# is dropped with only a warning.
MASKED_MODEL = '''\
import tensorflow as tf
from tensorflow import keras


@keras.saving.register_keras_serializable()
class SimpleModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.flatten = keras.layers.Flatten()
        self.dense = keras.layers.Dense(1)

    def call(self, input):
        masked_image = tf.where(input["mask"], input["image"], 0)
        return self.dense(self.flatten(masked_image))
'''


def codes(source: str, settings: Settings = SAVING) -> list[str]:
    return [f.code for f in lint(source, "model.py", settings)]


def test_transformer_block_seed_is_found_and_fixed_safely():
    findings = lint(TRANSFORMER_BLOCK, "model.py", SAVING)
    assert sorted(f.code for f in findings) == ["KER308", "KER309"]
    assert all(f.fix is not None and f.fix.is_safe for f in findings)
    result = fix(TRANSFORMER_BLOCK, "model.py", SAVING)
    assert result.source == TRANSFORMER_BLOCK_FIXED
    assert codes(result.source) == []


def test_masked_model_seed_reports_the_tf_where_only():
    findings = lint(MASKED_MODEL, "model.py", SAVING)
    assert [(f.code, f.start.line) for f in findings] == [("KER311", 12)]
    assert findings[0].fix is None
    with_build = MASKED_MODEL.replace(
        "    def call(self, input):",
        "    def build(self, input_shape):\n        self.flatten.build(input_shape['image'])\n\n    def call(self, input):",
    )
    assert codes(with_build) == []


def test_directory_save_with_save_format_becomes_one_keras_file():
    source = 'import keras\nmodel.save("exported", save_format="tf")\n'
    assert sorted(codes(source)) == ["KER301", "KER302"]
    # Safe fixes alone cannot drop `save_format` while the path has no extension.
    assert fix(source, "m.py", SAVING).source == source
    assert fix(source, "m.py", SAVING, unsafe=True).source == 'import keras\nmodel.save("exported.keras")\n'


def test_h5_save_format_is_kept_as_h5_by_the_directory_fix():
    source = "import keras\nmodel.save('old', save_format='h5')\n"
    paths_only = Settings(select=("KER301", "KER302"))
    assert fix(source, "m.py", paths_only, unsafe=True).source == "import keras\nmodel.save('old.h5')\n"
    # KER315 then moves the legacy `.h5` file to `.keras`, also as an unsafe fix.
    assert fix(source, "m.py", SAVING, unsafe=True).source == "import keras\nmodel.save('old.keras')\n"


def test_registration_and_kwargs_fixes_apply_together_on_crlf_sources():
    source = TRANSFORMER_BLOCK.replace("\n", "\r\n")
    result = fix(source, "model.py", SAVING).source
    assert result == TRANSFORMER_BLOCK_FIXED.replace("\n", "\r\n")


def test_shadowed_and_foreign_names_stay_quiet():
    source = '''\
import numpy as np
import torch
import keras

np.save("weights", array)
torch.save(state, "checkpoint")
image.save("thumbnail")


def export(keras, model):
    keras.models.save_model(model, "exported")
    keras.models.load_model("exported")
'''
    assert codes(source) == []


def test_every_fix_of_the_family_leaves_valid_python():
    program = TRANSFORMER_BLOCK + MASKED_MODEL.replace("import tensorflow as tf\n", "") + (
        'model.save_weights("w.h5")\n'
        'cb = keras.callbacks.ModelCheckpoint("best.h5", save_weights_only=True, period=2)\n'
        'x = keras.layers.Dense(4, name="a/b")(x)\n'
    )
    program = "import tensorflow as tf\n" + program
    result = fix(program, "model.py", SAVING, unsafe=True).source
    cst.parse_module(result)
    assert '"w.weights.h5"' in result and '"best.weights.h5"' in result and 'save_freq="epoch"' in result
    assert 'name="a_b"' in result
