"""Saving rules (KER3xx) on whole programs: the seed scenarios, how the rules' fixes combine,
and the real-world spellings they must stay quiet on."""

from __future__ import annotations

import libcst as cst

from kerasfix.rules import Settings, fix, lint

SAVING = Settings(select=("KER3",))

# The keras-io GPT example's block: no `**kwargs`, not registered. Keras 3 saves it, then
# `load_model` fails ("Could not locate class 'TransformerBlock'", and once registered
# "unexpected keyword argument 'name'").
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
    # The unsafe fix saves the input dtypes with the build config (tests/rules/test_build_state.py).
    assert findings[0].fix is not None and not findings[0].fix.is_safe
    with_build = MASKED_MODEL.replace(
        "    def call(self, input):",
        "    def build(self, input_shape):\n        self.flatten.build(input_shape['image'])\n\n    def call(self, input):",
    )
    assert codes(with_build) == []



def test_masked_model_is_reported_for_the_tensorflow_backend_only():
    # On PyTorch the model reloads whole; on JAX the TensorFlow op already fails in fit (KER201).
    def found(*backends: str) -> list[str]:
        return codes(MASKED_MODEL, Settings(select=("KER311",), target_backends=frozenset(backends)))

    assert found("tensorflow") == ["KER311"]
    assert found("jax", "torch") == []

def test_directory_save_with_save_format_becomes_one_keras_file():
    source = 'import keras\nmodel.save("exported", save_format="tf")\n'
    # One finding: KER301's fix gives the path its extension and drops `save_format` with it.
    assert sorted(codes(source)) == ["KER301"]
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


# ----- a renamed save path renames the loads of the same path --------------------------------


def fixed(source: str, settings: Settings = SAVING) -> str:
    """The unsafe fix of `source`, checked to parse and to be final."""
    result = fix(source, "m.py", settings, unsafe=True).source
    cst.parse_module(result)
    assert fix(result, "m.py", settings, unsafe=True).source == result
    return result


def test_directory_save_and_its_load_are_renamed_together():
    source = (
        "import keras\n"
        'model.save("trained_model")\n'
        'restored = keras.models.load_model("trained_model")\n'
    )
    findings = lint(source, "m.py", SAVING)
    assert [(f.code, f.fix.title if f.fix else None) for f in findings] == [
        ("KER301", "Save to a `.keras` file"),
        ("KER303", "Load `trained_model.keras`"),
    ]
    assert all(not f.fix.is_safe for f in findings)
    assert fixed(source) == (
        "import keras\n"
        'model.save("trained_model.keras")\n'
        'restored = keras.models.load_model("trained_model.keras")\n'
    )


def test_a_load_before_the_save_is_renamed_and_says_why():
    source = (
        "import keras\n"
        "if resume:\n"
        "    model = keras.models.load_model('ckpt/model')\n"
        "model.save('ckpt/model')\n"
    )
    load = lint(source, "m.py", SAVING)[0]
    assert load.code == "KER303" and "before the save" in load.note
    assert fixed(source) == source.replace("'ckpt/model'", "'ckpt/model.keras'")


def test_a_path_set_once_through_a_name_is_renamed_where_it_is_set():
    source = (
        "import keras\n"
        'MODEL_DIR = "exported"\n'
        "\n"
        "def train(model):\n"
        "    model.save(MODEL_DIR)\n"
        "\n"
        "def serve():\n"
        "    return keras.models.load_model(MODEL_DIR)\n"
    )
    findings = lint(source, "m.py", SAVING)
    assert [(f.code, f.span.start_pos.line, f.fix is not None) for f in findings] == [
        ("KER301", 1, True),
        ("KER301", 4, False),
        ("KER303", 7, False),
    ]
    assert fixed(source) == source.replace('"exported"', '"exported.keras"')


def test_a_name_set_twice_is_not_the_same_path():
    source = (
        "import keras\n"
        'path = "a"\n'
        'path = "b"\n'
        'model.save("a")\n'
        "m = keras.models.load_model(path)\n"
    )
    assert fixed(source) == source.replace('model.save("a")', 'model.save("a.keras")')


def test_a_path_the_file_also_uses_as_a_savedmodel_is_not_renamed():
    source = (
        "import keras\n"
        "import tensorflow as tf\n"
        'model.save("exported")\n'
        'serving = tf.saved_model.load("exported")\n'
        'again = keras.models.load_model("exported")\n'
    )
    save, load = lint(source, "m.py", SAVING)
    assert save.code == "KER301" and save.fix is None and "model.export()" in save.note
    assert load.code == "KER303" and load.fix is None
    assert fixed(source) == source


def test_fstrings_and_joins_are_the_same_path_only_through_the_same_bindings():
    source = (
        "import os\n"
        "import keras\n"
        "\n"
        "def run(root):\n"
        '    model.save(f"{root}/model")\n'
        '    a = keras.models.load_model(f"{root}/model")\n'
        '    model.save(os.path.join(root, "best"))\n'
        '    b = keras.models.load_model(os.path.join(root, "best"))\n'
        "\n"
        "def other(root):\n"
        '    return keras.models.load_model(f"{root}/model")\n'
    )
    assert fixed(source) == (
        "import os\n"
        "import keras\n"
        "\n"
        "def run(root):\n"
        '    model.save(f"{root}/model.keras")\n'
        '    a = keras.models.load_model(f"{root}/model.keras")\n'
        '    model.save(os.path.join(root, "best.keras"))\n'
        '    b = keras.models.load_model(os.path.join(root, "best.keras"))\n'
        "\n"
        "def other(root):\n"
        '    return keras.models.load_model(f"{root}/model")\n'
    )


def test_two_new_names_for_one_path_leave_it_alone():
    source = (
        "import keras\n"
        'model.save("a")\n'
        'model.save("a", save_format="h5")\n'
        'm = keras.models.load_model("a")\n'
    )
    assert all(f.fix is None for f in lint(source, "m.py", SAVING))
    assert fixed(source) == source


def test_a_load_follows_a_save_already_renamed():
    source = 'import keras\nmodel.save("m.keras")\nm = keras.models.load_model("m")\n'
    assert fixed(source) == 'import keras\nmodel.save("m.keras")\nm = keras.models.load_model("m.keras")\n'


def test_the_load_keeps_its_path_when_the_saves_rule_is_off():
    source = 'import keras\nmodel.save("m")\nm = keras.models.load_model("m")\n'
    only_loads = Settings(select=("KER303",))
    (load,) = lint(source, "m.py", only_loads)
    assert load.fix is None and "Enable KER301" in load.note
    assert fixed(source, only_loads) == source


def test_weights_saved_under_a_legacy_name_are_loaded_under_the_new_one():
    source = (
        "import keras\n"
        "model.save_weights('weights.h5')\n"
        "fresh.load_weights('weights.h5')\n"
        "other.load_weights('pretrained.h5')\n"
    )
    assert [f.code for f in lint(source, "m.py", SAVING)] == ["KER304", "KER304"]
    assert fixed(source) == (
        "import keras\n"
        "model.save_weights('weights.weights.h5')\n"
        "fresh.load_weights('weights.weights.h5')\n"
        "other.load_weights('pretrained.h5')\n"
    )


def test_legacy_h5_and_checkpoint_paths_rename_their_loads():
    source = (
        "import keras\n"
        'model.save("model.h5")\n'
        'm = keras.models.load_model("model.h5")\n'
        'cb = keras.callbacks.ModelCheckpoint("best.h5", save_weights_only=True)\n'
        'model.load_weights("best.h5")\n'
    )
    assert [f.code for f in lint(source, "m.py", SAVING)] == ["KER315", "KER315", "KER305", "KER305"]
    assert fixed(source) == (
        "import keras\n"
        'model.save("model.keras")\n'
        'm = keras.models.load_model("model.keras")\n'
        'cb = keras.callbacks.ModelCheckpoint("best.weights.h5", save_weights_only=True)\n'
        'model.load_weights("best.weights.h5")\n'
    )


def test_owner_of_a_variable_comes_from_its_path():
    source = (
        "import keras\n"
        'owners = [w.name.split("/")[0] for w in model.weights]\n'
        'parts = w.name.split("/")\n'
        'if w.name == "dense/kernel:0":\n'
        "    pass\n"
    )
    assert [(f.code, f.fix is not None) for f in lint(source, "m.py", SAVING)] == [
        ("KER314", True),
        ("KER314", False),
        ("KER314", False),
    ]
    assert fixed(source) == source.replace('w.name.split("/")[0]', 'w.path.split("/")[-2]')


# ----- directories made at run time ----------------------------------------------------------


def test_a_temporary_directory_saved_and_loaded_moves_to_one_file_in_it():
    source = (
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    model.save(tmp)\n"
        "    restored = keras.models.load_model(tmp)\n"
    )
    findings = lint(source, "m.py", SAVING)
    assert [(f.code, f.fix.title) for f in findings] == [
        ("KER301", "Save to `model.keras` in `tmp`"),
        ("KER303", "Load `model.keras` in `tmp`"),
    ]
    assert all(not f.fix.is_safe for f in findings)
    assert all("`tmp` is a directory: `with tempfile.TemporaryDirectory() as tmp`" in f.note for f in findings)
    assert fixed(source) == (
        "import tempfile\n"
        "import keras\n"
        "import os\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        '    model.save(os.path.join(tmp, "model.keras"))\n'
        '    restored = keras.models.load_model(os.path.join(tmp, "model.keras"))\n'
    )


def test_mkdtemp_and_temporary_directory_name_are_directories_too():
    source = (
        "import os\n"
        "import tempfile\n"
        "import keras\n"
        "\n"
        "def copy(model, fresh):\n"
        "    d = tempfile.mkdtemp()\n"
        "    model.save_weights(d)\n"
        "    fresh.load_weights(d)\n"
        "    holder = tempfile.TemporaryDirectory()\n"
        "    model.save(holder.name, save_format='h5')\n"
        "    return keras.models.load_model(holder.name)\n"
    )
    findings = lint(source, "m.py", SAVING)
    assert [(f.code, f.fix is not None) for f in findings] == [
        ("KER304", True),
        ("KER304", True),
        ("KER301", True),
        ("KER303", True),
    ]
    assert "`d` is a directory: `tempfile.mkdtemp()` makes one" in findings[0].note
    assert "`holder.name` is a directory: the name of the one `tempfile.TemporaryDirectory()` makes" in findings[2].note
    # `save_format="h5"` first saves `model.h5` in the directory (the fix drops the argument:
    # the extension decides); KER315 then moves it to `.keras`.
    assert fixed(source) == (
        "import os\n"
        "import tempfile\n"
        "import keras\n"
        "\n"
        "def copy(model, fresh):\n"
        "    d = tempfile.mkdtemp()\n"
        '    model.save_weights(os.path.join(d, "model.weights.h5"))\n'
        '    fresh.load_weights(os.path.join(d, "model.weights.h5"))\n'
        "    holder = tempfile.TemporaryDirectory()\n"
        '    model.save(os.path.join(holder.name, "model.keras"))\n'
        '    return keras.models.load_model(os.path.join(holder.name, "model.keras"))\n'
    )


# scikeras 0.12's `_saving_utils.py`: the directory a context manager of the module yields,
# filled and read by other code (a tar archive) in another function.
SCIKERAS_TEMP_FOLDER = '''\
import os
import shutil
import tempfile
from contextlib import contextmanager
from uuid import uuid4

from tensorflow import io as tf_io
from tensorflow.keras.models import load_model


@contextmanager
def _get_temp_folder():
    if os.name == "nt":
        tmp_dir = tempfile.mkdtemp()
        try:
            yield tmp_dir
        finally:
            shutil.rmtree(tmp_dir, ignore_errors=True)
    else:
        temp_dir = f"ram://{uuid4().hex}"
        try:
            yield temp_dir
        finally:
            tf_io.gfile.rmtree(temp_dir)


def unpack_keras_model(packed):
    with _get_temp_folder() as temp_dir:
        extract(packed, temp_dir)
        model = load_model(temp_dir)
        model.load_weights(temp_dir)
        return model


def pack_keras_model(model):
    with _get_temp_folder() as temp_dir:
        model.save(temp_dir)
        return archive(temp_dir)
'''


def test_a_context_manager_yielding_directories_is_followed_without_a_fix():
    findings = lint(SCIKERAS_TEMP_FOLDER, "m.py", SAVING)
    lines = SCIKERAS_TEMP_FOLDER.splitlines()
    assert [(f.code, lines[f.span.start_pos.line].strip(), f.fix) for f in findings] == [
        ("KER303", "model = load_model(temp_dir)", None),
        ("KER304", "model.load_weights(temp_dir)", None),
        ("KER301", "model.save(temp_dir)", None),
    ]
    for finding in findings:
        assert "`temp_dir` is a directory: every value the context manager `_get_temp_folder()` yields is one" in finding.note
    assert 'os.path.join(temp_dir, "model.keras")' in findings[0].note
    assert 'os.path.join(temp_dir, "model.weights.h5")' in findings[1].note
    assert "No load in this file reads the directory" in findings[2].note
    assert fixed(SCIKERAS_TEMP_FOLDER) == SCIKERAS_TEMP_FOLDER


def test_a_context_manager_that_may_yield_a_file_is_not_a_directory():
    source = (
        "import tempfile\n"
        "from contextlib import contextmanager\n"
        "import keras\n"
        "\n"
        "@contextmanager\n"
        "def target(big):\n"
        "    if big:\n"
        "        yield tempfile.mkdtemp()\n"
        "    else:\n"
        '        yield "out/model.h5"\n'
        "\n"
        "@contextmanager\n"
        "def named(folder):\n"
        '    yield f"{folder}"\n'
        "\n"
        "def nested():\n"
        "    def inner():\n"
        "        yield tempfile.mkdtemp()\n"
        "    return inner\n"
        "\n"
        "with target(True) as a, named(x) as b, nested() as c:\n"
        "    model.save(a)\n"
        "    model.save(b)\n"
        "    model.save(c)\n"
    )
    assert codes(source) == []


def test_a_directory_load_before_its_save_and_a_call_each_time_keep_their_paths():
    source = (
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    old = keras.models.load_model(d)\n"
        "    model.save(d)\n"
        "model.save(tempfile.gettempdir())\n"
        "again = keras.models.load_model(tempfile.gettempdir())\n"
    )
    findings = lint(source, "m.py", SAVING)
    assert [f.code for f in findings] == ["KER303", "KER301", "KER301", "KER303"]
    assert all(f.fix is None for f in findings)
    assert "comes before its save" in findings[0].note and "comes before its save" in findings[1].note
    assert "given by a call" in findings[2].note
    assert fixed(source) == source


def test_a_directory_save_is_moved_only_with_its_loads():
    source = (
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as tmp:\n"
        "    model.save(tmp)\n"
        "    restored = keras.models.load_model(tmp)\n"
    )
    only_saves = Settings(select=("KER301",))
    (save,) = lint(source, "m.py", only_saves)
    assert save.fix is None and "Enable KER303" in save.note
    assert fixed(source, only_saves) == source
    # A save already moved into the directory (one fix applied at a time): the load follows.
    moved = source.replace("model.save(tmp)", 'model.save(os.path.join(tmp, "model.keras"))')
    moved = "import os\n" + moved
    (load,) = lint(moved, "m.py", SAVING)
    assert load.code == "KER303" and load.fix.title == "Load `model.keras` in `tmp`"
    assert fixed(moved) == moved.replace("load_model(tmp)", 'load_model(os.path.join(tmp, "model.keras"))')


def test_a_directory_path_uses_an_fstring_where_os_is_another_name():
    source = (
        "import tempfile\n"
        "import keras\n"
        "\n"
        "def copy(model, fresh, os):\n"
        "    with tempfile.TemporaryDirectory() as tmp:\n"
        "        model.save_weights(tmp)\n"
        "        fresh.load_weights(tmp)\n"
    )
    assert fixed(source) == source.replace(
        "save_weights(tmp)", 'save_weights(f"{tmp}/model.weights.h5")'
    ).replace("load_weights(tmp)", 'load_weights(f"{tmp}/model.weights.h5")')


def test_paths_built_from_a_directory_are_file_names():
    source = (
        "import os\n"
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        '    model.save(os.path.join(d, "model"))\n'
        '    model.save_weights(f"{d}/w.h5")\n'
        '    model.save(d + "/best")\n'
    )
    assert fixed(source) == (
        "import os\n"
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        '    model.save(os.path.join(d, "model.keras"))\n'
        '    model.save_weights(f"{d}/w.weights.h5")\n'
        '    model.save(d + "/best.keras")\n'
    )


def test_directories_given_to_savedmodel_apis_or_holding_files_stay_quiet():
    source = (
        "import os\n"
        "import tempfile\n"
        "from pathlib import Path\n"
        "import numpy as np\n"
        "import keras\n"
        "import tensorflow as tf\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    model.export(d)\n"
        "    tf.saved_model.save(model, d)\n"
        "    served = tf.saved_model.load(d)\n"
        '    model.save(os.path.join(d, "m.keras"))\n'
        '    model.save(Path(d) / "m.keras")\n'
        '    np.save(os.path.join(d, "x.npy"), x)\n'
        "    image.save(d)\n"
        "orbax_dir = tempfile.mkdtemp()\n"
        "cb = keras.callbacks.OrbaxCheckpoint(orbax_dir)\n"
        "model.fit(x, y, callbacks=[cb])\n"
        "restored = keras.models.load_model(orbax_dir)\n"
        "model.load_weights(orbax_dir)\n"
    )
    assert codes(source) == []


def test_a_directory_the_file_also_uses_as_a_savedmodel_is_not_moved():
    source = (
        "import tempfile\n"
        "import keras\n"
        "with tempfile.TemporaryDirectory() as d:\n"
        "    model.save(d)\n"
        "    model.export(d)\n"
        "    restored = keras.models.load_model(d)\n"
    )
    save, load = lint(source, "m.py", SAVING)
    assert save.fix is None and "model.export()" in save.note
    assert load.fix is None
    assert fixed(source) == source
